package main

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"
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
