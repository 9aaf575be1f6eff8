package host

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"tejun/inventory"
	"tejun/transport"
	"tejun/transport/ssh"
	"tejun/transport/transporttest"
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

// A host is dialled once, not under the context of the step that first
// needed it: that step giving up leaves the dial going for the next; the
// dial has its own bound (DialTimeout), whoever waits.
func TestPoolDialsOnceWithItsOwnTimeout(t *testing.T) {
	inv, err := inventory.Parse("inv.toml", []byte("[hosts.h1]\n[hosts.h2]\n"))
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	var dials atomic.Int32
	fake := transporttest.New()
	p := NewPool(PoolOptions{Inventory: inv, DialTimeout: 100 * time.Millisecond,
		Dial: func(ctx context.Context, cfg ssh.Config) (transport.Conn, error) {
			dials.Add(1)
			if cfg.Name == "h2" {
				<-ctx.Done() // a host that never answers
				return nil, ctx.Err()
			}
			<-release
			return fake, nil
		}})
	step, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Get(step, inv.Host("h1")); !errors.Is(err, context.Canceled) {
		t.Fatalf("a caller that gave up: %v", err)
	}
	close(release)
	if c, err := p.Get(context.Background(), inv.Host("h1")); err != nil || c != transport.Conn(fake) {
		t.Fatalf("the next caller: %v, %v", c, err)
	}
	if !p.Reached("h1") || p.Reached("h2") {
		t.Errorf("Reached: h1 %v, h2 %v", p.Reached("h1"), p.Reached("h2"))
	}
	start := time.Now()
	if _, err := p.Get(context.Background(), inv.Host("h2")); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a host that never answers: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the dial took %s, bounded by 100ms", d)
	}
	if n := dials.Load(); n != 2 {
		t.Errorf("%d dials for two hosts", n)
	}
}
