package run

import (
	"context"
	"strings"
	"testing"
	"time"

	"tejun/runbook"
	"tejun/transport"
	"tejun/transport/transporttest"
)

// slowConn prints a line, then waits to be released before it prints the
// rest: a long restore that reports as it goes.
type slowConn struct {
	*transporttest.Fake
	release chan struct{}
}

func (c *slowConn) Run(ctx context.Context, cmd transport.Cmd, stdio transport.Stdio) error {
	if strings.Join(cmd.Argv, " ") != "restore" {
		return c.Fake.Run(ctx, cmd, stdio)
	}
	stdio.Stdout.Write([]byte("restoring 1/2 hunter2-distinctive\n"))
	stdio.Stderr.Write([]byte("warn"))
	stdio.Stderr.Write([]byte("ing: slow\n"))
	<-c.release
	stdio.Stdout.Write([]byte("restoring 2/2"))
	return nil
}

type streamRecorder struct {
	recorder
	lines chan string
}

func (r *streamRecorder) Log(st *runbook.Step, host, l string) {
	r.recorder.Log(st, host, l)
	r.lines <- l
}

// -v shows each line of output when the host prints it, masked, not when
// the command ends; a last line without a newline is not lost.
func TestOutputStreamsLineByLine(t *testing.T) {
	b := bind(t, `
[runbook]
name = "m"
[[section]]
id = "s"
on = "h1"
title.en = "s"
[[section.step]]
id = "restore"
kind = "command"
title.en = "restore"
argv = ["restore"]
`)
	conn := &slowConn{Fake: transporttest.New(), release: make(chan struct{})}
	rec := &streamRecorder{lines: make(chan string, 100)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Run(context.Background(), b, Options{
			Dial:    func(context.Context, transport.SSHConfig) (transport.Conn, error) { return conn, nil },
			Secrets: map[string][]byte{"pw": []byte("hunter2-distinctive")},
		}, rec)
	}()
	want := []string{"$ restore", "restoring 1/2 ********", "stderr: warning: slow"}
	for _, w := range want {
		select {
		case l := <-rec.lines:
			if l != w {
				t.Errorf("line %q, want %q", l, w)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%q not logged while the command runs", w)
		}
	}
	close(conn.release)
	<-done
	if got := rec.logs[len(rec.logs)-1]; got != "h1: restoring 2/2" {
		t.Errorf("last line %q", got)
	}
}
