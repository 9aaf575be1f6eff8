package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jstemmer/go-junit-report/v2/junit"

	"tejun/runbook/cli"
	tejunhost "tejun/runbook/host"
	"tejun/runbook/runbooktest"
	"tejun/transport"
	"tejun/transport/testbed"
)

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

const slowRunbook = `
[runbook]
name = "slow"
[[section]]
id = "s"
on = "n1"
title.en = "s"
[[section.step]]
id = "a"
kind = "command"
title.en = "a"
argv = ["touch", "/tmp/a"]
creates = "/tmp/a"
[[section.step]]
id = "b"
kind = "command"
title.en = "b"
argv = ["sh", "-c", "sleep 3; touch /tmp/b"]
creates = "/tmp/b"
[[section.step]]
id = "c"
kind = "command"
title.en = "c"
argv = ["touch", "/tmp/c"]
creates = "/tmp/c"
`

func TestRunLock(t *testing.T) {
	b := testbed.Start(t, "n1")
	h := b.Hosts[0]
	inv := inventoryFor(t, b, "", nil)
	rb := runbooktest.Write(t, "", "runbook.toml", slowRunbook)
	lock := h.Path(tejunhost.LockPath)

	var first string
	var firstCode int
	done := make(chan struct{})
	go func() {
		first, _, firstCode = run(t, "run", rb, "-i", inv)
		close(done)
	}()
	waitFor(t, "the first run's lock", func() bool { _, err := os.Stat(lock); return err == nil })
	out, _, code := run(t, "run", rb, "-i", inv)
	if code != cli.ExitLocked || !strings.Contains(out, "locked by another run") || !strings.Contains(out, "slow") {
		t.Fatalf("second run: exit %d\n%s", code, out)
	}
	<-done
	if firstCode != 0 {
		t.Fatalf("first run: exit %d\n%s", firstCode, first)
	}
	if _, err := os.Stat(lock); err == nil {
		t.Fatal("the lock was left behind")
	}

	plant := func(runID string, age time.Duration) {
		os.MkdirAll(lock, 0o700)
		info := filepath.Join(lock, "info")
		os.WriteFile(info, []byte(`{"run_id":"`+runID+`","user":"x","machine":"elsewhere","pid":1}`+"\n"), 0o600)
		old := time.Now().Add(-age)
		os.Chtimes(info, old, old)
	}
	// A lock whose heartbeat stopped long ago is taken over.
	plant("dead", time.Minute)
	if out, _, code := run(t, "run", rb, "-i", inv); code != 0 {
		t.Fatalf("stale lock: exit %d\n%s", code, out)
	}
	// A live-looking one needs --force-unlock, and the refusal names its holder.
	plant("other", 0)
	if out, _, code := run(t, "run", rb, "-i", inv); code != cli.ExitLocked || !strings.Contains(out, "x@elsewhere (pid 1, run other") {
		t.Fatalf("fresh foreign lock: exit %d\n%s", code, out)
	}
	if out, _, code := run(t, "run", rb, "-i", inv, "--force-unlock"); code != 0 {
		t.Fatalf("--force-unlock: exit %d\n%s", code, out)
	}
}

// What another local user could plant at the lock path neither bypasses
// the lock (a symlink to /dev/null "creates" it for any shell noclobber)
// nor passes for a holder; neither does a lock directory others may write.
func TestRunLockUntrusted(t *testing.T) {
	b := testbed.Start(t, "n1")
	h := b.Hosts[0]
	inv := inventoryFor(t, b, "", nil)
	rb := runbooktest.Write(t, "", "runbook.toml", slowRunbook)
	lock := h.Path(tejunhost.LockPath)
	dir := filepath.Dir(lock)
	for _, tc := range []struct {
		name  string
		plant func()
		want  string
	}{
		{"symlink", func() { os.Symlink("/dev/null", lock) }, "not a lock tejun made"},
		{"plain file", func() { os.WriteFile(lock, nil, 0o644) }, "not a lock tejun made"},
		{"someone else's", func() { os.Mkdir(lock, 0o700); os.Chown(lock, 1701, 1701) }, "belongs to uid 1701"},
		{"open directory", func() { os.Chmod(dir, 0o777) }, "writable by others"},
	} {
		os.RemoveAll(dir)
		os.Mkdir(dir, 0o700)
		tc.plant()
		out, _, code := run(t, "run", rb, "-i", inv)
		if code != cli.ExitLocked || !strings.Contains(out, tc.want) {
			t.Errorf("%s: exit %d\n%s", tc.name, code, out)
		}
		if _, err := os.Stat(h.Path("/tmp/a")); err == nil {
			t.Fatalf("%s: the run changed the host", tc.name)
		}
	}
}

// Every host's lock is taken before the first change: a run refused at
// its second host must not have changed the first. Two inventory names
// for one machine share its lock instead of refusing each other.
func TestRunLocksAllHostsFirst(t *testing.T) {
	b := testbed.Start(t, "n1", "n2")
	n1, n2 := b.Hosts[0], b.Hosts[1]
	alias := fmt.Sprintf("[hosts.n1again]\naddress = %q\nport = %d\nroles = [\"nodes\"]\n", n1.Address, n1.Port)
	inv := inventoryFor(t, b, alias, nil)
	rb := runbooktest.Write(t, "", "runbook.toml", `
[runbook]
name = "pair"
[[section]]
id = "first"
on = "n1"
title.en = "first"
[[section.step]]
id = "one"
kind = "command"
title.en = "one"
argv = ["touch", "/tmp/one"]
[[section]]
id = "second"
on = "n2"
title.en = "second"
[[section.step]]
id = "two"
kind = "command"
title.en = "two"
argv = ["touch", "/tmp/two"]
[[section]]
id = "all"
on = "nodes"
title.en = "all"
[[section.step]]
id = "three"
kind = "command"
title.en = "three"
argv = ["sh", "-c", "echo x >> /tmp/three"]
`)
	lock := n2.Path(tejunhost.LockPath)
	os.MkdirAll(lock, 0o700)
	os.WriteFile(filepath.Join(lock, "info"), []byte(`{"run_id":"other","user":"y","machine":"m","pid":2}`+"\n"), 0o600)
	out, _, code := run(t, "run", rb, "-i", inv)
	if code != cli.ExitLocked || !strings.Contains(out, "locked by another run") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if _, err := os.Stat(n1.Path("/tmp/one")); err == nil {
		t.Fatalf("n1 was changed before n2's lock was refused\n%s", out)
	}
	os.RemoveAll(lock)
	out, _, code = run(t, "run", rb, "-i", inv)
	if code != 0 {
		t.Fatalf("two names for n1: exit %d\n%s", code, out)
	}
	if data, _ := os.ReadFile(n1.Path("/tmp/three")); string(data) != "x\nx\n" {
		t.Errorf("step three on n1 under both names: %q\n%s", data, out)
	}
	for _, h := range []*testbed.Host{n1, n2} {
		if _, err := os.Stat(h.Path(tejunhost.LockPath)); err == nil {
			t.Errorf("%s: the lock was left behind", h.Name)
		}
	}
}

// sshd dies mid-step: the step fails as a lost connection, the exit code
// says unreachable, the audit record is complete; once sshd is back,
// --resume finishes without redoing the finished step.
func TestResumeAfterSSHDKilled(t *testing.T) {
	b := testbed.Start(t, "n1")
	h := b.Hosts[0]
	inv := inventoryFor(t, b, "", nil)
	rb := runbooktest.Write(t, "", "runbook.toml", slowRunbook)
	var out string
	var code int
	done := make(chan struct{})
	go func() {
		out, _, code = run(t, "run", rb, "-i", inv)
		close(done)
	}()
	waitFor(t, "step a", func() bool { _, err := os.Stat(h.Path("/tmp/a")); return err == nil })
	time.Sleep(500 * time.Millisecond)
	h.Stop()
	<-done
	if code != cli.ExitUnreachable || !strings.Contains(out, "connection lost") || statuses(out)["c -"] != "skipped" {
		t.Fatalf("exit %d\n%s", code, out)
	}
	records, _ := filepath.Glob(filepath.Join(stateDir(t), "tejun", "runs", "*.jsonl"))
	if len(records) != 1 {
		t.Fatalf("audit records: %v", records)
	}
	data, _ := os.ReadFile(records[0])
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if !strings.Contains(lines[len(lines)-1], `"event":"run_end"`) || !strings.Contains(string(data), `"exit_code":3`) {
		t.Errorf("audit record incomplete:\n%s", data)
	}
	aBefore := mtimes(t, h.Path("/tmp/a"))

	if err := h.Restart(); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := run(t, "run", rb, "-i", inv, "--resume")
	if code != 0 || !strings.Contains(errOut, "resuming run") || !strings.Contains(errOut, "continuing at b") {
		t.Fatalf("resume: exit %d\n%s%s", code, out, errOut)
	}
	st := statuses(out)
	if st["a n1"] != "ok" || st["b n1"] != "changed" || st["c n1"] != "changed" {
		t.Errorf("resume statuses %v", st)
	}
	if fmt.Sprint(mtimes(t, h.Path("/tmp/a"))) != fmt.Sprint(aBefore) {
		t.Error("resume redid step a")
	}
	// A changed runbook is not resumed.
	os.WriteFile(rb, []byte(slowRunbook+"\n# changed\n"), 0o644)
	if _, errOut, code := run(t, "run", rb, "-i", inv, "--resume"); code != cli.ExitInvalid || !strings.Contains(errOut, "runbook changed") {
		t.Fatalf("resume after a change: exit %d %s", code, errOut)
	}
}

func TestEventsAndJUnit(t *testing.T) {
	b := testbed.Start(t, "n1", "n2")
	inv := inventoryFor(t, b, "", map[string]map[string]string{"n1": {"motd": "m"}, "n2": {"motd": "m"}})
	for _, h := range b.Hosts {
		h.Install(t, "testdata/stand-ins/systemctl")
	}
	junitFile := filepath.Join(t.TempDir(), "junit.xml")
	out, errOut, code := run(t, "run", "testdata/e2e/generic.toml", "-i", inv, "--yes", "--output", "json", "--junit", junitFile)
	if code != cli.ExitFailed && code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	required := map[string][]string{
		"run_start":  {"runbook", "runbook_sha256", "inventory", "inventory_sha256", "user", "machine"},
		"step_start": {"step", "label", "host"},
		"step_end":   {"step", "label", "status"},
		"command":    {"step", "host", "command", "exit_code", "duration_ms"},
		"run_end":    {"status", "exit_code", "counts", "duration_ms"},
	}
	var events []cli.Event
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		var e cli.Event
		if err := dec.Decode(&e); err != nil {
			t.Fatalf("not a v1 event: %v\n%s", err, sc.Text())
		}
		var raw map[string]any
		json.Unmarshal(sc.Bytes(), &raw)
		want, known := required[e.Event]
		if !known || e.Schema != cli.EventSchema || e.RunID == "" || e.Time == "" {
			t.Fatalf("bad event: %s", sc.Text())
		}
		for _, f := range want {
			if _, ok := raw[f]; !ok {
				t.Errorf("%s event without %s: %s", e.Event, f, sc.Text())
			}
		}
		events = append(events, e)
	}
	if len(events) < 3 || events[0].Event != "run_start" || events[len(events)-1].Event != "run_end" {
		t.Fatalf("events do not start with run_start and end with run_end")
	}
	ends := 0
	for _, e := range events {
		if e.Event == "step_end" {
			ends++
		}
	}
	data, err := os.ReadFile(junitFile)
	if err != nil {
		t.Fatal(err)
	}
	var suites junit.Testsuites
	if err := xml.Unmarshal(data, &suites); err != nil {
		t.Fatalf("JUnit does not parse: %v", err)
	}
	if len(suites.Suites) != 1 || len(suites.Suites[0].Testcases) != ends {
		t.Fatalf("JUnit has %d suites; want one with %d test cases", len(suites.Suites), ends)
	}
}

// The service password must not appear anywhere: outputs, JSON, JUnit,
// audit record, -v echo, nor in the process lists of the hosts while the
// build runs (it travels on stdin).
func TestSecretsNeverLeak(t *testing.T) {
	p := newPair(t)
	const secret = "s3rvice-Passw0rd-unique"
	stop := make(chan struct{})
	var seen []string
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, h := range []string{"master", "standby"} {
		wg.Add(1)
		go func(h string) {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				out, err := transport.Output(context.Background(), p.ssh[h], transport.Cmd{Argv: []string{"ps", "-eo", "args"}}, nil)
				if err == nil {
					mu.Lock()
					seen = append(seen, out)
					mu.Unlock()
				}
				time.Sleep(5 * time.Millisecond)
			}
		}(h)
	}
	text, code := p.build(t, "-v")
	junitFile := filepath.Join(t.TempDir(), "junit.xml")
	js, code2 := p.build(t, "--output", "json", "--junit", junitFile)
	close(stop)
	wg.Wait()
	if code != 0 || code2 != 0 {
		t.Fatalf("builds: %d %d\n%s\n%s", code, code2, text, js)
	}
	junitData, _ := os.ReadFile(junitFile)
	all := text + js + string(junitData)
	records, _ := filepath.Glob(filepath.Join(stateDir(t), "tejun", "runs", "*.jsonl"))
	for _, r := range records {
		d, _ := os.ReadFile(r)
		all += string(d)
	}
	if len(records) != 2 {
		t.Errorf("%d audit records, want 2", len(records))
	}
	if strings.Contains(all, secret) {
		t.Error("the secret appears in tejun's output, events, JUnit or audit record")
	}
	if !strings.Contains(text, "| $ ") {
		t.Error("-v showed no commands: the check proves nothing")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) < 20 {
		t.Fatalf("only %d process listings taken", len(seen))
	}
	for _, s := range seen {
		if strings.Contains(s, secret) {
			t.Fatalf("the secret appears in a remote process list:\n%s", s)
		}
	}
}

func TestHostsCommand(t *testing.T) {
	b := testbed.Start(t, "n1", "n2")
	inv := inventoryFor(t, b, "", nil)
	data, _ := os.ReadFile(inv)
	s := strings.Replace(string(data), "[hosts.n1]\n", "[hosts.n1]\nuser = \"ops\"\nbecome = \"perforce\"\n", 1)
	s = strings.Replace(s, "[hosts.n2]\n", "[hosts.n2]\nuser = \"nosudo\"\nbecome = \"perforce\"\n", 1)
	s += "[hosts.gone]\naddress = \"127.0.0.99\"\nport = 1\n"
	os.WriteFile(inv, []byte(s), 0o644)
	out, _, code := run(t, "hosts", "-i", inv)
	if code != cli.ExitUnreachable {
		t.Fatalf("exit %d\n%s", code, out)
	}
	for _, want := range []string{"n1 ", "ok (perforce)", "no: needs a password", "gone", "failed"} {
		if !strings.Contains(out, want) {
			t.Errorf("hosts output lacks %q:\n%s", want, out)
		}
	}
}
