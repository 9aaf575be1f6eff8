package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"tejun/runbook/cli"
	"tejun/runbook/runbooktest"
	"tejun/transport/testbed"
)

// hostile terminal sequences: clear the screen, write the clipboard
// (OSC 52), and overwrite a line with a carriage return.
const (
	escClear = "\x1b[2J"
	escOSC52 = "\x1b]52;c;cm0gLXJmIH4=\x07"
	escCR    = "FAILED\rok    "
)

// Remote output and inventory values reach the terminal made visible,
// never raw; JSON events keep the raw text, JSON-escaped.
func TestTerminalEscapesShownNotObeyed(t *testing.T) {
	b := testbed.Start(t, "n1")
	inv := inventoryFor(t, b, "", map[string]map[string]string{"n1": {"banner": "BANNER"}})
	runbooktest.Edit(t, inv, "BANNER", "inv"+tomlEscape(escClear+escOSC52))
	rb := runbooktest.Write(t, "", "runbook.toml", `
[runbook]
name = "esc"
[[section]]
id = "s"
on = "n1"
title.en = "s"
[[section.step]]
id = "noisy"
kind = "command"
title.en = "noisy"
argv = ["sh", "-c", "printf 'out %s %s %s\n' \"$1\" \"$2\" \"$3\"; printf 'err %s %s %s\n' \"$1\" \"$2\" \"$3\" >&2; exit 3", "sh", "`+tomlEscape(escClear)+`", "`+tomlEscape(escOSC52)+`", "`+tomlEscape(escCR)+`"]
[[section.step]]
id = "banner"
kind = "command"
title.en = "banner"
argv = ["echo", "{{ host.banner }}"]
`)
	raw := func(where, s string) {
		t.Helper()
		if strings.ContainsAny(s, "\x1b\x07\r") {
			t.Errorf("%s: a control character reaches the terminal raw:\n%q", where, s)
		}
	}
	out, errOut, code := run(t, "run", rb, "-i", inv, "-v")
	if code == 0 {
		t.Fatalf("the failing step passed:\n%s", out)
	}
	raw("run -v stdout", out)
	raw("run -v stderr", errOut)
	for _, want := range []string{"^[[2J", "^[]52;c;", "FAILED^Mok"} {
		if !strings.Contains(out, want) {
			t.Errorf("run -v: %q not shown:\n%s", want, out)
		}
	}
	out, _, _ = run(t, "dry-run", rb, "-i", inv, "--lang", "en", "--show-exec")
	raw("dry-run", out)
	if !strings.Contains(out, "inv^[[2J") {
		t.Errorf("dry-run: the inventory value is not shown:\n%s", out)
	}
	out, _, _ = run(t, "dry-run", rb, "-i", inv, "--lang", "en", "--format", "markdown")
	raw("dry-run markdown", out)
	out, _, _ = run(t, "plan", rb, "-i", inv, "--lang", "en")
	raw("plan", out)

	out, _, _ = run(t, "run", rb, "-i", inv, "--output", "json")
	raw("json", out) // encoding/json escapes control characters
	found := false
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var e struct {
			Event, Step string
			StderrTail  string `json:"stderr_tail"`
		}
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		if e.Event == "step_end" && e.Step == "noisy" {
			found = strings.Contains(e.StderrTail, escClear) && strings.Contains(e.StderrTail, escCR)
		}
	}
	if !found {
		t.Errorf("json events lost the raw stderr:\n%s", out)
	}
}

// tomlEscape writes control characters as TOML basic-string escapes.
func tomlEscape(s string) string {
	return strings.NewReplacer("\x1b", `\u001b`, "\x07", `\u0007`, "\r", `\r`).Replace(s)
}

// A command that would run forever is stopped by the
// step timeout: the step's own, else --step-timeout; 0 is refused.
func TestStepTimeout(t *testing.T) {
	b := testbed.Start(t, "n1")
	inv := inventoryFor(t, b, "", nil)
	// A command that never ends on its own: a file step on a FIFO was one
	// until file steps learned to refuse FIFOs.
	rb := runbooktest.Write(t, "", "runbook.toml", `
[runbook]
name = "hang"
[[section]]
id = "s"
on = "n1"
title.en = "s"
[[section.step]]
id = "by-flag"
kind = "command"
title.en = "a"
argv = ["sleep", "600"]
[[section.step]]
id = "own"
kind = "command"
title.en = "b"
argv = ["sleep", "601"]
timeout = "1s"
needs = []
`)
	if _, errOut, code := run(t, "run", rb, "-i", inv, "--step-timeout", "0"); code != cli.ExitInvalid || !strings.Contains(errOut, "--step-timeout") {
		t.Errorf("--step-timeout 0: exit %d\n%s", code, errOut)
	}
	done := make(chan struct{})
	var out string
	var code int
	go func() {
		defer close(done)
		out, _, code = run(t, "run", rb, "-i", inv, "--step-timeout", "2s")
	}()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("a step that never ends hangs the run")
	}
	got := statuses(out)
	if code != cli.ExitFailed || got["by-flag n1"] != "failed" || got["own n1"] != "failed" {
		t.Fatalf("exit %d, statuses %v\n%s", code, got, out)
	}
	// In the run's language (Japanese, tejun's default), which timeout
	// stopped each.
	for _, want := range []string{"2s でタイムアウトしました（--step-timeout）", "1s でタイムアウトしました（手順の timeout）"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q:\n%s", want, out)
		}
	}
}

// The standby build's p4.passwd check runs p4 login -p, which prints a
// ticket: as good as the password, so -v must not show it, nor anything
// else that reports the run.
func TestTicketNotShown(t *testing.T) {
	p := newPair(t)
	text, code := p.build(t, "-v")
	if code != 0 {
		t.Fatalf("build: exit %d\n%s", code, text)
	}
	if !strings.Contains(text, "login -p") {
		t.Fatalf("no login -p in -v output: the check proves nothing\n%s", text)
	}
	again, _ := p.build(t, "-v") // every check passes: login -p prints a ticket
	ticket := regexp.MustCompile(`\b[0-9A-F]{32}\b`)
	if m := ticket.FindString(text + again); m != "" {
		t.Errorf("a ticket (%.8s…) is shown", m)
	}
}
