package run

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tejun/inventory"
	"tejun/transport/ssh"
)

// TestConfigJumps: a jump the inventory names is reached with that host's
// own inventory settings and replaces ssh_config's ProxyJump and
// ProxyCommand; otherwise ssh_config's ProxyJump chain applies, nested
// jumps included; "none" removes both; a loop is an error, not a hang.
func TestConfigJumps(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "config")
	os.WriteFile(cfgFile, []byte(`
Host db
  ProxyCommand nc %h %p
Host web
  ProxyJump mid
Host mid
  ProxyJump edge
Host edge
  HostName 10.9.0.1
Host *
  Port 2200
`), 0o600)
	inv, err := inventory.Parse("inv.toml", []byte(`
[hosts.db]
jump = "bastion"
[hosts.bastion]
address = "10.0.0.1"
user = "ops"
[hosts.web]
[hosts.a]
[hosts.b]
`))
	if err != nil {
		t.Fatal(err)
	}
	// The inventory refuses a jump loop when it is read; the resolver
	// guards against one all the same.
	inv.Host("a").SSH.Jump, inv.Host("b").SSH.Jump = "b", "a"
	u := &ssh.UserConfig{File: cfgFile}
	db, err := Resolve(inv, inv.Host("db"), u)
	if err != nil {
		t.Fatal(err)
	}
	if db.ProxyCommand != "" || db.Jump == nil || db.Jump.Address != "10.0.0.1" || db.Jump.User != "ops" || db.Jump.Port != 2200 {
		t.Errorf("db: proxy %q, jump %+v", db.ProxyCommand, db.Jump)
	}
	web, err := Resolve(inv, inv.Host("web"), u)
	if err != nil {
		t.Fatal(err)
	}
	if web.Jump == nil || web.Jump.Address != "mid" || web.Jump.Jump == nil || web.Jump.Jump.Address != "10.9.0.1" {
		t.Errorf("web: jump %+v", web.Jump)
	}
	if _, err := Resolve(inv, inv.Host("a"), u); err == nil || !strings.Contains(err.Error(), "loop") {
		t.Errorf("a: %v, want a loop", err)
	}
}
