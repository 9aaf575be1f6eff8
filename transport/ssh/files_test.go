package ssh_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"tejun/transport"
	"tejun/transport/internal/writepath/writepathtest"
	"tejun/transport/ssh"
	"tejun/transport/testbed"
)

var tempRe = regexp.MustCompile(`^\.tejun-[0-9a-f]{12}\.tmp$`)

// temps lists the temporary files of ours in a directory of the test
// machine.
func temps(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if tempRe.MatchString(e.Name()) {
			out = append(out, e.Name())
		}
	}
	return out
}

// waitTemp polls until a temporary file appears in dir.
func waitTemp(t *testing.T, dir string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if ts := temps(t, dir); len(ts) > 0 {
			return ts[0]
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no temporary file appeared in %s", dir)
	return ""
}

// gate hands out first, then blocks until opened, then gives the rest:
// an upload the test can hold half-way.
type gate struct {
	first, rest io.Reader
	open        chan struct{}
}

func newGate(first, rest []byte) *gate {
	return &gate{first: bytes.NewReader(first), rest: bytes.NewReader(rest), open: make(chan struct{})}
}

func (g *gate) Read(p []byte) (int, error) {
	if n, err := g.first.Read(p); n > 0 || err != io.EOF {
		return n, err
	}
	<-g.open
	return g.rest.Read(p)
}

// hook calls at once, after the first n bytes have been read.
type hook struct {
	r  io.Reader
	n  int
	at func()
}

func (h *hook) Read(p []byte) (int, error) {
	if h.n <= 0 && h.at != nil {
		h.at()
		h.at = nil
	}
	if h.n > 0 && len(p) > h.n {
		p = p[:h.n]
	}
	n, err := h.r.Read(p)
	h.n -= n
	return n, err
}

// zeros is an endless source of data.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// Another user polling the temporary file of a private upload never reads
// a byte of it: before, it was created 0644 and chmod'ed after the data.
func TestSSHWriteTempNeverReadable(t *testing.T) {
	b := testbed.Start(t, "h1")
	h := b.Hosts[0]
	writepathtest.Mkdir(t, h.Path("/srv/pub"), 0o755, 0)
	writepathtest.Mkdir(t, h.Path("/srv/perf"), 0o755, 1666)
	spy := dial(t, b, h, "nosudo")
	for _, tc := range []struct {
		login, as, dir string
		mode           os.FileMode
		subsystem      bool
	}{
		{"root", "", "/srv/pub", 0o600, false},
		{"root", "", "/srv/pub", 0o644, false}, // even a world-readable file is private until complete
		{"ops", "perforce", "/srv/perf", 0o400, false},
		{"root", "", "/srv/pub", 0o600, true},
	} {
		t.Run(fmt.Sprintf("%s-%s-%o-subsystem=%v", tc.login, tc.as, tc.mode, tc.subsystem), func(t *testing.T) {
			if tc.subsystem {
				defer ssh.WithoutSFTPServer()()
			}
			c := dial(t, b, h, tc.login)
			secret := bytes.Repeat([]byte("s3cret "), 100<<10)
			g := newGate(secret[:64<<10], secret[64<<10:])
			done := make(chan error, 1)
			dst := tc.dir + "/secret"
			go func() {
				_, err := c.WriteFile(context.Background(), dst, g, transport.WriteOptions{Mode: tc.mode, As: tc.as})
				done <- err
			}()
			tmp := waitTemp(t, h.Path(tc.dir))
			fi, err := os.Stat(filepath.Join(h.Path(tc.dir), tmp))
			if err != nil {
				t.Fatal(err)
			}
			out, err := transport.Output(context.Background(), spy, transport.Cmd{Argv: []string{"cat", "--", tc.dir + "/" + tmp}}, nil)
			close(g.open)
			if err == nil || out != "" {
				t.Errorf("nosudo read the temporary file (mode %v): %d bytes, err %v", fi.Mode(), len(out), err)
			}
			if fi.Mode().Perm()&0o077 != 0 {
				t.Errorf("temporary file mode %v, want no access for group and others", fi.Mode())
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(h.Path(dst))
			if err != nil || !bytes.Equal(got, secret) {
				t.Fatalf("content: %d bytes, %v", len(got), err)
			}
			if fi, _ := os.Stat(h.Path(dst)); fi.Mode().Perm() != tc.mode {
				t.Errorf("final mode %v, want %v", fi.Mode(), tc.mode)
			}
		})
	}
}

// chown clears setuid and setgid bits, so the mode must come after it.
func TestSSHWriteSetuidSurvivesOwner(t *testing.T) {
	b := testbed.Start(t, "h1")
	h := b.Hosts[0]
	c := dial(t, b, h, "root")
	for _, mode := range []uint32{0o4755, 0o2755, 0o6750} {
		p := fmt.Sprintf("/srv/tool-%o", mode)
		if _, err := c.WriteFile(context.Background(), p, strings.NewReader("#!/bin/sh\n"), transport.WriteOptions{Mode: os.FileMode(mode), Owner: "perforce", Group: "perforce"}); err != nil {
			t.Fatal(err)
		}
		var st syscallStat
		if err := syscall.Stat(h.Path(p), &st); err != nil {
			t.Fatal(err)
		}
		if st.Mode&0o7777 != mode || st.Uid != 1666 || st.Gid != 1666 {
			t.Errorf("%s: mode %o uid %d gid %d, want %o 1666 1666", p, st.Mode&0o7777, st.Uid, st.Gid, mode)
		}
	}
}

func TestSSHWriteSymlinks(t *testing.T) {
	b := testbed.Start(t, "h1")
	h := b.Hosts[0]
	writepathtest.PlantLinks(t, h.Root)
	// The test machine's absolute links must mean the host's paths.
	for _, l := range []string{"/tmp/evil-dir", "/tmp/evil-file"} {
		target, _ := os.Readlink(h.Path(l))
		must(t, os.Remove(h.Path(l)))
		must(t, os.Symlink(strings.TrimPrefix(target, h.Root), h.Path(l)))
		must(t, os.Lchown(h.Path(l), 1701, 1701))
	}
	c := dial(t, b, h, "root")
	for _, tc := range writepathtest.SymlinkCases {
		_, err := c.WriteFile(context.Background(), tc.Dst, strings.NewReader("new\n"), transport.WriteOptions{Follow: tc.Follow})
		if tc.WantErr == "" && err != nil || tc.WantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.WantErr)) {
			t.Errorf("%s: err = %v, want %q", tc.Name, err, tc.WantErr)
		}
		writepathtest.CheckLinks(t, h.Root, tc)
	}
	// A rewrite without a mode keeps the file's; a new file gets 0644.
	must(t, os.WriteFile(h.Path("/srv/private"), []byte("x"), 0o600))
	for _, p := range []string{"/srv/private", "/srv/fresh"} {
		if _, err := c.WriteFile(context.Background(), p, strings.NewReader("y"), transport.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if fi, _ := os.Stat(h.Path("/srv/private")); fi.Mode().Perm() != 0o600 {
		t.Errorf("rewritten file mode %v, want its own 0600", fi.Mode())
	}
	if fi, _ := os.Stat(h.Path("/srv/fresh")); fi.Mode().Perm() != 0o644 {
		t.Errorf("new file mode %v, want 0644", fi.Mode())
	}
	if ts := temps(t, h.Path("/srv/d")); len(ts) > 0 {
		t.Errorf("temporary files left: %v", ts)
	}
}

// A cancelled upload removes its temporary file.
func TestSSHWriteCancelRemovesTemp(t *testing.T) {
	b := testbed.Start(t, "h1")
	h := b.Hosts[0]
	c := dial(t, b, h, "root")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := c.WriteFile(ctx, "/srv/big", &hook{r: zeros{}, n: 8 << 20, at: cancel}, transport.WriteOptions{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if ts := temps(t, h.Path("/srv")); len(ts) > 0 {
		t.Errorf("temporary files left: %v", ts)
	}
}

// A write into a directory removes the temporary files interrupted runs
// left there, and nothing else.
func TestSSHWriteCleansStaleTemps(t *testing.T) {
	b := testbed.Start(t, "h1")
	h := b.Hosts[0]
	dir := h.Path("/srv/app")
	writepathtest.Mkdir(t, dir, 0o755, 0)
	old := time.Now().Add(-2 * time.Hour)
	plant := func(name string, uid int) string {
		p := filepath.Join(dir, name)
		must(t, os.WriteFile(p, []byte("left"), 0o600))
		must(t, os.Lchown(p, uid, uid))
		must(t, os.Chtimes(p, old, old))
		return p
	}
	ours := plant(".tejun-0123456789ab.tmp", 0)
	keep := []string{
		plant(".tejun-0123456789ac.tmp", 1701), // someone else's
		plant(".tejun-backup.tmp", 0),          // not our pattern
		plant("data.tmp", 0),
	}
	young := plant(".tejun-0123456789ad.tmp", 0)
	must(t, os.Chtimes(young, time.Now(), time.Now())) // perhaps a running upload
	keep = append(keep, young)
	c := dial(t, b, h, "root")
	if _, err := c.WriteFile(context.Background(), "/srv/app/conf", strings.NewReader("x"), transport.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(ours); err == nil {
		t.Errorf("stale %s was not removed", ours)
	}
	for _, p := range keep {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s was removed: %v", p, err)
		}
	}
}

// A connection lost under an upload is ErrConnectionLost (the CLI's exit
// 3), and the next write there removes the temporary file it left.
func TestSSHWriteConnectionLost(t *testing.T) {
	b := testbed.Start(t, "h1")
	h := b.Hosts[0]
	c := dial(t, b, h, "root")
	_, err := c.WriteFile(context.Background(), "/srv/big", &hook{r: io.LimitReader(zeros{}, 256<<20), n: 4 << 20, at: h.Stop}, transport.WriteOptions{})
	if !errors.Is(err, transport.ErrConnectionLost) {
		t.Fatalf("err = %v, want ErrConnectionLost", err)
	}
	if len(temps(t, h.Path("/srv"))) == 0 {
		t.Fatal("no temporary file was left: the test did not interrupt the upload")
	}
	if err := h.Restart(); err != nil {
		t.Fatal(err)
	}
	c2 := dial(t, b, h, "root")
	if _, err := c2.WriteFile(context.Background(), "/srv/small", strings.NewReader("x"), transport.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if ts := temps(t, h.Path("/srv")); len(ts) > 0 {
		t.Errorf("temporary files left after the next write: %v", ts)
	}
}

// hostPID is the host's sshd, found by its root directory, to enter its
// mount namespace.
func hostPID(t *testing.T, h *testbed.Host) string {
	t.Helper()
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if r, err := os.Readlink("/proc/" + e.Name() + "/root"); err == nil && r == h.Root {
			return e.Name()
		}
	}
	t.Fatalf("no process of host %s found", h.Name)
	return ""
}

// A full disk says so, instead of SFTP's bare "failure".
func TestSSHWriteNoSpace(t *testing.T) {
	b := testbed.Start(t, "h1")
	h := b.Hosts[0]
	if _, err := exec.LookPath("nsenter"); err != nil {
		t.Skip("needs nsenter (util-linux) to mount a small file system on the host")
	}
	writepathtest.Mkdir(t, h.Path("/full"), 0o755, 0)
	if out, err := exec.Command("nsenter", "-t", hostPID(t, h), "-m", "mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", h.Path("/full")).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs in the host's namespace: %v: %s", err, out)
	}
	c := dial(t, b, h, "root")
	_, err := c.WriteFile(context.Background(), "/full/big", io.LimitReader(zeros{}, 8<<20), transport.WriteOptions{})
	if !errors.Is(err, transport.ErrNoSpace) || !strings.Contains(err.Error(), "no space left on the host") {
		t.Fatalf("err = %v, want ErrNoSpace", err)
	}
	out, err := transport.Output(context.Background(), c, transport.Cmd{Argv: []string{"ls", "-A", "/full"}}, nil)
	if err != nil || strings.TrimSpace(out) != "" {
		t.Errorf("left on the full disk: %q %v", out, err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
