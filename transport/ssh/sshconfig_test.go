package ssh

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestUserConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config")
	os.WriteFile(path, []byte(`
Host db-*
  User dba
  ProxyJump ops@bastion:2200
  StrictHostKeyChecking accept-new
Host bastion
  HostName 127.0.0.9
  IdentityFile /keys/bastion
Host *
  Port 2022
  UserKnownHostsFile /kh/one /kh/two
  StrictHostKeyChecking no
`), 0o600)
	u, err := LoadUserConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := u.Resolve(Request{Name: "db-01", User: "root"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.User != "root" || cfg.Port != 2022 || cfg.HostKey != "accept-new" || cfg.Address != "db-01" {
		t.Errorf("db-01: %+v", cfg)
	}
	if len(cfg.KnownHosts) != 2 || cfg.KnownHosts[1] != "/kh/two" {
		t.Errorf("known hosts %v", cfg.KnownHosts)
	}
	j := cfg.Jump
	if j == nil || j.Address != "127.0.0.9" || j.User != "ops" || j.Port != 2200 || j.IdentityFiles[0] != "/keys/bastion" {
		t.Fatalf("jump: %+v", j)
	}
	other, err := u.Resolve(Request{Name: "web"})
	if err != nil {
		t.Fatal(err)
	}
	if other.HostKey != "strict" {
		t.Errorf("StrictHostKeyChecking no was honoured: %q", other.HostKey)
	}
}

func TestParseJump(t *testing.T) {
	for in, want := range map[string]Config{
		"bastion":           {Address: "bastion", Name: "bastion"},
		"ops@10.0.0.1:2222": {Address: "10.0.0.1", Name: "10.0.0.1", User: "ops", Port: 2222},
		"[::1]:22":          {Address: "::1", Name: "::1", Port: 22},
	} {
		if got := *ParseJump(in); got.Address != want.Address || got.User != want.User || got.Port != want.Port {
			t.Errorf("ParseJump(%q) = %+v", in, got)
		}
	}
}

// TestFallbackSaysSoOnce: without an ssh client the Go parser resolves,
// and says so once, not once per host.
func TestFallbackSaysSoOnce(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	path := filepath.Join(t.TempDir(), "config")
	os.WriteFile(path, []byte("Host a\n  Port 2200\n"), 0o600)
	var note strings.Builder
	u := NewUserConfig(path, &note)
	for _, n := range []string{"a", "b"} {
		if _, err := u.Resolve(Request{Name: n}); err != nil {
			t.Fatal(err)
		}
	}
	if cfg, _ := u.Resolve(Request{Name: "a"}); cfg.Port != 2200 {
		t.Errorf("port %d", cfg.Port)
	}
	if strings.Count(note.String(), "\n") != 1 || !strings.Contains(note.String(), "own parser") {
		t.Errorf("note %q", note.String())
	}
}

// TestHostileNames: what ssh would read as an option, user@host or a
// shell word never reaches ssh -G or a ProxyCommand.
func TestHostileNames(t *testing.T) {
	u := &UserConfig{File: "none", SSH: "/bin/false"}
	for _, n := range []string{"-oProxyCommand=touch /tmp/x", "root@evil", "a;b", "$(id)", "a b"} {
		if _, err := u.Resolve(Request{Name: n}); err == nil || !strings.Contains(err.Error(), "cannot be looked up") {
			t.Errorf("%q: %v", n, err)
		}
	}
	path := filepath.Join(t.TempDir(), "config")
	os.WriteFile(path, []byte("Host *\n  ProxyCommand nc %h %p\n"), 0o600)
	if _, err := (&UserConfig{File: path}).Resolve(Request{Name: "db", Address: "x;touch"}); err == nil {
		t.Error("a shell word reached ProxyCommand")
	}
}
