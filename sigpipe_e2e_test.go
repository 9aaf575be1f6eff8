package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tejun/runbook/cli"
	tejunhost "tejun/runbook/host"
	"tejun/runbook/runbooktest"
	"tejun/transport/testbed"
)

// TestBrokenPipe pipes the real binary into head -n 1, as an operator
// does: once head has gone, tejun stops as on an interrupt instead of
// dying of SIGPIPE, so the host's run lock is released, the running
// command is stopped, no later step starts, and the audit record ends
// with run_end.
func TestBrokenPipe(t *testing.T) {
	bin := tejunBinary(t)
	b := testbed.Start(t, "n1")
	inv := inventoryFor(t, b, "", nil)
	rb := runbooktest.Write(t, "", "runbook.toml", `
[runbook]
name = "piped"
[[section]]
id = "s"
on = "n1"
title.en = "s"
[[section.step]]
id = "first"
kind = "command"
title.en = "first"
argv = ["touch", "/tmp/first"]
[[section.step]]
id = "slow"
kind = "command"
title.en = "slow"
argv = ["sleep", "41"]
[[section.step]]
id = "last"
kind = "command"
title.en = "last"
argv = ["touch", "/tmp/last"]
`)
	state := t.TempDir()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	tejun := exec.Command(bin, "run", rb, "-i", inv, "-v", "--lang", "en")
	tejun.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir(), "XDG_STATE_HOME=" + state, "NO_COLOR=1"}
	var errOut syncBuffer
	tejun.Stdout, tejun.Stderr = w, &errOut
	head := exec.Command("head", "-n", "1")
	head.Stdin = r
	var headOut syncBuffer
	head.Stdout = &headOut
	if err := head.Start(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := tejun.Start(); err != nil {
		t.Fatal(err)
	}
	r.Close()
	w.Close()
	done := make(chan error, 1)
	go func() { done <- tejun.Wait() }()
	t.Cleanup(func() { _ = tejun.Process.Kill() })
	head.Wait()
	var werr error
	select {
	case werr = <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("tejun still running 30 s after head exited\nstderr:\n%s", errOut.String())
	}
	code := 0
	if ee, ok := werr.(*exec.ExitError); ok {
		code = ee.ExitCode() // -1 when killed by a signal (SIGPIPE)
	}
	if code != cli.ExitInterrupted {
		t.Errorf("exit %d (%v), want %d\nstderr:\n%s", code, werr, cli.ExitInterrupted, errOut.String())
	}
	if d := time.Since(start); d > 25*time.Second {
		t.Errorf("took %s: the sleep was not stopped", d)
	}
	if headOut.String() == "" {
		t.Error("head read nothing")
	}
	if !strings.Contains(errOut.String(), "standard output was closed") {
		t.Errorf("stderr does not say why it stopped:\n%s", errOut.String())
	}
	h := b.Hosts[0]
	if _, err := os.Stat(h.Path("/tmp/last")); err == nil {
		t.Error("a step started after the reader had gone")
	}
	if _, err := os.Lstat(h.Path(tejunhost.LockPath)); err == nil {
		t.Errorf("the run lock %s is still on the host", tejunhost.LockPath)
	}
	files, _ := filepath.Glob(filepath.Join(state, "tejun", "runs", "*.jsonl"))
	if len(files) != 1 {
		t.Fatalf("audit records: %v", files)
	}
	rec, _ := os.ReadFile(files[0])
	lines := strings.Split(strings.TrimSpace(string(rec)), "\n")
	var last cli.Event
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil || last.Event != "run_end" || last.Status != "interrupted" {
		t.Errorf("the audit record does not end with an interrupted run_end (%v):\n%s", err, rec)
	}
}
