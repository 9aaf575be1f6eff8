// Package writepathtest holds the symlink fixtures both file-moving
// transports are tested on, so that SFTP and the local file system are held
// to one table of cases rather than two copies that can drift.
package writepathtest

import (
	"os"
	"testing"
)

// Mkdir makes p with exactly mode and owner uid, whatever the umask.
func Mkdir(t testing.TB, p string, mode os.FileMode, uid int) {
	t.Helper()
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(p, uid, uid); err != nil {
		t.Fatal(err)
	}
}

// SymlinkCase is one destination and what a write to it must do, shared
// by the SSH and local tests.
type SymlinkCase struct {
	Name   string
	Dst    string
	Follow bool
	// WantErr is part of the refusal's message; "" means it succeeds.
	WantErr string
}

// PlantLinks builds, under root, what the symlink cases write to:
// a root-owned link to a 0640 file, a link planted by nosudo in sticky
// /tmp, a planted parent directory link, and a dangling link.
func PlantLinks(t testing.TB, root string) {
	t.Helper()
	Mkdir(t, root+"/etc", 0o755, 0)
	Mkdir(t, root+"/tmp", 0o1777|os.ModeSticky, 0)
	Mkdir(t, root+"/srv/d", 0o755, 0)
	must(t, os.WriteFile(root+"/etc/target", []byte("old\n"), 0o640))
	must(t, os.Chmod(root+"/etc/target", 0o640))
	must(t, os.Symlink("../../etc/target", root+"/srv/d/link"))
	must(t, os.Symlink(root+"/etc", root+"/tmp/evil-dir"))
	must(t, os.Lchown(root+"/tmp/evil-dir", 1701, 1701))
	must(t, os.Symlink(root+"/etc/target", root+"/tmp/evil-file"))
	must(t, os.Lchown(root+"/tmp/evil-file", 1701, 1701))
	must(t, os.Symlink("new-target", root+"/srv/d/dangling"))
	must(t, os.Mkdir(root+"/srv/d/sub", 0o755))
}

// SymlinkCases are the destinations both transports are tried on.
var SymlinkCases = []SymlinkCase{
	{"link refused", "/srv/d/link", false, "is a symlink"},
	{"link followed", "/srv/d/link", true, ""},
	{"planted parent", "/tmp/evil-dir/planted", false, "refusing to follow symlink"},
	{"planted parent followed", "/tmp/evil-dir/planted", true, "refusing to follow symlink"},
	{"planted file followed", "/tmp/evil-file", true, "refusing to follow symlink"},
	{"dangling followed", "/srv/d/dangling", true, ""},
	{"directory", "/srv/d/sub", false, "is a directory"},
}

// CheckLinks checks what the writes did to the tree under root.
func CheckLinks(t testing.TB, root string, c SymlinkCase) {
	t.Helper()
	if _, err := os.Stat(root + "/etc/planted"); err == nil {
		t.Errorf("%s: a write went through a planted link", c.Name)
	}
	if l, err := os.Readlink(root + "/srv/d/link"); err != nil || l != "../../etc/target" {
		t.Errorf("%s: the link was replaced: %q %v", c.Name, l, err)
	}
	data, _ := os.ReadFile(root + "/etc/target")
	fi, _ := os.Stat(root + "/etc/target")
	switch {
	case c.Name == "link followed":
		if string(data) != "new\n" || fi.Mode().Perm() != 0o640 {
			t.Errorf("%s: target %q mode %v, want new content and its own 0640", c.Name, data, fi.Mode())
		}
	case string(data) != "old\n":
		t.Errorf("%s: target changed to %q", c.Name, data)
	}
	if c.Name == "dangling followed" {
		fi, err := os.Lstat(root + "/srv/d/new-target")
		if err != nil || fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: the dangling link's target: %v %v, want a new 0644 file", c.Name, fi, err)
		}
	}
	must(t, os.WriteFile(root+"/etc/target", []byte("old\n"), 0o640))
	must(t, os.Chmod(root+"/etc/target", 0o640))
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
