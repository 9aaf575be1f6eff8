package ssh_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"tejun/transport"
	"tejun/transport/ssh"
	"tejun/transport/testbed"
)

// TestSSHConfigConnections reaches test-bed hosts with nothing but an ssh
// client configuration, through both resolvers (ssh -G and the Go parser):
// every directive here was ignored before, and each case fails without it.
func TestSSHConfigConnections(t *testing.T) {
	b := testbed.StartHosts(t,
		testbed.HostSpec{Name: "plain", SSHD: "TrustedUserCAKeys /etc/ssh/tejun_user_ca.pub\n"},
		testbed.HostSpec{Name: "cipher", SSHD: "Ciphers aes256-ctr\n"},
		testbed.HostSpec{Name: "outer", Gateway: true},
		testbed.HostSpec{Name: "middle", Private: true},
		testbed.HostSpec{Name: "target", Private: true},
	)
	dir := t.TempDir()
	plain, cipher, outer, middle, target := b.Host("plain"), b.Host("cipher"), b.Host("outer"), b.Host("middle"), b.Host("target")

	// A user CA the plain host trusts, and a key only it certifies.
	_, caPriv, _ := ed25519.GenerateKey(rand.Reader)
	ca, _ := gossh.NewSignerFromKey(caPriv)
	if err := os.WriteFile(plain.Path("/etc/ssh/tejun_user_ca.pub"), gossh.MarshalAuthorizedKey(ca.PublicKey()), 0o644); err != nil {
		t.Fatal(err)
	}
	certKey := filepath.Join(dir, "cert_key")
	certPriv := writeKey(t, certKey, nil)
	certSigner, _ := gossh.NewSignerFromKey(certPriv)
	cert := &gossh.Certificate{Key: certSigner.PublicKey(), CertType: gossh.UserCert, KeyId: "tejun-test",
		ValidPrincipals: []string{"root"}, ValidBefore: gossh.CertTimeInfinity,
		Permissions: gossh.Permissions{Extensions: map[string]string{"permit-pty": ""}}}
	if err := cert.SignCert(rand.Reader, ca); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certKey+"-cert.pub", gossh.MarshalAuthorizedKey(cert), 0o600); err != nil {
		t.Fatal(err)
	}
	alone := filepath.Join(dir, "cert_key_alone") // no -cert.pub beside it
	if data, err := os.ReadFile(certKey); err != nil || os.WriteFile(alone, data, 0o600) != nil {
		t.Fatal(err)
	}
	otherKey := filepath.Join(dir, "other_key")
	writeKey(t, otherKey, nil)
	if err := os.WriteFile(filepath.Join(dir, "other-cert.pub"), gossh.MarshalAuthorizedKey(cert), 0o600); err != nil {
		t.Fatal(err)
	}

	// The bed's key, encrypted, and an agent holding it; an agent of seven
	// strangers, tried before any identity file: sshd allows six attempts.
	bedPEM, _ := os.ReadFile(b.KeyFile)
	bedKey, _ := gossh.ParseRawPrivateKey(bedPEM)
	encKey := filepath.Join(dir, "enc_key")
	writeKey(t, encKey, bedKey.(*ed25519.PrivateKey))
	strangers := agent.NewKeyring()
	for i := 0; i < 7; i++ {
		_, k, _ := ed25519.GenerateKey(rand.Reader)
		strangers.Add(agent.AddedKey{PrivateKey: k})
	}
	flood := serveAgent(t, strangers)
	holder := agent.NewKeyring()
	holder.Add(agent.AddedKey{PrivateKey: bedKey})
	sock := serveAgent(t, holder)

	// A listener that accepts and never speaks.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()

	host := func(alias string, h *testbed.Host, extra string) string {
		return fmt.Sprintf("Host %s\n  HostName %s\n  Port %d\n%s", alias, h.Address, h.Port, extra)
	}
	sshPath, _ := exec.LookPath("ssh")
	cfgText := strings.Join([]string{
		host("port", plain, "  User root\n"),
		host("proxycommand", middle, fmt.Sprintf("  User root\n  ProxyCommand ssh -F none -o BatchMode=yes -o IdentityAgent=none -o IdentitiesOnly=yes -i %s -o UserKnownHostsFile=%s -o StrictHostKeyChecking=yes -o GlobalKnownHostsFile=none -p %d -W %%h:%%p root@%s\n", b.KeyFile, b.KnownHosts, outer.Port, outer.Address)),
		host("target", target, "  User ops\n  ProxyJump middle\n"),
		host("middle", middle, "  ProxyJump outer\n"),
		host("outer", outer, ""),
		host("flooded", plain, "  User root\n  IdentityAgent "+flood+"\n"),
		host("identitiesonly", plain, "  User root\n  IdentityAgent "+flood+"\n  IdentitiesOnly yes\n"),
		host("encrypted-in-agent", plain, "  User root\n  IdentityAgent "+sock+"\n  IdentitiesOnly yes\n  IdentityFile "+encKey+"\n"),
		host("encrypted", plain, "  User root\n  IdentityFile "+encKey+"\n"),
		host("cert-beside", plain, "  User root\n  IdentityFile "+certKey+"\n"),
		host("cert-file", plain, "  User root\n  IdentityFile "+otherKey+"\n  IdentityFile "+alone+"\n  CertificateFile "+filepath.Join(dir, "other-cert.pub")+"\n"),
		host("hostkey-ok", plain, "  User root\n  HostKeyAlgorithms ssh-ed25519\n"),
		host("hostkey-none", plain, "  User root\n  HostKeyAlgorithms rsa-sha2-256,ecdsa-sha2-nistp256\n"),
		host("cipher-ok", cipher, "  User root\n  Ciphers aes256-ctr\n"),
		host("cipher-bad", cipher, "  User root\n  Ciphers aes128-ctr,chacha20-poly1305@openssh.com\n"),
		fmt.Sprintf("Host silent\n  HostName 127.0.0.1\n  Port %d\n  ConnectTimeout 1\n", silent.Addr().(*net.TCPAddr).Port),
		"Host * !cert-* !encrypted*\n  IdentityFile " + b.KeyFile + "\n",
		"Host *\n  IdentityAgent none\n  UserKnownHostsFile " + b.KnownHosts + "\n  GlobalKnownHostsFile none\n",
	}, "")
	cfgFile := filepath.Join(dir, "config")
	if err := os.WriteFile(cfgFile, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	resolvers := map[string]*ssh.UserConfig{"go": {File: cfgFile}}
	if sshPath != "" {
		resolvers["ssh -G"] = &ssh.UserConfig{File: cfgFile, SSH: sshPath}
	}
	me, _ := user.Current()
	for rname, u := range resolvers {
		ok := func(alias, wantHost string) {
			t.Helper()
			cfg, err := u.Resolve(ssh.Request{Name: alias})
			if err != nil {
				t.Fatalf("%s %s: %v", rname, alias, err)
			}
			c, err := ssh.Dial(context.Background(), cfg)
			if err != nil {
				t.Errorf("%s %s: %v", rname, alias, err)
				return
			}
			defer c.Close()
			out, err := transport.Output(context.Background(), c, transport.Cmd{Argv: []string{"cat", "/etc/hostname"}}, nil)
			if err != nil || strings.TrimSpace(out) != wantHost {
				t.Errorf("%s %s: on %q (want %s), %v", rname, alias, out, wantHost, err)
			}
		}
		fails := func(alias string, want error, words string) {
			t.Helper()
			cfg, err := u.Resolve(ssh.Request{Name: alias})
			if err != nil {
				t.Fatalf("%s %s: %v", rname, alias, err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, err := ssh.Dial(ctx, cfg)
			if err == nil {
				c.Close()
				t.Errorf("%s %s: connected", rname, alias)
				return
			}
			if ctx.Err() != nil || (want != nil && !errors.Is(err, want)) || !strings.Contains(err.Error(), words) {
				t.Errorf("%s %s: %v (context %v), want %v mentioning %q", rname, alias, err, ctx.Err(), want, words)
			}
		}
		ok("port", "plain")
		ok("proxycommand", "middle")
		ok("target", "target")
		if cfg, _ := u.Resolve(ssh.Request{Name: "target"}); cfg.Jump == nil || cfg.Jump.User != me.Username || cfg.Jump.Jump == nil {
			t.Errorf("%s target: jump %+v, want middle as %s through outer", rname, cfg.Jump, me.Username)
		}
		fails("flooded", transport.ErrAuth, "IdentitiesOnly")
		ok("identitiesonly", "plain")
		ok("encrypted-in-agent", "plain")
		fails("encrypted", transport.ErrAuth, "passphrase")
		ok("cert-beside", "plain")
		ok("cert-file", "plain")
		ok("hostkey-ok", "plain")
		fails("hostkey-none", nil, "host key")
		ok("cipher-ok", "cipher")
		fails("cipher-bad", nil, "cipher")
		fails("silent", transport.ErrUnreachable, "timeout")
	}
}

// writeKey writes an ed25519 private key (a new one when k is nil) in
// OpenSSH format, encrypted with "secret" when k is given.
func writeKey(t *testing.T, path string, k *ed25519.PrivateKey) ed25519.PrivateKey {
	t.Helper()
	var block *pem.Block
	var err error
	if k == nil {
		_, priv, _ := ed25519.GenerateKey(rand.Reader)
		k = &priv
		block, err = gossh.MarshalPrivateKey(priv, "")
	} else {
		block, err = gossh.MarshalPrivateKeyWithPassphrase(*k, "", []byte("secret"))
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	return *k
}

func serveAgent(t *testing.T, keyring agent.Agent) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "agent.sock")
	l, err := net.Listen("unix", sock)
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
			go func() { defer c.Close(); _ = agent.ServeAgent(keyring, c) }()
		}
	}()
	return sock
}
