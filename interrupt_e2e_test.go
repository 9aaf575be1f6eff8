package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"tejun/runbook/cli"
	"tejun/runbook/runbooktest"
	"tejun/transport/testbed"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// tejunBinary builds tejun once per test process: signals are the
// process's, so only the real binary shows how it reacts to them.
func tejunBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tejun-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "tejun")
		// -buildvcs=auto: the commit is stamped in a checkout (tejun
		// version shows it) whatever GOFLAGS says, and skipped outside one.
		out, err := exec.Command("go", "build", "-buildvcs=auto", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = err
			t.Logf("%s", out)
		}
	})
	if binErr != nil {
		t.Fatalf("go build: %v", binErr)
	}
	return binPath
}

// syncBuffer is written by the child's output copier and read by the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitForOutput polls until s holds want, or fails after the deadline.
func waitForOutput(t *testing.T, s *syncBuffer, want string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !strings.Contains(s.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q within %s:\n%s", want, within, s.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startFrozenRun starts tejun on a step that runs long on n1, waits until
// it runs, and freezes the host: nothing there answers any more.
func startFrozenRun(t *testing.T, sig syscall.Signal) (*exec.Cmd, *syncBuffer, *syncBuffer, chan error) {
	bin := tejunBinary(t)
	b := testbed.Start(t, "n1")
	inv := inventoryFor(t, b, "", nil)
	rb := runbooktest.Write(t, "", "runbook.toml", `
[runbook]
name = "frozen"
[[section]]
id = "s"
on = "n1"
title.en = "s"
[[section.step]]
id = "long"
kind = "command"
title.en = "long"
argv = ["sleep", "47"]
[[section.step]]
id = "next"
kind = "command"
title.en = "next"
argv = ["touch", "/tmp/next"]
`)
	var out, errOut syncBuffer
	cmd := exec.Command(bin, "run", rb, "-i", inv, "-v")
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir(), "XDG_STATE_HOME=" + t.TempDir(), "NO_COLOR=1"}
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	waitForOutput(t, &out, "$ sleep 47", 30*time.Second)
	h := b.Hosts[0]
	h.Freeze()
	t.Cleanup(h.Thaw)
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	return cmd, &out, &errOut, done
}

// exitedWithin waits for the run to end, failing past a generous ceiling
// (an interrupted run that waits on a frozen host's keepalive takes a
// minute), and returns its exit code.
func exitedWithin(t *testing.T, done chan error, out, errOut *syncBuffer) int {
	t.Helper()
	select {
	case err := <-done:
		done <- err // for the cleanup
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(20 * time.Second):
		t.Fatalf("still running 20s after the interrupt, with a frozen host\nstdout:\n%s\nstderr:\n%s", out, errOut)
	}
	return -1
}

// Ctrl-C (or SIGTERM) with a frozen host ends within seconds, as
// interrupted, and says so.
func TestInterruptWithFrozenHost(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			_, out, errOut, done := startFrozenRun(t, sig)
			if code := exitedWithin(t, done, out, errOut); code != cli.ExitInterrupted {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, cli.ExitInterrupted, out, errOut)
			}
			if got := statuses(out.String()); got["next -"] != "skipped" {
				t.Errorf("statuses %v\n%s", got, out)
			}
			if !strings.Contains(errOut.String(), "interrupted") {
				t.Errorf("stderr does not say interrupted:\n%s", errOut)
			}
		})
	}
}

// A second Ctrl-C exits at once, saying what may be left half-done.
func TestSecondInterruptExitsAtOnce(t *testing.T) {
	cmd, out, errOut, done := startFrozenRun(t, syscall.SIGINT)
	waitForOutput(t, errOut, "interrupt again to exit at once", 10*time.Second)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := exitedWithin(t, done, out, errOut); code != cli.ExitInterrupted {
		t.Fatalf("exit %d, want %d\nstderr:\n%s", code, cli.ExitInterrupted, errOut)
	}
	for _, want := range []string{"interrupted again", "may be left half-done: step long on n1 was running", "run lock"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
}
