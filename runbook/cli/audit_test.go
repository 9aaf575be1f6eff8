package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"tejun/runbook"
	"tejun/runbook/report"
	"tejun/runbook/runbooktest"
)

// The runs directory holds what --resume takes as done and what a report
// shows a reviewer: like OpenSSH with ~/.ssh (StrictModes), tejun refuses
// one that another user owns or could write to, whichever way it is
// reached (a symlink is followed and its target checked), before it
// writes a record there or believes one.
func TestRunsDirectoryMustBePrivate(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a directory away")
	}
	rb := &runbook.Runbook{Name: "rb", File: "/rb.toml"}
	env := func(state string) func(string) string {
		return func(k string) string {
			if k == "XDG_STATE_HOME" {
				return state
			}
			return ""
		}
	}
	runs := func(state string) string { return filepath.Join(state, "tejun", "runs") }
	private := func(t *testing.T) string {
		state := t.TempDir()
		if err := os.MkdirAll(runs(state), 0o700); err != nil {
			t.Fatal(err)
		}
		return state
	}
	check := func(t *testing.T, state, want string) {
		t.Helper()
		f, err := openAudit(env(state), rb, "20261202T000000Z-0001")
		if f != nil {
			f.Close()
		}
		if want == "" {
			if err != nil {
				t.Errorf("refused: %v", err)
			}
			return
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("record opened (%v), want an error saying %q", err, want)
		}
		if _, err := findLastRun(env(state), rb, ""); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("--resume read the records: %v", err)
		}
		a := New(nil, nil, nil, WithEnv(env(state)))
		if _, err := a.findRecord(""); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("report read the records: %v", err)
		}
	}

	t.Run("private", func(t *testing.T) { check(t, private(t), "") })
	t.Run("created", func(t *testing.T) {
		state := t.TempDir()
		old := syscall.Umask(0) // whatever the umask, private from the first byte
		defer syscall.Umask(old)
		f, err := openAudit(env(state), rb, "20261202T000000Z-0002")
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		if fi, err := os.Stat(runs(state)); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("runs directory created %v %v", fi.Mode(), err)
		}
		if fi, err := os.Stat(f.Name()); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("record created %v %v", fi.Mode(), err)
		}
	})
	t.Run("world-writable", func(t *testing.T) {
		state := private(t)
		os.Chmod(runs(state), 0o777)
		check(t, state, "writable by others")
	})
	t.Run("group-writable parent", func(t *testing.T) {
		state := private(t)
		os.Chmod(filepath.Join(state, "tejun"), 0o770)
		os.Chown(filepath.Join(state, "tejun"), 0, 1) // root's dir, daemon's group
		check(t, state, "writable by others")
	})
	// Debian's OpenSSH allows a group the owner alone is in (umask 002
	// with user private groups): root's dir, group root with no members.
	t.Run("writable by the owner's private group", func(t *testing.T) {
		if !privateGroup(0, 0) {
			t.Skip("root's group has other members here")
		}
		state := private(t)
		os.Chmod(filepath.Join(state, "tejun"), 0o770)
		os.Chown(filepath.Join(state, "tejun"), 0, 0)
		check(t, state, "")
	})
	t.Run("other owner", func(t *testing.T) {
		state := private(t)
		os.Chown(runs(state), 65534, 65534)
		check(t, state, "owned by uid 65534")
	})
	t.Run("symlink to a private directory", func(t *testing.T) {
		state, target := t.TempDir(), t.TempDir()
		os.MkdirAll(filepath.Join(state, "tejun"), 0o700)
		os.Symlink(target, runs(state))
		check(t, state, "")
	})
	t.Run("symlink to a shared directory", func(t *testing.T) {
		state, target := t.TempDir(), t.TempDir()
		os.Chmod(target, 0o777)
		os.MkdirAll(filepath.Join(state, "tejun"), 0o700)
		os.Symlink(target, runs(state))
		check(t, state, "writable by others")
	})
	t.Run("sticky base like /tmp", func(t *testing.T) {
		state := t.TempDir()
		os.Chmod(state, 0o777|fs.ModeSticky)
		check(t, state, "")
	})
	t.Run("world-writable base", func(t *testing.T) {
		state := t.TempDir()
		os.Chmod(state, 0o777)
		check(t, state, "writable by others")
	})
}

// A record given by path is believed only if nobody but its owner could
// have written it.
func TestReportRefusesAWritableRecord(t *testing.T) {
	dir := t.TempDir()
	rec := filepath.Join(dir, "r.jsonl")
	os.WriteFile(rec, []byte(`{"schema":"tejun.events/v1","event":"run_start"}`+"\n"), 0o600)
	os.Chmod(rec, 0o666)
	var out, errOut strings.Builder
	a := New(nil, &out, &errOut, WithEnv(func(string) string { return "" }))
	a.Run(context.Background(), []string{"tejun", "report", rec})
	if !strings.Contains(errOut.String(), "writable by others") {
		t.Errorf("a world-writable record was read: %s%s", out.String(), errOut.String())
	}
}

// A reviewer reads the operator's record where it is: another owner is
// not a reason to refuse it, only others' write access is.
func TestReportReadsAnotherUsersRecord(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a record away")
	}
	dir := filepath.Join(t.TempDir(), "runs")
	os.Mkdir(dir, 0o755)
	rec := filepath.Join(dir, "r.jsonl")
	os.WriteFile(rec, []byte(`{"schema":"tejun.events/v1","event":"run_start"}`+"\n"), 0o644)
	os.Chown(rec, 65534, 65534)
	os.Chown(dir, 65534, 65534)
	var out, errOut strings.Builder
	a := New(nil, &out, &errOut, WithEnv(func(string) string { return "" }))
	a.Run(context.Background(), []string{"tejun", "report", rec})
	if !strings.Contains(errOut.String(), "names no runbook") {
		t.Errorf("another user's record was not read: %s", errOut.String())
	}
	os.Chmod(dir, 0o777)
	errOut.Reset()
	a.Run(context.Background(), []string{"tejun", "report", rec})
	if !strings.Contains(errOut.String(), "writable by others") {
		t.Errorf("a record in a directory anyone can write was read: %s", errOut.String())
	}
}

// The record's name carries the runbook's name, but only as letters,
// digits and . _ -: the path is printed at the end of every run, and a
// control character there would drive the terminal (or break ls).
func TestRecordNameIsPlain(t *testing.T) {
	state := t.TempDir()
	rb := &runbook.Runbook{Name: "スタンバイ構築 \x1b]52;c;eA==\x07/../x\n\u202e", File: "/rb.toml"}
	f, err := openAudit(func(k string) string {
		if k == "XDG_STATE_HOME" {
			return state
		}
		return ""
	}, rb, "20261202T000000Z-0001")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if got, want := filepath.Base(f.Name()), "20261202T000000Z-0001-スタンバイ構築___52_c_eA____.._x__.jsonl"; got != want {
		t.Errorf("record named %q, want %q", got, want)
	}
}

// A record read from a pipe (tejun report <(ssh jump cat ~/.local/state/…))
// has no directory anyone could write to: it is read.
func TestReportReadsARecordFromAPipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	go func() {
		w.Write([]byte(`{"schema":"tejun.events/v1","event":"run_start"}` + "\n"))
		w.Close()
	}()
	var out, errOut strings.Builder
	a := New(nil, &out, &errOut, WithEnv(func(string) string { return "" }))
	a.Run(context.Background(), []string{"tejun", "report", "/dev/fd/" + strconv.Itoa(int(r.Fd()))})
	if !strings.Contains(errOut.String(), "names no runbook") {
		t.Errorf("a record from a pipe was not read: %s", errOut.String())
	}
}

// A record that cannot be written (a full disk) is not silent: the first
// failed write is said at once and remembered, so the run can say at its
// end that the record is incomplete, and refuse to start without one.
func TestAuditWriteFailureIsSaid(t *testing.T) {
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skip("no /dev/full:", err)
	}
	defer full.Close()
	var said []error
	l := &eventLog{w: full, runID: "R", onFail: func(err error) { said = append(said, err) }}
	l.start("/rb.toml", "/inv.toml", "aa", "bb", nil)
	l.abandoned()
	if l.failed() == nil || len(said) != 1 || !strings.Contains(said[0].Error(), "no space left") {
		t.Errorf("failed %v, said %v: want the first failure said once", l.failed(), said)
	}
}

// A record whose run is still going is not a run that stopped part way:
// tejun holds its record locked for the run's life, so tejun report says
// the run is still going, and --resume will not continue it alongside.
func TestRecordOfARunStillGoing(t *testing.T) {
	state := t.TempDir()
	getenv := func(k string) string {
		if k == "XDG_STATE_HOME" {
			return state
		}
		return ""
	}
	dir := t.TempDir()
	rbPath := runbooktest.Write(t, dir, "rb.toml", "[runbook]\nname = \"rb\"\n[[section]]\nid = \"s\"\non = \"h1\"\ntitle.en = \"s\"\n[[section.step]]\nid = \"a\"\nkind = \"command\"\ntitle.en = \"a\"\nargv = [\"true\"]\n")
	invPath := runbooktest.Write(t, dir, "inv.toml", runbooktest.TwoHosts)
	rb := &runbook.Runbook{Name: "rb", File: rbPath}
	f, err := openAudit(getenv, rb, "20261202T000000Z-0001")
	if err != nil {
		t.Fatal(err)
	}
	l := &eventLog{w: f, runID: "R1"}
	l.start(rbPath, invPath, fileSHA256(rbPath, nil), fileSHA256(invPath, nil), nil)
	l.emit(Event{Event: "step_end", Step: "a", Host: "h1", Status: "ok"})

	var out, errOut strings.Builder
	a := New(nil, &out, &errOut, WithEnv(getenv))
	if code := a.Run(context.Background(), []string{"tejun", "report", "--lang", "en"}); code != 0 {
		t.Fatalf("report: exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "still running") || strings.Contains(out.String(), "stopped part way") {
		t.Errorf("the report of a run still going:\n%s", out.String())
	}
	if _, err := findLastRun(getenv, rb, ""); err == nil || !strings.Contains(err.Error(), "still running") {
		t.Errorf("--resume of a run still going: %v", err)
	}

	f.Close() // the run ends (or tejun is killed): the lock goes with it
	out.Reset()
	a.Run(context.Background(), []string{"tejun", "report", "--lang", "en"})
	if !strings.Contains(out.String(), "stopped part way") {
		t.Errorf("the report of a run cut off:\n%s", out.String())
	}
	if _, err := findLastRun(getenv, rb, ""); err != nil {
		t.Errorf("--resume of a run cut off: %v", err)
	}
}

// The record's SHA-256 are of the runbook and inventory the run parsed,
// not of the files as they are when the record is begun: the operator may
// take minutes over a secret's prompt, and a runbook edited meanwhile
// would have the record (and so tejun report) vouch for a procedure that
// never ran.
func TestRecordDigestsAreOfWhatRan(t *testing.T) {
	tty, master := openPTYPair(t)
	dir := t.TempDir()
	rbSrc := "[runbook]\nname = \"sha\"\n[secrets.key]\nprompt = true\n[[section]]\nid = \"s\"\non = \"l\"\ntitle.en = \"s\"\n" +
		"[[section.step]]\nid = \"env\"\nkind = \"secret_env_file\"\ntitle.en = \"env\"\npath = \"" + filepath.Join(dir, "env") + "\"\nexports = [\"KEY = key\"]\n"
	invSrc := "[hosts.l]\naddress = \"127.0.0.1\"\nconnection = \"local\"\n"
	rbPath := runbooktest.Write(t, dir, "rb.toml", rbSrc)
	invPath := runbooktest.Write(t, dir, "inv.toml", invSrc)
	state := t.TempDir()
	var out, errOut syncBuffer
	a := New(tty, &out, &errOut, WithEnv(func(k string) string {
		if k == "XDG_STATE_HOME" {
			return state
		}
		return ""
	}))
	done := make(chan int, 1)
	go func() {
		done <- a.Run(context.Background(), []string{"tejun", "run", rbPath, "-i", invPath, "--lang", "en"})
	}()
	// The prompt is on the terminal (stderr is not one here).
	var shown []byte
	buf := make([]byte, 256)
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(string(shown), "key (") && time.Now().Before(deadline); {
		master.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		n, _ := master.Read(buf)
		shown = append(shown, buf[:n]...)
	}
	// Edited while the operator types.
	os.WriteFile(rbPath, []byte(rbSrc+"# edited during the prompt\n"), 0o644)
	os.WriteFile(invPath, []byte(invSrc+"# edited too\n"), 0o644)
	master.Write([]byte("s3cret\n")) // in any case: the read would hold the terminal open
	if !strings.Contains(string(shown), "key (") {
		t.Fatalf("no prompt for the secret: %q", shown)
	}
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("run: exit %d\n%s\n%s", code, out.String(), errOut.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the run did not end")
	}
	recs, _ := filepath.Glob(filepath.Join(state, "tejun", "runs", "*.jsonl"))
	if len(recs) != 1 {
		t.Fatalf("records: %v", recs)
	}
	b, _ := os.ReadFile(recs[0])
	var start Event
	json.Unmarshal([]byte(strings.SplitN(string(b), "\n", 2)[0]), &start)
	if start.RunbookSHA256 != fileSHA256("", []byte(rbSrc)) || start.InventorySHA256 != fileSHA256("", []byte(invSrc)) {
		t.Errorf("the record vouches for the files as edited, not as run: %s", b[:200])
	}
}

// A run made with --swap-roles (a failback) ran "on master" on the other
// host: its report shows the procedure the same way round, and says so,
// or a reviewer reads that the master's steps ran on the old master.
func TestReportOfASwappedRun(t *testing.T) {
	dir := t.TempDir()
	rbPath := runbooktest.Write(t, dir, "rb.toml", "[runbook]\nname = \"fb\"\n[[section]]\nid = \"s\"\non = \"master\"\ntitle.en = \"s\"\n"+
		"[[section.step]]\nid = \"promote\"\nkind = \"command\"\ntitle.en = \"promote\"\nargv = [\"true\"]\n")
	invPath := runbooktest.Write(t, dir, "inv.toml", "[hosts.p4-1]\nroles = [\"master\"]\n[hosts.p4-2]\nroles = [\"standby\"]\n")
	rec := filepath.Join(t.TempDir(), "r.jsonl")
	f, _ := os.OpenFile(rec, os.O_CREATE|os.O_WRONLY, 0o600)
	l := &eventLog{w: f, runID: "R1", swap: "master,standby"}
	l.start(rbPath, invPath, fileSHA256(rbPath, nil), fileSHA256(invPath, nil), nil)
	l.emit(Event{Event: "step_end", Step: "promote", Host: "p4-2", Status: "changed"})
	f.Close()
	var out, errOut strings.Builder
	a := New(nil, &out, &errOut, WithEnv(func(string) string { return "" }))
	if code := a.Run(context.Background(), []string{"tejun", "report", rec, "--lang", "en", "--format", "markdown"}); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "master,standby") {
		t.Errorf("the report does not say the roles were swapped:\n%s", out.String())
	}
	if regexp.MustCompile(`master[^\n]*p4-1|p4-1[^\n]*master`).MatchString(out.String()) {
		t.Errorf("the report puts master on p4-1, the run put it on p4-2:\n%s", out.String())
	}
}

// The JSON events (--output json, often on a terminal) and the audit record
// (cat, less) carry what hosts printed: encoding/json escapes C0 controls
// but writes C1 controls (U+009B is CSI to some terminals) and bidi
// controls raw. They are written as \u escapes: the same JSON value,
// nothing for a terminal to obey.
func TestEventsEscapeEveryControl(t *testing.T) {
	var b bytes.Buffer
	l := &eventLog{w: &b, runID: "R"}
	reason := "c1 \u009b31m bidi \u202eevil\u2066 alm \u061c ok \u00e9 日本"
	l.emit(Event{Event: "step_end", Step: "s", Reason: reason})
	for _, bad := range []string{"\u009b", "\u202e", "\u2066", "\u061c", "\x1b"} {
		if strings.Contains(b.String(), bad) {
			t.Errorf("%q raw in %s", bad, b.String())
		}
	}
	var e Event
	if err := json.Unmarshal(b.Bytes(), &e); err != nil || e.Reason != reason {
		t.Errorf("not the same value: %v %q", err, e.Reason)
	}
	if !strings.Contains(b.String(), "\u00e9 日本") {
		t.Errorf("printable text escaped too: %s", b.String())
	}
}

// Every line tejun writes to a record can be read back: a command line,
// an error or an argument list of any length is cut, saying so, to fit
// report.MaxLine, even where JSON escaping makes each byte six.
func TestRecordLinesFitMaxLine(t *testing.T) {
	var buf bytes.Buffer
	l := &eventLog{w: &buf, runID: "R"}
	var args []string
	for i := 0; i < 100000; i++ {
		args = append(args, strings.Repeat("a", 64))
	}
	l.start("/rb.toml", "/inv.toml", "aa", "bb", args)
	long := "echo " + strings.Repeat("x", 5<<20)
	l.emit(Event{Event: "command", Step: "s", Host: "h", Command: long, ExitCode: intp(0)})
	l.emit(Event{Event: "command", Step: "s", Host: "h", Command: strings.Repeat("\x01", 2<<20), Error: strings.Repeat("\u0085", 2<<20), ExitCode: intp(1)})
	l.emit(Event{Event: "step_end", Step: "s", Host: "h", Status: "failed", Reason: strings.Repeat("r", 5<<20), StderrTail: strings.Repeat("e", 5<<20)})
	l.emit(Event{Event: "run_end", Status: "failure", ExitCode: intp(1)})
	lines := strings.SplitAfter(buf.String(), "\n")
	for i, ln := range lines[:len(lines)-1] {
		if len(ln) > report.MaxLine {
			t.Errorf("line %d: %d bytes, over report.MaxLine", i+1, len(ln))
		}
		var e Event
		if err := json.Unmarshal([]byte(ln), &e); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		switch i {
		case 0:
			if len(e.Args) >= len(args) || !strings.Contains(e.Args[len(e.Args)-1], "arguments not recorded") {
				t.Errorf("args kept %d of %d, last %q: want cut, saying so", len(e.Args), len(args), e.Args[len(e.Args)-1])
			}
		case 1:
			if !strings.HasPrefix(e.Command, "echo xxx") || !strings.Contains(e.Command, "bytes not recorded") {
				t.Errorf("command %.40q…: want its head and a marker", e.Command)
			}
		}
	}
	if _, err := report.Read(&buf); err != nil {
		t.Errorf("the record cannot be read back: %v", err)
	}
}
