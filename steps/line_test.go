package steps

import (
	"fmt"
	"strings"
	"testing"
)

func TestLineEdit(t *testing.T) {
	hosts := "127.0.0.1 localhost\n10.0.0.5 db-01\n10.0.0.6 db-02\n"
	for _, tc := range []struct {
		name    string
		l       Line
		want    string
		changed bool
	}{
		{"present already", Line{Line: "10.0.0.5 db-01"}, hosts, false},
		{"append", Line{Line: "10.0.0.7 app-01"}, hosts + "10.0.0.7 app-01\n", true},
		{"replace by regexp", Line{Line: "10.0.1.5 db-01", Regexp: `\sdb-01$`}, "127.0.0.1 localhost\n10.0.1.5 db-01\n10.0.0.6 db-02\n", true},
		{"regexp already right", Line{Line: "10.0.0.6 db-02", Regexp: `\sdb-02$`}, hosts, false},
		{"absent exact", Line{Line: "10.0.0.6 db-02", State: "absent"}, "127.0.0.1 localhost\n10.0.0.5 db-01\n", true},
		{"absent by regexp", Line{Regexp: `^10\.`, State: "absent"}, "127.0.0.1 localhost\n", true},
		{"absent already", Line{Line: "nope", State: "absent"}, hosts, false},
	} {
		got, changed := tc.l.edit(hosts)
		if got != tc.want || changed != tc.changed {
			t.Errorf("%s: got %q (changed %v), want %q (%v)", tc.name, got, changed, tc.want, tc.changed)
		}
	}
	if got, _ := (&Line{Line: "SELINUX=disabled", Regexp: "^SELINUX="}).edit(""); got != "SELINUX=disabled\n" {
		t.Errorf("empty file: %q", got)
	}
}

func TestLineDiff(t *testing.T) {
	got := lineDiff("a\nb\nc\n", "a\nB\nc\nd\n", 10)
	if got != "+B\n-b\n+d" && got != "-b\n+B\n+d" {
		t.Errorf("diff:\n%s", got)
	}
}

// A diff of two long, wholly different files is a count, not an LCS table
// of every pair of lines (5000 x 5000 lines would be 200 MB).
func TestLineDiffIsBounded(t *testing.T) {
	var a, b strings.Builder
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(&a, "old %d\n", i)
		fmt.Fprintf(&b, "new %d\n", i)
	}
	if got := lineDiff(a.String(), b.String(), 10); !strings.Contains(got, "5000 lines go, 5000 lines come") {
		t.Errorf("diff of two 5000-line files: %.200s", got)
	}
	// A one-line change in a long file is still shown exactly.
	long := a.String()
	changed := strings.Replace(long, "old 2500\n", "new 2500\n", 1)
	if got := lineDiff(long, changed, 10); got != "+new 2500\n-old 2500" && got != "-old 2500\n+new 2500" {
		t.Errorf("one changed line: %q", got)
	}
}
