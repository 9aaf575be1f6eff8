package transport

import (
	"os"
	"path/filepath"
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
	for in, want := range map[string]SSHConfig{
		"bastion":           {Address: "bastion", Name: "bastion"},
		"ops@10.0.0.1:2222": {Address: "10.0.0.1", Name: "10.0.0.1", User: "ops", Port: 2222},
		"[::1]:22":          {Address: "::1", Name: "::1", Port: 22},
	} {
		if got := *ParseJump(in); got.Address != want.Address || got.User != want.User || got.Port != want.Port {
			t.Errorf("ParseJump(%q) = %+v", in, got)
		}
	}
}
