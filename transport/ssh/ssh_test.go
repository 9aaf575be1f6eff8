package ssh_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"tejun/transport"
	"tejun/transport/ssh"
	"tejun/transport/testbed"
)

func dial(t *testing.T, b *testbed.Bed, h *testbed.Host, user string) *ssh.Conn {
	t.Helper()
	c, err := ssh.Dial(context.Background(), config(b, h, user))
	if err != nil {
		t.Fatalf("dial %s: %v\n%s", h.Name, err, h.Log())
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func config(b *testbed.Bed, h *testbed.Host, user string) ssh.Config {
	return ssh.Config{
		Name: h.Name, Address: h.Address, Port: h.Port, User: user,
		IdentityFiles: []string{b.KeyFile}, KnownHosts: []string{b.KnownHosts},
		AgentSocket: "/nonexistent", // tests never use the developer's agent
	}
}

func TestSSHRun(t *testing.T) {
	b := testbed.Start(t, "h1")
	c := dial(t, b, b.Hosts[0], "root")
	ctx := context.Background()

	out, err := transport.Output(ctx, c, transport.Cmd{Argv: []string{"printf", "%s|", "a b", "$(id)"}}, nil)
	if err != nil || out != "a b|$(id)|" {
		t.Fatalf("out %q, err %v", out, err)
	}
	// Private file systems: a file in this host's /tmp is on its root.
	if _, err := transport.Output(ctx, c, transport.Cmd{Argv: []string{"sh", "-c", "echo hi > /tmp/mark"}}, nil); err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(b.Hosts[0].Path("/tmp/mark")); err != nil || string(data) != "hi\n" {
		t.Fatalf("host file: %q %v", data, err)
	}
	err = c.Run(ctx, transport.Cmd{Argv: []string{"sh", "-c", "echo oops >&2; exit 3"}}, transport.Stdio{})
	var ee *transport.ExitError
	if !errors.As(err, &ee) || ee.Code != 3 || ee.Stderr != "oops" {
		t.Fatalf("exit error = %#v", err)
	}
	// Standard input is streamed to the command (how secrets travel).
	out, err = transport.Output(ctx, c, transport.Cmd{Argv: []string{"wc", "-c"}}, strings.NewReader(strings.Repeat("x", 1<<20)))
	if err != nil || strings.TrimSpace(out) != "1048576" {
		t.Fatalf("stdin: %q %v", out, err)
	}
	// One connection carries many sessions at once.
	errs := make(chan error, 20)
	for i := 0; i < 20; i++ {
		go func() { _, err := transport.Output(ctx, c, transport.Cmd{Argv: []string{"true"}}, nil); errs <- err }()
	}
	for i := 0; i < 20; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

func TestSSHCancelStopsRemoteCommand(t *testing.T) {
	b := testbed.Start(t, "h1")
	for _, user := range []string{"ops", "root"} {
		t.Run(user, func(t *testing.T) { cancelStops(t, dial(t, b, b.Hosts[0], user)) })
	}
}

func cancelStops(t *testing.T, c *ssh.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := c.Run(ctx, transport.Cmd{Argv: []string{"sleep", "37"}}, transport.Stdio{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("cancel took %v", d)
	}
	// The remote sleep is gone, not orphaned.
	deadline := time.Now().Add(3 * time.Second)
	for {
		_, err := transport.Output(context.Background(), c, transport.Cmd{Argv: []string{"pgrep", "-f", "sleep 37"}}, nil)
		if err != nil {
			break // pgrep found nothing
		}
		if time.Now().After(deadline) {
			t.Fatal("the remote command still runs after cancellation")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestSSHHostKeys(t *testing.T) {
	b := testbed.Start(t, "h1")
	h := b.Hosts[0]
	empty := filepath.Join(t.TempDir(), "known_hosts")

	cfg := config(b, h, "root")
	cfg.KnownHosts = []string{empty}
	_, err := ssh.Dial(context.Background(), cfg)
	var hk *transport.HostKeyError
	if !errors.As(err, &hk) || !errors.Is(err, transport.ErrHostKeyUnknown) || hk.Fingerprint != gossh.FingerprintSHA256(h.HostKey) {
		t.Fatalf("unknown host: %v", err)
	}
	if !strings.Contains(err.Error(), "accept-new") || !strings.Contains(err.Error(), hk.Fingerprint) {
		t.Errorf("the refusal does not say how to accept: %v", err)
	}

	cfg.HostKey = "accept-new"
	c, err := ssh.Dial(context.Background(), cfg)
	if err != nil {
		t.Fatalf("accept-new: %v", err)
	}
	c.Close()
	recorded, _ := os.ReadFile(empty)
	if !strings.Contains(string(recorded), strings.TrimSpace(string(gossh.MarshalAuthorizedKey(h.HostKey)))) {
		t.Fatalf("accept-new recorded %q", recorded)
	}
	cfg.HostKey = "strict"
	c, err = ssh.Dial(context.Background(), cfg)
	if err != nil {
		t.Fatalf("strict after accept-new: %v", err)
	}
	c.Close()

	// Another key for the same host: refused, even under accept-new.
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	other, _ := gossh.NewPublicKey(pub)
	wrong := filepath.Join(t.TempDir(), "known_hosts")
	os.WriteFile(wrong, []byte("["+h.Address+"]:"+strconv.Itoa(h.Port)+" "+string(gossh.MarshalAuthorizedKey(other))), 0o600)
	for _, policy := range []string{"strict", "accept-new"} {
		cfg.KnownHosts, cfg.HostKey = []string{wrong}, policy
		_, err = ssh.Dial(context.Background(), cfg)
		if !errors.Is(err, transport.ErrHostKeyChanged) {
			t.Fatalf("%s with a changed key: %v", policy, err)
		}
	}
}

func TestSSHErrors(t *testing.T) {
	b := testbed.Start(t, "h1")
	h := b.Hosts[0]

	cfg := config(b, h, "root")
	cfg.Port = 1 // nothing listens there
	if _, err := ssh.Dial(context.Background(), cfg); !errors.Is(err, transport.ErrUnreachable) {
		t.Errorf("closed port: %v", err)
	}

	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	block, _ := gossh.MarshalPrivateKey(priv, "stranger")
	stranger := filepath.Join(t.TempDir(), "key")
	os.WriteFile(stranger, pem.EncodeToMemory(block), 0o600)
	cfg = config(b, h, "root")
	cfg.IdentityFiles = []string{stranger}
	if _, err := ssh.Dial(context.Background(), cfg); !errors.Is(err, transport.ErrAuth) {
		t.Errorf("unknown key: %v", err)
	}
}

func TestSSHBecome(t *testing.T) {
	b := testbed.Start(t, "h1")
	h := b.Hosts[0]
	ctx := context.Background()
	for _, login := range []string{"root", "ops"} {
		c := dial(t, b, h, login)
		out, err := transport.Output(ctx, c, transport.Cmd{Argv: []string{"id", "-un"}, User: "perforce"}, nil)
		if err != nil || strings.TrimSpace(out) != "perforce" {
			t.Fatalf("%s → sudo -n -u perforce: %q %v", login, out, err)
		}
	}
	c := dial(t, b, h, "nosudo")
	start := time.Now()
	_, err := transport.Output(ctx, c, transport.Cmd{Argv: []string{"id"}, User: "perforce"}, nil)
	var se *transport.SudoError
	if !errors.As(err, &se) || se.User != "perforce" {
		t.Fatalf("no sudo right: %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("sudo waited for a password")
	}
}

func TestSFTPWriteRead(t *testing.T) {
	b := testbed.Start(t, "h1")
	h := b.Hosts[0]
	ctx := context.Background()
	c := dial(t, b, h, "root")
	os.MkdirAll(h.Path("/standby"), 0o755)
	data := bytes.Repeat([]byte("checkpoint "), 300000)
	sum, err := c.WriteFile(ctx, "/standby/ckp.1", bytes.NewReader(data), transport.WriteOptions{Mode: 0o640, Owner: "perforce", Group: "perforce"})
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(h.Path("/standby/ckp.1"))
	if err != nil || fi.Mode().Perm() != 0o640 || fi.Size() != int64(len(data)) {
		t.Fatalf("written file: %v %v", fi, err)
	}
	if st := fi.Sys().(*syscallStat); st.Uid != 1666 {
		t.Errorf("owner uid %d, want 1666", st.Uid)
	}
	entries, _ := os.ReadDir(h.Path("/standby"))
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	var back bytes.Buffer
	sum2, err := c.ReadFile(ctx, "/standby/ckp.1", &back, "")
	if err != nil || sum2 != sum || !bytes.Equal(back.Bytes(), data) {
		t.Fatalf("read back: %v, sums %s %s", err, sum, sum2)
	}
	// As another user, through sudo: a file only perforce may write.
	os.MkdirAll(h.Path("/p4only"), 0o700)
	os.Chown(h.Path("/p4only"), 1666, 1666)
	nonroot := dial(t, b, h, "ops")
	if _, err := nonroot.WriteFile(ctx, "/p4only/x", strings.NewReader("x"), transport.WriteOptions{}); err == nil {
		t.Fatal("ops wrote into perforce's directory without sudo")
	}
	if _, err := nonroot.WriteFile(ctx, "/p4only/x", strings.NewReader("x"), transport.WriteOptions{As: "perforce"}); err != nil {
		t.Fatalf("write as perforce: %v", err)
	}
	if _, err := nonroot.ReadFile(ctx, "/p4only/x", io.Discard, "perforce"); err != nil {
		t.Fatalf("read as perforce: %v", err)
	}
}

// TestSSHJump reaches a host that only its bastion can reach: db lives in
// a network namespace of the test's own, published nowhere.
func TestSSHJump(t *testing.T) {
	b := testbed.StartHosts(t, testbed.HostSpec{Name: "bastion", Gateway: true}, testbed.HostSpec{Name: "db", Private: true})
	bastion, db := b.Host("bastion"), b.Host("db")

	direct := config(b, db, "root")
	direct.ConnectTimeout = 2 * time.Second
	if _, err := ssh.Dial(context.Background(), direct); !errors.Is(err, transport.ErrUnreachable) {
		t.Fatalf("db answered directly: %v", err)
	}
	jumped := config(b, db, "root")
	j := config(b, bastion, "ops")
	jumped.Jump = &j
	c, err := ssh.Dial(context.Background(), jumped)
	if err != nil {
		t.Fatalf("through the bastion: %v", err)
	}
	defer c.Close()
	out, err := transport.Output(context.Background(), c, transport.Cmd{Argv: []string{"cat", "/etc/hostname"}}, nil)
	if err != nil || strings.TrimSpace(out) != "db" {
		t.Fatalf("on db: %q %v", out, err)
	}
}

// A host that stops answering (frozen, or a dead network) is noticed by the
// keepalives: the running command fails with ErrConnectionLost instead of
// hanging.
func TestSSHKeepaliveNoticesDeadPeer(t *testing.T) {
	b := testbed.Start(t, "h1")
	h := b.Hosts[0]
	cfg := config(b, h, "root")
	cfg.Keepalive = 200 * time.Millisecond
	c, err := ssh.Dial(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	done := make(chan error, 1)
	go func() {
		done <- c.Run(context.Background(), transport.Cmd{Argv: []string{"sleep", "30"}}, transport.Stdio{})
	}()
	time.Sleep(300 * time.Millisecond)
	h.Freeze()
	defer h.Thaw()
	select {
	case err := <-done:
		if !errors.Is(err, transport.ErrConnectionLost) {
			t.Fatalf("err = %v, want connection lost", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a dead peer was not noticed within 10s")
	}
}
