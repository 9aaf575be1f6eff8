package ssh_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/skeema/knownhosts"
	gossh "golang.org/x/crypto/ssh"

	"tejun/transport"
	"tejun/transport/ssh"
)

// keyServer is an in-process SSH server with an RSA and an ed25519 host
// key, that lets anyone in: enough to test host-key verification.
func keyServer(t *testing.T) (addr string, rsaKey, edKey gossh.PublicKey) {
	t.Helper()
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	_, ek, _ := ed25519.GenerateKey(rand.Reader)
	rs, _ := gossh.NewSignerFromKey(rk)
	es, _ := gossh.NewSignerFromKey(ek)
	cfg := &gossh.ServerConfig{NoClientAuth: true}
	cfg.AddHostKey(rs)
	cfg.AddHostKey(es)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, chans, reqs, err := gossh.NewServerConn(c, cfg)
				if err != nil {
					return
				}
				go gossh.DiscardRequests(reqs)
				for ch := range chans {
					ch.Reject(gossh.Prohibited, "no")
				}
			}()
		}
	}()
	return l.Addr().String(), rs.PublicKey(), es.PublicKey()
}

func keyServerConfig(t *testing.T, addr, knownHosts string) ssh.Config {
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	key := filepath.Join(t.TempDir(), "id")
	writeKey(t, key, nil)
	return ssh.Config{Name: "keys", Address: host, Port: p, User: "u", IdentityFiles: []string{key},
		KnownHosts: []string{knownHosts}, AgentSocket: "none", HostKey: "strict"}
}

// TestKnownHostsWrongKeyOfPreferredAlgorithm: known_hosts holds the
// host's right RSA key and a wrong ed25519 key. OpenSSH prefers ed25519,
// gets a key that does not match, and refuses: REMOTE HOST IDENTIFICATION
// HAS CHANGED. tejun must refuse too, not settle for the RSA key.
func TestKnownHostsWrongKeyOfPreferredAlgorithm(t *testing.T) {
	addr, rsaKey, _ := keyServer(t)
	_, wrong, _ := ed25519.GenerateKey(rand.Reader)
	wrongKey, _ := gossh.NewPublicKey(wrong.Public())
	kh := filepath.Join(t.TempDir(), "known_hosts")
	norm := knownhosts.Normalize(addr)
	os.WriteFile(kh, []byte(knownhosts.Line([]string{norm}, rsaKey)+"\n"+knownhosts.Line([]string{norm}, wrongKey)+"\n"), 0o600)

	_, err := ssh.Dial(context.Background(), keyServerConfig(t, addr, kh))
	var hk *transport.HostKeyError
	if !errors.As(err, &hk) || !errors.Is(err, transport.ErrHostKeyChanged) {
		t.Fatalf("dial: %v, want a changed host key", err)
	}
	// What OpenSSH itself does with the same file.
	if sshPath, err := exec.LookPath("ssh"); err == nil {
		host, port, _ := net.SplitHostPort(addr)
		cmd := exec.Command(sshPath, "-F", "none", "-o", "BatchMode=yes", "-o", "UserKnownHostsFile="+kh,
			"-o", "GlobalKnownHostsFile=none", "-o", "StrictHostKeyChecking=yes", "-p", port, "u@"+host, "true")
		cmd.Env = append(os.Environ(), "LC_ALL=C")
		out, _ := cmd.CombinedOutput()
		if !bytes.Contains(out, []byte("REMOTE HOST IDENTIFICATION HAS CHANGED")) {
			t.Errorf("OpenSSH did not report a changed key:\n%s", out)
		}
	}
}

// TestKnownHostsMalformedLine: one line that does not parse is skipped
// (as OpenSSH skips it), not a reason to refuse every host.
func TestKnownHostsMalformedLine(t *testing.T) {
	addr, _, edKey := keyServer(t)
	kh := filepath.Join(t.TempDir(), "known_hosts")
	os.WriteFile(kh, []byte("this line is not a known_hosts entry\n"+
		"[other]:22 ssh-ed25519 AAAA-not-base64\n"+
		knownhosts.Line([]string{knownhosts.Normalize(addr)}, edKey)+"\n"), 0o600)
	c, err := ssh.Dial(context.Background(), keyServerConfig(t, addr, kh))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	c.Close()
}

// TestKnownHostsHashOnAccept: with HashKnownHosts, accept-new records the
// host under a hashed name, as ssh does, and the next connection matches it.
func TestKnownHostsHashOnAccept(t *testing.T) {
	addr, _, _ := keyServer(t)
	for _, hash := range []bool{true, false} {
		kh := filepath.Join(t.TempDir(), "known_hosts")
		cfg := keyServerConfig(t, addr, kh)
		cfg.HostKey, cfg.HashKnownHosts = "accept-new", hash
		c, err := ssh.Dial(context.Background(), cfg)
		if err != nil {
			t.Fatalf("hash %v: accept-new: %v", hash, err)
		}
		c.Close()
		data, _ := os.ReadFile(kh)
		hashed := strings.HasPrefix(string(data), "|1|")
		if hashed != hash || strings.Contains(string(data), "127.0.0.1") == hash {
			t.Errorf("hash %v: recorded %q", hash, data)
		}
		cfg.HostKey = "strict"
		if c, err := ssh.Dial(context.Background(), cfg); err != nil {
			t.Errorf("hash %v: second connection: %v", hash, err)
		} else {
			c.Close()
		}
	}
}
