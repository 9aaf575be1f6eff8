package run

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"tejun/runbook"
	"tejun/transport"
	"tejun/transport/local"
	"tejun/transport/ssh"
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
			Dial:    func(context.Context, ssh.Config) (transport.Conn, error) { return conn, nil },
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

// A line with no end is kept to maxLogLine bytes and the rest said to be
// dropped, never split into lines whose ends escape the mask.
func TestLongLineBounded(t *testing.T) {
	var got []string
	l := &lineLog{emit: func(s string) { got = append(got, s) }}
	l.Write([]byte(strings.Repeat("x", maxLogLine-10)))
	l.Write([]byte(strings.Repeat("y", 30) + "\nnext\r\n"))
	l.close()
	if len(got) != 2 || len(got[0]) < maxLogLine || !strings.HasSuffix(got[0], "[… 20 more bytes of this line not shown]") || got[1] != "next" {
		t.Errorf("got %d lines: %.80q… %q", len(got), got[0], got[1:])
	}
}

type progressRecorder struct {
	recorder
	mu   sync.Mutex
	seen [][2]int64
}

func (r *progressRecorder) Progress(_ *runbook.Step, host string, done, total int64) {
	r.mu.Lock()
	r.seen = append(r.seen, [2]int64{done, total})
	r.mu.Unlock()
}

// A transfer counts its bytes once though they are both read and written,
// under the size its source announced: the destination reads a pipe,
// which has none.
func TestTransferProgress(t *testing.T) {
	rec := &progressRecorder{}
	x := &Executor{rep: rec}
	p := &progress{x: x, host: "h1"}
	p.total.Store(-1)
	path := filepath.Join(t.TempDir(), "ckp")
	os.WriteFile(path, []byte(strings.Repeat("z", 100000)), 0o644)
	from, to := progressFiles{local.Conn{}, p}, progressFiles{transporttest.New(), p}
	pr, pw := io.Pipe()
	go func() {
		_, err := from.ReadFile(context.Background(), path, pw, "")
		pw.CloseWithError(err)
	}()
	if _, err := to.WriteFile(context.Background(), "/dst", pr, transport.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, s := range rec.seen {
		if s[1] != 100000 && s[0] > 0 {
			t.Errorf("progress %v before the size was known", s)
		}
		if s[0] > 100000 {
			t.Errorf("progress %v counts bytes twice", s)
		}
	}
	if last := rec.seen[len(rec.seen)-1]; last != [2]int64{100000, 100000} {
		t.Errorf("last progress %v, want 100000 of 100000", last)
	}
}

// A progress meter redraws its line with a bare carriage return (rsync
// --progress, curl, pv): each redraw is a line of its own in the -v log as
// it comes, not a single line of ^M-joined updates shown when the command
// ends and cut at maxLogLine. CRLF is one line end, even split across two
// writes, and the empty "lines" between redraws are not logged.
func TestCarriageReturnEndsALine(t *testing.T) {
	var got []string
	l := &lineLog{emit: func(s string) { got = append(got, s) }}
	l.Write([]byte("\r 10%\r 20%"))
	if len(got) != 1 || got[0] != " 10%" {
		t.Fatalf("the first redraw is not logged when it comes: %q", got)
	}
	l.Write([]byte("\r\r 30%\r"))
	l.Write([]byte("\ndone\r\n\nlast"))
	l.close()
	want := []string{" 10%", " 20%", " 30%", "done", "", "last"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q, want %q", got, want)
	}
}

// spewConn prints n bytes of stderr with no newline, in 32 KiB writes, as
// a verbose tool does over a long restore.
type spewConn struct {
	*transporttest.Fake
	n int
}

func (c *spewConn) Run(ctx context.Context, cmd transport.Cmd, stdio transport.Stdio) error {
	if strings.Join(cmd.Argv, " ") != "spew" {
		return c.Fake.Run(ctx, cmd, stdio)
	}
	chunk := []byte(strings.Repeat("e", 32<<10))
	copy(chunk, "FIRST")
	for left := c.n; left > 0; left -= len(chunk) {
		if left <= len(chunk) {
			chunk = chunk[:left]
			copy(chunk[len(chunk)-4:], "LAST")
		}
		stdio.Stderr.Write(chunk)
		copy(chunk, "eeeee")
	}
	return nil
}

// A command's stderr is kept only as far as the audit record can hold it
// (its head and tail): a tool that prints 64 MiB of it must not make tejun
// hold 64 MiB, and the record still says how much it left out.
func TestHugeStderrBoundedMemory(t *testing.T) {
	b := bind(t, `
[runbook]
name = "m"
[[section]]
id = "s"
on = "h1"
title.en = "s"
[[section.step]]
id = "spew"
kind = "command"
title.en = "spew"
argv = ["spew"]
`)
	const n = 64 << 20
	conn := &spewConn{Fake: transporttest.New(), n: n}
	var audit []Command
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	Run(context.Background(), b, Options{
		Dial:  func(context.Context, ssh.Config) (transport.Conn, error) { return conn, nil },
		Audit: func(c Command) { audit = append(audit, c) },
	}, &recorder{})
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > 16<<20 {
		t.Errorf("%d MiB allocated for 64 MiB of stderr", got>>20)
	}
	var c *Command
	for i := range audit {
		if audit[i].Step == "spew" {
			c = &audit[i]
		}
	}
	if c == nil {
		t.Fatal("no audit record of the command")
	}
	m := regexp.MustCompile(`\[\.\.\. (\d+) bytes not recorded \.\.\.\]`).FindStringSubmatch(c.Stderr)
	if len(c.Stderr) > OutputLimit+64 || !strings.HasPrefix(c.Stderr, "FIRST") || !strings.HasSuffix(c.Stderr, "LAST") || m == nil {
		t.Fatalf("stderr recorded as %d bytes: %.40q … %q", len(c.Stderr), c.Stderr, c.Stderr[max(0, len(c.Stderr)-40):])
	}
	left, _ := strconv.Atoi(m[1])
	if kept := len(c.Stderr) - len(m[0]) - 1; left+kept != n {
		t.Errorf("says %d bytes left out and keeps %d, of %d", left, kept, n)
	}
}
