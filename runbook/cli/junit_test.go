package cli

import (
	"os"
	"path/filepath"
	"testing"

	"tejun/runbook"
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
