package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"tejun/runbook/runbooktest"
)

// tejun check on a device or a FIFO answers at once, with a problem.
func TestCheckRefusesNonRegularFiles(t *testing.T) {
	for _, args := range [][]string{
		{"tejun", "check", "/dev/zero"},
		{"tejun", "check", "-i", "/dev/zero", "../../examples/perforce-ha/standby.toml"},
		{"tejun", "hosts", "-i", "/dev/zero"},
	} {
		var out, errOut bytes.Buffer
		code := New(nil, &out, &errOut).Run(context.Background(), args)
		if code != ExitInvalid || !strings.Contains(errOut.String(), "/dev/zero: not a regular file") {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut.String())
		}
	}
}

// A signal that arrives while loading stops the load: nothing is run and
// the exit code says interrupted.
func TestLoadHonoursInterrupt(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errOut bytes.Buffer
	code := New(nil, &out, &errOut).Run(ctx, []string{"tejun", "check", "../../examples/perforce-ha/standby.toml"})
	if code != ExitInterrupted {
		t.Errorf("exit %d, want %d; stderr %q", code, ExitInterrupted, errOut.String())
	}
}

// check prints a warning for each value pasted unquoted into shell text.
func TestCheckWarnsOnUnsafeRaw(t *testing.T) {
	dir := t.TempDir()
	inv := runbooktest.Write(t, dir, "inv.toml", "[hosts.a]\naddress = \"127.0.0.1\"\n")
	rb := runbooktest.Write(t, dir, "rb.toml", `[runbook]
name = "r"
[vars]
v = "x"
[[section]]
id = "s"
on = "a"
title.en = "s"
[[section.step]]
id = "c"
title.en = "c"
kind = "command"
shell = "echo {{ vars.v | unsafe_raw }}"
`)
	var out, errOut bytes.Buffer
	code := New(nil, &out, &errOut).Run(context.Background(), []string{"tejun", "check", "-i", inv, rb})
	if code != ExitOK || !strings.Contains(errOut.String(), rb+":13: warning: step c: shell: {{ vars.v | unsafe_raw }}") {
		t.Errorf("exit %d, stderr %q", code, errOut.String())
	}
}

func TestForksMustBePositive(t *testing.T) {
	for _, n := range []string{"0", "-3"} {
		var out, errOut bytes.Buffer
		code := New(nil, &out, &errOut).Run(context.Background(), []string{"tejun", "run", "--forks", n, "../../examples/perforce-ha/standby.toml"})
		if code != ExitInvalid || !strings.Contains(errOut.String(), "--forks "+n+": want 1 or more") {
			t.Errorf("--forks %s: exit %d, stderr %q", n, code, errOut.String())
		}
	}
}
