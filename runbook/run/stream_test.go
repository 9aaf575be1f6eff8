package run

import (
	"context"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"tejun/runbook"
	"tejun/transport"
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

// chattyConn prints numbered lines in pieces cut mid-line, so two hosts'
// output arrives interleaved byte-wise.
type chattyConn struct {
	*transporttest.Fake
	host string
}

func (c *chattyConn) Run(ctx context.Context, cmd transport.Cmd, stdio transport.Stdio) error {
	if strings.Join(cmd.Argv, " ") != "chat" {
		return c.Fake.Run(ctx, cmd, stdio)
	}
	for i := 0; i < 200; i++ {
		l := c.host + " line " + strconv.Itoa(i) + " secret-token-value\n"
		stdio.Stdout.Write([]byte(l[:7]))
		runtime.Gosched()
		stdio.Stdout.Write([]byte(l[7:]))
	}
	return nil
}

// Two hosts streaming at once: each -v line is one whole line of one
// host, under that host, masked, never a mix of both.
func TestTwoHostsStreamWholeLines(t *testing.T) {
	b := bind(t, `
[runbook]
name = "m"
[[section]]
id = "s"
on = "r"
title.en = "s"
[[section.step]]
id = "chat"
kind = "command"
title.en = "chat"
argv = ["chat"]
`)
	rec := &recorder{}
	Run(context.Background(), b, Options{
		Dial: func(_ context.Context, cfg ssh.Config) (transport.Conn, error) {
			return &chattyConn{Fake: transporttest.New(), host: cfg.Name}, nil
		},
		Secrets: map[string][]byte{"tok": []byte("secret-token-value")},
	}, rec)
	n := map[string]int{}
	line := regexp.MustCompile(`^(h[12]): (h[12]) line \d+ \*{8}$`)
	for _, l := range rec.logs {
		if strings.HasSuffix(l, ": $ chat") {
			continue
		}
		m := line.FindStringSubmatch(l)
		if m == nil || m[1] != m[2] {
			t.Errorf("not one whole masked line of its host: %q", l)
			continue
		}
		n[m[1]]++
	}
	if n["h1"] != 200 || n["h2"] != 200 {
		t.Errorf("lines per host: %v", n)
	}
}

// spewOutConn prints n bytes on stdout in 32 KiB writes, lines of 100.
type spewOutConn struct {
	*transporttest.Fake
	n int
}

func (c *spewOutConn) Run(ctx context.Context, cmd transport.Cmd, stdio transport.Stdio) error {
	if strings.Join(cmd.Argv, " ") != "dump" {
		return c.Fake.Run(ctx, cmd, stdio)
	}
	chunk := []byte(strings.Repeat(strings.Repeat("o", 99)+"\n", 32<<10/100))
	for left := c.n; left > 0; left -= len(chunk) {
		stdio.Stdout.Write(chunk[:min(left, len(chunk))])
	}
	return nil
}

// quietRecorder keeps no -v lines, as the terminal without -v.
type quietRecorder struct{ recorder }

func (*quietRecorder) Log(*runbook.Step, string, string) {}

// A command's stdout is the step's, whole; but it is copied once for the
// step, the audit record and the credentials check, not once each (64 MiB
// printed cost 391 MiB of allocations, 263 now: the buffer's growth, the
// copy, the -v lines).
func TestHugeStdoutCopiedOnce(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race (instrumented copies); .ci/run runs this test without it")
	}
	b := bind(t, `
[runbook]
name = "m"
[[section]]
id = "s"
on = "h1"
title.en = "s"
[[section.step]]
id = "dump"
kind = "command"
title.en = "dump"
argv = ["dump"]
`)
	const n = 64 << 20
	conn := &spewOutConn{Fake: transporttest.New(), n: n}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	Run(context.Background(), b, Options{
		Dial:  func(context.Context, ssh.Config) (transport.Conn, error) { return conn, nil },
		Audit: func(Command) {},
	}, &quietRecorder{})
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > 5*n {
		t.Errorf("%d MiB allocated for %d MiB of stdout", got>>20, n>>20)
	}
}
