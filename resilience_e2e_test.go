package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tejun/runbook/cli"
	"tejun/runbook/runbooktest"
	"tejun/transport/testbed"
)

// stillRunning reports whether a process whose argv is exactly words runs
// anywhere on this machine (test-bed hosts share its process table).
func stillRunning(words ...string) bool {
	want := strings.Join(words, "\x00") + "\x00"
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		if data, _ := os.ReadFile(p); string(data) == want {
			return true
		}
	}
	return false
}

// Under become, a step's timeout must stop the command it ran as root, not
// only the login user's session: sudo's child is out of the login user's
// reach, so the kill has to go through sudo as well.
func TestTimeoutKillsBecomeCommand(t *testing.T) {
	b := testbed.Start(t, "n1")
	inv := inventoryFor(t, b, "", nil)
	runbooktest.Edit(t, inv, `user = "root"`, "user = \"ops\"\nbecome = \"root\"")
	rb := runbooktest.Write(t, "", "runbook.toml", `
[runbook]
name = "become-timeout"
[[section]]
id = "s"
on = "n1"
title.en = "s"
[[section.step]]
id = "long"
kind = "command"
title.en = "long"
timeout = "2s"
shell = "trap '' TERM; id -u > /tmp/uid; exec sleep 4713"
`)
	out, _, code := run(t, "run", rb, "-i", inv)
	if code != cli.ExitFailed {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if uid, _ := os.ReadFile(b.Hosts[0].Path("/tmp/uid")); strings.TrimSpace(string(uid)) != "0" {
		t.Fatalf("the step did not run as root: uid %q\n%s", uid, out)
	}
	waitFor(t, "the timed-out command to stop", func() bool { return !stillRunning("sleep", "4713") })
}

// A step whose timeout expires while the host is still being dialled must
// not leave the host unreachable for the steps after it.
func TestTimeoutDoesNotPoisonConnection(t *testing.T) {
	b := testbed.Start(t, "n1")
	inv := inventoryFor(t, b, "", nil)
	rb := runbooktest.Write(t, "", "runbook.toml", `
[runbook]
name = "poison"
[[section]]
id = "s"
on = "n1"
title.en = "s"
[[section.step]]
id = "hasty"
kind = "command"
title.en = "hasty"
timeout = "1ns"
argv = ["touch", "/tmp/hasty"]
unless = ["test", "-e", "/tmp/hasty"]
[[section.step]]
id = "after"
kind = "command"
title.en = "after"
argv = ["touch", "/tmp/after"]
unless = ["test", "-e", "/tmp/after"]
`)
	out, _, _ := run(t, "plan", rb, "-i", inv, "--lang", "en")
	after := ""
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, " after ") {
			after = l
		}
	}
	if !strings.Contains(after, "will change") {
		t.Fatalf("a timed-out first step poisoned the connection:\n%s", out)
	}
}

// failPolicyRunbook fails on n2 only (the hosts' /etc/hostname differ),
// then has a step on both hosts that needs it, a step on n1 that sends a
// file to n2, and one on n1 alone.
const failPolicyRunbook = `
[runbook]
name = "policy"
%s
[[section]]
id = "all"
on = "nodes"
title.en = "all"
[[section.step]]
id = "prep"
kind = "command"
title.en = "prep"
argv = ["sh", "-c", "touch /tmp/prep; test \"$(cat /etc/hostname)\" != n2"]
[[section.step]]
id = "next"
kind = "command"
title.en = "next"
argv = ["touch", "/tmp/next"]
[[section]]
id = "one"
on = "n1"
title.en = "one"
[[section.step]]
id = "send"
kind = "transfer"
title.en = "send"
needs = []
src = "/etc/hostname"
to = "n2"
dst = "/tmp/sent"
[[section.step]]
id = "alone"
kind = "command"
title.en = "alone"
needs = ["next"]
argv = ["touch", "/tmp/alone"]
`

// A failed host skips its own dependents; the other hosts go on, except
// in a step that also works on the failed host. max_fail = 0 (or
// --fail-fast) stops every host instead.
func TestFailurePolicy(t *testing.T) {
	b := testbed.Start(t, "n1", "n2")
	n1, n2 := b.Hosts[0], b.Hosts[1]
	inv := inventoryFor(t, b, "", nil)
	exists := func(h *testbed.Host, p string) bool { _, err := os.Stat(h.Path(p)); return err == nil }
	reset := func() {
		for _, h := range b.Hosts {
			for _, p := range []string{"/tmp/prep", "/tmp/next", "/tmp/alone", "/tmp/sent"} {
				os.Remove(h.Path(p))
			}
		}
	}

	rb := runbooktest.Write(t, "", "runbook.toml", fmt.Sprintf(failPolicyRunbook, ""))
	// send waits for prep, so that n2 has failed when it starts.
	runbooktest.Edit(t, rb, "needs = []\nsrc", "needs = [\"prep\"]\nsrc")
	out, _, code := run(t, "run", rb, "-i", inv, "--lang", "en")
	got := statuses(out)
	if code != cli.ExitFailed || got["prep n2"] != "failed" || got["next n1"] != "changed" || got["next n2"] != "skipped" ||
		got["alone n1"] != "changed" || got["send n1"] != "skipped" {
		t.Fatalf("default policy: exit %d %v\n%s", code, got, out)
	}
	if !exists(n1, "/tmp/next") || exists(n2, "/tmp/next") || exists(n2, "/tmp/sent") {
		t.Fatalf("default policy: wrong hosts changed\n%s", out)
	}

	for _, tc := range []struct {
		name, header string
		args         []string
	}{
		{"max_fail = 0", "max_fail = 0", nil},
		{"--fail-fast", "", []string{"--fail-fast"}},
	} {
		reset()
		rb := runbooktest.Write(t, "", "runbook.toml", fmt.Sprintf(failPolicyRunbook, tc.header))
		runbooktest.Edit(t, rb, "needs = []\nsrc", "needs = [\"prep\"]\nsrc")
		out, _, code := run(t, append([]string{"run", rb, "-i", inv, "--lang", "en"}, tc.args...)...)
		got := statuses(out)
		if code != cli.ExitFailed || got["prep n2"] != "failed" || got["prep n1"] != "changed" || !strings.Contains(out, "stopped") {
			t.Fatalf("%s: exit %d %v\n%s", tc.name, code, got, out)
		}
		if exists(n1, "/tmp/next") || exists(n1, "/tmp/alone") || exists(n2, "/tmp/sent") {
			t.Fatalf("%s: a step started after the failure\n%s", tc.name, out)
		}
	}
}

// --resume does not run again what the resumed run finished, even a step
// with no guard (whose check would say "not done" every time).
func TestResumeSkipsFinishedUnguarded(t *testing.T) {
	b := testbed.Start(t, "n1", "n2")
	inv := inventoryFor(t, b, "", nil)
	rb := runbooktest.Write(t, "", "runbook.toml", `
[runbook]
name = "unguarded"
[[section]]
id = "s"
on = "nodes"
title.en = "s"
[[section.step]]
id = "count"
kind = "command"
title.en = "count"
argv = ["sh", "-c", "echo x >> /tmp/count"]
[[section.step]]
id = "gate"
kind = "command"
title.en = "gate"
argv = ["test", "-e", "/tmp/go"]
[[section.step]]
id = "last"
kind = "command"
title.en = "last"
argv = ["sh", "-c", "echo y >> /tmp/last"]
`)
	n1, n2 := b.Hosts[0], b.Hosts[1]
	os.WriteFile(n1.Path("/tmp/go"), nil, 0o644)
	if out, _, code := run(t, "run", rb, "-i", inv); code != cli.ExitFailed {
		t.Fatalf("first run: exit %d\n%s", code, out)
	}
	os.WriteFile(n2.Path("/tmp/go"), nil, 0o644)
	out, errOut, code := run(t, "run", rb, "-i", inv, "--resume")
	if code != 0 {
		t.Fatalf("resume: exit %d\n%s%s", code, out, errOut)
	}
	for _, h := range b.Hosts {
		if data, _ := os.ReadFile(h.Path("/tmp/count")); string(data) != "x\n" {
			t.Errorf("%s: the finished unguarded step ran again: %q\n%s", h.Name, data, out)
		}
		if data, _ := os.ReadFile(h.Path("/tmp/last")); string(data) != "y\n" {
			t.Errorf("%s: last ran %q\n%s", h.Name, data, out)
		}
	}
}

// More commands at once than the server's MaxSessions: the refused
// sessions wait for a free one instead of failing as "connection lost".
func TestMoreCommandsThanMaxSessions(t *testing.T) {
	b := testbed.StartHosts(t, testbed.HostSpec{Name: "n1", MaxSessions: 2})
	inv := inventoryFor(t, b, "", nil)
	var rb strings.Builder
	rb.WriteString("[runbook]\nname = \"sessions\"\n[[section]]\nid = \"s\"\non = \"n1\"\ntitle.en = \"s\"\n")
	for i := 0; i < 6; i++ {
		fmt.Fprintf(&rb, "[[section.step]]\nid = \"c%d\"\nkind = \"command\"\ntitle.en = \"c\"\nneeds = []\nargv = [\"sh\", \"-c\", \"sleep 0.5; touch /tmp/c%d\"]\ncreates = \"/tmp/c%d\"\n", i, i, i)
	}
	fmt.Fprintf(&rb, "[[section.step]]\nid = \"file\"\nkind = \"file\"\ntitle.en = \"f\"\nneeds = []\npath = \"/tmp/f\"\ncontent = \"x\"\n")
	path := runbooktest.Write(t, "", "runbook.toml", rb.String())
	out, _, code := run(t, "run", path, "-i", inv, "--forks", "6")
	if code != 0 || strings.Contains(out, "connection lost") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	for i := 0; i < 6; i++ {
		if _, err := os.Stat(b.Hosts[0].Path(fmt.Sprintf("/tmp/c%d", i))); err != nil {
			t.Errorf("c%d did not run\n%s", i, out)
		}
	}
}
