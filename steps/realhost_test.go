package steps_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"tejun/steps"
	"tejun/steps/stepstest"
	"tejun/transport/ssh"
	"tejun/transport/testbed"
)

// These run generic kinds' Check and Apply on a real sshd host (the
// test-bed, as root): what a FIFO, a device or a set-id mode does to a
// command can only be seen on one.

// advHost starts one test-bed host and gives a root Env on it.
func advHost(t *testing.T) (*testbed.Host, *stepstest.HostEnv) {
	t.Helper()
	b := testbed.Start(t, "adv")
	h := b.Hosts[0]
	c, err := ssh.Dial(context.Background(), ssh.Config{Name: h.Name, Address: h.Address, Port: h.Port, User: "root",
		IdentityFiles: []string{b.KeyFile}, KnownHosts: []string{b.KnownHosts}, AgentSocket: "/nonexistent"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return h, &stepstest.HostEnv{Conn: c, Local: t.TempDir()}
}

// TestFileAndLineReadOnlyRegularFiles: a file or line step whose path is a
// FIFO (cat waited forever), a device (/dev/zero filled memory), a
// directory, a file over MaxRead or a symlink without follow stops with a
// message saying so, and leaves the thing alone. With follow the check
// reads the link's target.
func TestFileAndLineReadOnlyRegularFiles(t *testing.T) {
	h, env := advHost(t)
	if err := os.MkdirAll(h.Path("/root/t/dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(h.Path("/root/t/fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(h.Path("/root/t/target"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/root/t/target", h.Path("/root/t/link")); err != nil {
		t.Fatal(err)
	}
	big, err := os.Create(h.Path("/root/t/big"))
	if err != nil {
		t.Fatal(err)
	}
	big.Truncate(steps.MaxRead + 1) // sparse: costs no disk
	big.Close()
	// A /dev/zero of the host's own: its /dev is the test machine's, bound
	// in, and a write that replaced /dev/zero there would replace the
	// machine's.
	if err := syscall.Mknod(h.Path("/root/t/zero"), syscall.S_IFCHR|0o666, 1<<8|5); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct{ path, want string }{
		{"/root/t/fifo", "is a FIFO, not a regular file"},
		{"/root/t/zero", "is a device, not a regular file"},
		{"/root/t/dir", "is a directory, not a regular file"},
		{"/root/t/big", "more than the 64 MiB"},
		{"/root/t/link", "is a symlink; set follow = true to edit its target"},
	} {
		for _, s := range []steps.Runner{
			&steps.Line{Path: tc.path, Line: "x", Create: true},
			&steps.Line{Path: tc.path, Regexp: "^x", State: "absent"},
			&steps.File{Path: tc.path, Content: "x\n"}, // last: it may replace a big file
		} {
			ictx, cancel := context.WithTimeout(ctx, time.Minute)
			_, err := s.Check(ictx, env)
			if ictx.Err() != nil {
				t.Errorf("%T on %s: the check hung", s, tc.path)
			} else if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%T on %s: check error %v, want %q", s, tc.path, err, tc.want)
			}
			if _, file := s.(*steps.File); file && tc.path == "/root/t/big" {
				// Replacing a big file needs no reading it: only its check refuses.
			} else if err := s.Apply(ictx, env); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%T on %s: apply error %v, want %q", s, tc.path, err, tc.want)
			}
			cancel()
		}
	}
	// Checksums too: sha256sum on a FIFO waits forever.
	if err := os.WriteFile(filepath.Join(env.Local, "up"), []byte("up\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, s := range []steps.Runner{
		&steps.Upload{Src: "up", Dst: "/root/t/fifo"},
		&steps.Transfer{Src: "/root/t/target", To: "adv", Dst: "/root/t/fifo"},
		&steps.Transfer{Src: "/root/t/fifo", To: "adv", Dst: "/root/t/target"},
	} {
		ictx, cancel := context.WithTimeout(ctx, time.Minute)
		_, err := s.Check(ictx, env)
		if ictx.Err() != nil {
			t.Errorf("%+v: the check hung", s)
		} else if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("%+v: check error %v, want one saying the FIFO is not a regular file", s, err)
		}
		cancel()
	}
	if fi, err := os.Lstat(h.Path("/root/t/fifo")); err != nil || fi.Mode().Type() != fs.ModeNamedPipe {
		t.Errorf("the FIFO was replaced: %v %v", fi, err)
	}
	if fi, err := os.Lstat(h.Path("/root/t/link")); err != nil || fi.Mode().Type() != fs.ModeSymlink {
		t.Errorf("the symlink was replaced: %v %v", fi, err)
	}
	for _, tc := range []struct {
		s    steps.Runner
		done bool
	}{
		{&steps.File{Path: "/root/t/link", Content: "hello\n", Follow: true}, true},
		{&steps.File{Path: "/root/t/link", Content: "bye\n", Follow: true}, false},
		{&steps.Line{Path: "/root/t/link", Line: "hello", Follow: true}, true},
		{&steps.Line{Path: "/root/t/link", Line: "bye", Follow: true}, false},
	} {
		st, err := tc.s.Check(ctx, env)
		if err != nil || st.Done != tc.done {
			t.Errorf("%+v: check %+v, %v; want done=%v (the link's target says hello)", tc.s, st, err, tc.done)
		}
	}
}

// TestDirectoryKeepsSetIDBits: a directory with an owner and a mode such as
// 2755 ends with both, and a second check finds it done.
func TestDirectoryKeepsSetIDBits(t *testing.T) {
	h, env := advHost(t)
	ctx := context.Background()
	for _, mode := range []string{"4755", "2755", "6750"} {
		d := &steps.Directory{Path: "/srv/d" + mode, Owner: "perforce", Group: "perforce", Mode: mode}
		if err := d.Apply(ctx, env); err != nil {
			t.Fatal(err)
		}
		if err := d.Verify(ctx, env); err != nil {
			t.Errorf("mode %s: %v", mode, err)
		}
		fi, err := os.Stat(h.Path(d.Path))
		if err != nil {
			t.Fatal(err)
		}
		got := fmt.Sprintf("%o", fi.Mode().Perm()|fi.Mode()&(fs.ModeSetuid|fs.ModeSetgid))
		want := map[string]string{"4755": "40000755", "2755": "20000755", "6750": "60000750"}[mode]
		if st := fi.Sys().(*syscall.Stat_t); got != want || st.Uid != 1666 || st.Gid != 1666 {
			t.Errorf("mode %s: the host has %s %d:%d", mode, got, st.Uid, st.Gid)
		}
	}
}
