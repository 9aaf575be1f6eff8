package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"tejun/runbook/runbooktest"
	"tejun/transport/testbed"
)

// A host where someone planted symlinks: at the destination of a private
// file, and as a parent directory in sticky /tmp pointing into /etc. The
// run fails saying why and writes through neither.
func TestRunRefusesPlantedSymlinks(t *testing.T) {
	b := testbed.Start(t, "adv")
	h := b.Host("adv")
	inv := inventoryFor(t, b, "", nil)
	if err := os.MkdirAll(h.Path("/srv/app"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(h.Path("/etc/tejun-keep"), []byte("keep\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/tejun-keep", h.Path("/srv/app/secret.conf")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc", h.Path("/tmp/planted")); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(h.Path("/tmp/planted"), 1701, 1701); err != nil { // nosudo's
		t.Fatal(err)
	}
	// One runbook each: in one, the second step would be skipped after the
	// first failed.
	for _, tc := range []struct{ step, want string }{
		{`id = "secret"
kind = "file"
title.en = "A private file"
path = "/srv/app/secret.conf"
mode = "0600"
content = "password = hunter2\n"`, "is a symlink"},
		{`id = "through-tmp"
kind = "file"
title.en = "A file under a planted link"
path = "/tmp/planted/tejun-evil"
content = "evil\n"`, "refusing to follow symlink"},
	} {
		rb := runbooktest.Write(t, "", "runbook.toml", `[runbook]
name = "planted"
title.en = "Planted symlinks"

[[section]]
id = "s"
on = "nodes"
title.en = "Files"

[[section.step]]
`+tc.step+"\n")
		out, errOut, code := run(t, "run", rb, "-i", inv, "--yes")
		if code != 1 || !strings.Contains(out+errOut, tc.want) {
			t.Errorf("exit %d, want 1 (failed) saying %q\n%s%s", code, tc.want, out, errOut)
		}
	}
	if l, err := os.Readlink(h.Path("/srv/app/secret.conf")); err != nil || l != "/etc/tejun-keep" {
		t.Errorf("the link was replaced: %q %v", l, err)
	}
	if data, _ := os.ReadFile(h.Path("/etc/tejun-keep")); string(data) != "keep\n" {
		t.Errorf("the link's target was written: %q", data)
	}
	if _, err := os.Lstat(h.Path("/etc/tejun-evil")); err == nil {
		t.Error("a file was written through the planted /tmp link into /etc")
	}
}

// sshd killed while an upload runs: the CLI exits 3 (unreachable), not 1.
func TestRunUploadConnectionLost(t *testing.T) {
	b := testbed.Start(t, "adv")
	h := b.Host("adv")
	inv := inventoryFor(t, b, "", nil)
	if err := os.MkdirAll(h.Path("/srv/app"), 0o755); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// Sparse: large enough to be cut off half-way, cheap to read.
	f, err := os.Create(filepath.Join(dir, "big.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(1 << 30); err != nil {
		t.Fatal(err)
	}
	f.Close()
	rb := runbooktest.Write(t, dir, "runbook.toml", `[runbook]
name = "big-upload"
title.en = "A big upload"

[[section]]
id = "s"
on = "nodes"
title.en = "Files"

[[section.step]]
id = "big"
kind = "upload"
title.en = "Upload a big file"
src = "big.bin"
dst = "/srv/app/big.bin"
mode = "0600"
`)
	killed := make(chan bool, 1)
	go func() {
		temp := regexp.MustCompile(`^\.tejun-[0-9a-f]{12}\.tmp$`)
		deadline := time.Now().Add(60 * time.Second)
		for time.Now().Before(deadline) {
			entries, _ := os.ReadDir(h.Path("/srv/app"))
			for _, e := range entries {
				if temp.MatchString(e.Name()) {
					h.Stop()
					killed <- true
					return
				}
			}
			time.Sleep(2 * time.Millisecond)
		}
		killed <- false
	}()
	out, errOut, code := run(t, "run", rb, "-i", inv, "--yes")
	if !<-killed {
		t.Fatalf("the upload never started (exit %d)\n%s%s", code, out, errOut)
	}
	if code != 3 {
		t.Fatalf("exit %d, want 3 (connection lost)\n%s%s", code, out, errOut)
	}
	if _, err := os.Stat(h.Path("/srv/app/big.bin")); err == nil {
		t.Error("a half upload was renamed into place")
	}
}

// A test host's /dev is its own: a step that chmods, replaces or removes a
// device node (what a hostile path does) changes the host's node, never
// the machine's that runs the tests.
func TestTestbedDevIsPrivate(t *testing.T) {
	b := testbed.Start(t, "adv")
	inv := inventoryFor(t, b, "", nil)
	before := map[string]os.FileMode{}
	for _, d := range []string{"/dev/null", "/dev/zero"} {
		fi, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		before[d] = fi.Mode()
	}
	rb := runbooktest.Write(t, "", "runbook.toml", `[runbook]
name = "dev"
[[section]]
id = "s"
on = "nodes"
title.en = "s"
[[section.step]]
id = "devs"
kind = "command"
title.en = "change the host's devices"
shell = "chmod 600 /dev/null && rm -f /dev/zero && echo x > /dev/zero && test -f /dev/zero"
`)
	if out, errOut, code := run(t, "run", rb, "-i", inv); code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for d, mode := range before {
		fi, err := os.Stat(d)
		if err != nil || fi.Mode() != mode {
			t.Errorf("%s on the test machine: %v %v, was %v", d, fi.Mode(), err, mode)
		}
	}
}
