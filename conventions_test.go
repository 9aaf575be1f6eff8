package main

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"tejun/runbook/app"
)

// TestVersion builds the real binary in this checkout: tejun version and
// tejun --version print the same line, with the commit git is at.
func TestVersion(t *testing.T) {
	bin := tejunBinary(t)
	var lines []string
	for _, args := range [][]string{{"version"}, {"--version"}, {"-v"}} {
		out, err := exec.Command(bin, args...).Output()
		if err != nil {
			t.Fatalf("tejun %s: %v", args, err)
		}
		lines = append(lines, string(out))
	}
	if lines[0] != lines[1] || lines[0] != lines[2] {
		t.Errorf("version, --version and -v differ: %q", lines)
	}
	if !regexp.MustCompile(`^tejun version \S+ \(commit [^)]+\) go1\.\S+ \w+/\w+\n$`).MatchString(lines[0]) {
		t.Errorf("version line %q", lines[0])
	}
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skip("not a git checkout: the commit cannot be compared")
	}
	if want := "commit " + strings.TrimSpace(string(head))[:12]; !strings.Contains(lines[0], want) {
		t.Errorf("version %q does not name %s", lines[0], want)
	}
}

// TestRunNeedsRunbook: run and plan never fall back on the bundled
// examples (their addresses are the manual's, not the user's); dry-run,
// which contacts nothing, still does. A runbook of optional sections only
// says which to choose instead of checking nothing; hosts needs -i.
// Each is a usage error: exit 2, nothing on stdout, the message pinned.
func TestRunNeedsRunbook(t *testing.T) {
	for name, args := range map[string][]string{
		"run_no_runbook":       {"run"},
		"run_yes_no_runbook":   {"run", "--yes", "--lang", "en"},
		"plan_no_runbook":      {"plan"},
		"run_optional_only":    {"run", "examples/perforce-ha/failover.toml", "-y"},
		"plan_optional_only":   {"plan", "examples/perforce-ha/failover.toml"},
		"run_only_in_optional": {"run", "examples/perforce-ha/failover.toml", "--only", "failover"},
		"no_such_section":      {"plan", "examples/perforce-ha/failover.toml", "--section", "master-dwn"},
		"hosts_no_inventory":   {"hosts"},
		"hosts_argument":       {"hosts", "inv.toml"},
	} {
		t.Run(name, func(t *testing.T) {
			out, errOut, code := run(t, args...)
			if code != app.ExitInvalid {
				t.Errorf("exit %d, want %d", code, app.ExitInvalid)
			}
			if out != "" {
				t.Errorf("printed to stdout on a usage error: %q", out)
			}
			golden(t, errOut)
		})
	}
	out, errOut, code := run(t, "run", "--dry-run", "--lang", "en")
	if code != 0 || !strings.Contains(out, "standby server") {
		t.Errorf("run --dry-run without a runbook: exit %d, %s%s", code, out, errOut)
	}
}

// TestGraphInventory: graph takes -i as the other commands do, and then
// names the hosts each step runs on.
func TestGraphInventory(t *testing.T) {
	out, errOut, code := run(t, "graph", "testdata/multi-host.toml", "-i", "testdata/multi-host-inventory.toml")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden(t, out)
}
