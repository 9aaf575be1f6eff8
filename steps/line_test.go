package steps

import "testing"

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
