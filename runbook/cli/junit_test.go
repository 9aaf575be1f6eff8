package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tejun/runbook"
	"tejun/runbook/run"
)

// A JUnit report holds command output (a failed command's stderr): it is
// private like the audit record, whether the file is new or was there.
func TestJUnitWrittenPrivate(t *testing.T) {
	dir := t.TempDir()
	fresh, old := filepath.Join(dir, "new.xml"), filepath.Join(dir, "old.xml")
	if err := os.WriteFile(old, []byte("old report"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(old, 0o644) // whatever the umask
	for _, p := range []string{fresh, old} {
		j := newJUnit(&runbook.Runbook{Name: "r", File: "r.toml"}, "m", "ja")
		if err := j.write(p); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %o, want 600", filepath.Base(p), fi.Mode().Perm())
		}
	}
}

// --junit /tmp/report.xml where someone put a symlink (or a hard link) to
// another file: that file is not written (tejun often runs as root); the
// path itself becomes the report, complete or not at all.
func TestJUnitNotThroughALink(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("precious\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sym, hard := filepath.Join(dir, "sym.xml"), filepath.Join(dir, "hard.xml")
	os.Symlink(victim, sym)
	os.Link(victim, hard)
	for _, p := range []string{sym, hard} {
		j := newJUnit(&runbook.Runbook{Name: "r", File: "r.toml"}, "m", "ja")
		if err := j.write(p); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(victim); string(b) != "precious\n" {
			t.Fatalf("%s: the linked file was overwritten: %q", filepath.Base(p), b)
		}
		fi, err := os.Lstat(p)
		if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v, want a 0600 file", filepath.Base(p), fi.Mode(), err)
		}
		if b, _ := os.ReadFile(p); !strings.Contains(string(b), "<testsuites") {
			t.Errorf("%s holds %q", filepath.Base(p), b)
		}
	}
}

// A JUnit report is read by people (a CI page, cat): what a host printed
// is shown as mask.Visible shows it, escape sequences as ^[ rather than
// dropped for U+FFFD by the XML writer, C1 and bidi controls not raw.
func TestJUnitShowsControlsVisibly(t *testing.T) {
	j := newJUnit(&runbook.Runbook{Name: "r", File: "r.toml"}, "m", "en")
	st := &runbook.Step{ID: "s", Section: &runbook.Section{Number: 1}, Number: 1}
	j.Finished(run.Event{Step: st, Host: "h1", Status: run.Failed, Error: "boom \x1b[2J \u009b31m \u202eevil", Stderr: "tail \x1b]52;c;eA==\x07"})
	p := filepath.Join(t.TempDir(), "j.xml")
	if err := j.write(p); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	for _, bad := range []string{"\x1b", "\u009b", "\u202e", "\ufffd"} {
		if strings.Contains(string(b), bad) {
			t.Errorf("%q in the report:\n%s", bad, b)
		}
	}
	if !strings.Contains(string(b), "boom ^[[2J") || !strings.Contains(string(b), "tail ^[]52;c;eA==^G") {
		t.Errorf("the controls are not shown:\n%s", b)
	}
}
