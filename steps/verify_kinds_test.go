package steps

import (
	"context"
	"io"
	"strconv"
	"testing"

	"tejun/transport"
)

// scriptEnv answers each command with what reply returns.
type scriptEnv struct {
	reply func(argv []string) (string, error)
}

func (e scriptEnv) Host() string { return "h" }
func (e scriptEnv) Run(ctx context.Context, c transport.Cmd, stdin io.Reader) (string, error) {
	return e.reply(c.Argv)
}
func (e scriptEnv) Files() (transport.Files, error)       { return nil, nil }
func (e scriptEnv) On(string) (Env, error)                { return e, nil }
func (e scriptEnv) Secret(string) ([]byte, error)         { return nil, nil }
func (e scriptEnv) Confirm(context.Context, string) error { return ErrNoOperator }
func (e scriptEnv) Dir() string                           { return "." }

const pent = "pname              = /usr/bin/java\npid                = 12742\nretry_count        = 1\nrestart_count      = 1\nproc_sts           = AVAIL\n"

func TestWaitFieldsComparesWithEarlierValues(t *testing.T) {
	env := scriptEnv{func([]string) (string, error) { return pent, nil }}
	for _, c := range []struct {
		expect []string
		done   bool
	}{
		{[]string{"proc_sts = AVAIL", "pid != 3679", "restart_count > 0"}, true},
		{[]string{"pid != 12742"}, false},       // the PID before the kill: no restart yet
		{[]string{"restart_count > 1"}, false},  // the count before the kill: not risen
		{[]string{"restart_count > x"}, false},  // not a number: does not hold
		{[]string{"rerun_time = -----"}, false}, // missing field: does not hold
		{[]string{"proc_sts = AVAIL "}, true},   // trailing space is not part of the value
	} {
		w := &WaitFields{Argv: []string{"padmin"}, Expect: c.expect}
		st, err := w.Check(context.Background(), env)
		if err != nil || st.Done != c.done {
			t.Errorf("%v: done %v (%s), err %v; want done %v", c.expect, st.Done, st.Reason, err, c.done)
		}
		if c.done && w.Produced()["pid"] != "12742" {
			t.Errorf("%v: produced %v", c.expect, w.Produced())
		}
	}
	failing := scriptEnv{func([]string) (string, error) { return "", io.ErrUnexpectedEOF }}
	if _, err := (&WaitFields{Argv: []string{"padmin"}, Expect: []string{"pid > 0"}}).Check(context.Background(), failing); err == nil {
		t.Error("a status command that could not run was taken as an answer")
	}
}

func TestLogMatchSinceStartIgnoresOldLines(t *testing.T) {
	log := "Oct 12 10:40:58 h pcheck[1]: (/usr/bin/java ,pid=12742) Up\n"
	env := scriptEnv{func(argv []string) (string, error) {
		switch argv[0] {
		case "stat":
			return strconv.Itoa(len(log)) + "\n", nil
		case "cat":
			return log, nil
		}
		t.Fatalf("unexpected %v", argv)
		return "", nil
	}}
	l := &LogMatch{Pattern: `pid=12742\) Up`, SinceStart: true}
	if st, err := l.Check(context.Background(), env); err != nil || st.Done {
		t.Fatalf("a line written before the step counted: %v %v", st, err)
	}
	log += "Oct 12 10:41:30 h pcheck[1]: (/usr/bin/java ,pid=12742) Up\n"
	if st, err := l.Check(context.Background(), env); err != nil || !st.Done {
		t.Fatalf("the line written after the step began was missed: %v %v", st, err)
	}
	whole := &LogMatch{Pattern: `pid=12742\) Up`}
	if st, err := whole.Check(context.Background(), env); err != nil || !st.Done {
		t.Fatalf("without since_start the whole log counts: %v %v", st, err)
	}
}
