// Package host holds what a run has of its hosts: one connection to each
// (dialled when first needed, with its own timeout, and locked), a step's
// Env over it, and plan mode's gate. It knows nothing of the walk: the
// walk (runbook/run) hands it what an Env reports to, so that it can be
// read, and tested, without the executor.
package host

import (
	"context"
	"fmt"
	"sync"
	"time"

	"tejun/inventory"
	"tejun/transport"
	"tejun/transport/local"
	"tejun/transport/ssh"
)

// Pool dials each host once, when a step first needs it, and shares the
// connection between all steps on the host.
type Pool struct {
	inv     *inventory.Inventory
	userCfg *ssh.UserConfig
	dial    func(ctx context.Context, cfg ssh.Config) (transport.Conn, error)
	// locks, when set, is taken on each host as it is first connected.
	locks   *Locks
	timeout time.Duration

	mu     sync.Mutex
	conns  map[string]*lazyConn
	closed bool // the run has ended: a late dial gives back its lock
}

// PoolOptions are what a pool needs to reach the inventory's hosts.
type PoolOptions struct {
	Inventory *inventory.Inventory
	// UserConfig is ~/.ssh/config; nil for none.
	UserConfig *ssh.UserConfig
	// Dial opens an SSH connection; nil is transport.DialSSH (tests give a
	// fake).
	Dial func(ctx context.Context, cfg ssh.Config) (transport.Conn, error)
	// Locks, when set, is taken on each host as it is first connected: a
	// run's pool; plan mode and checks outside a run take none.
	Locks *Locks
	// DialTimeout bounds each host's first connection (with its jump hosts
	// and its lock); 0 is DialTimeout.
	DialTimeout time.Duration
}

// NewPool returns a pool that has dialled nothing yet.
func NewPool(o PoolOptions) *Pool {
	dial := o.Dial
	if dial == nil {
		dial = func(ctx context.Context, cfg ssh.Config) (transport.Conn, error) {
			c, err := ssh.Dial(ctx, cfg)
			if err != nil {
				return nil, err // not a nil *SSH inside a non-nil Conn
			}
			return c, nil
		}
	}
	timeout := o.DialTimeout
	if timeout <= 0 {
		timeout = DialTimeout
	}
	return &Pool{inv: o.Inventory, userCfg: o.UserConfig, dial: dial, locks: o.Locks, timeout: timeout, conns: map[string]*lazyConn{}}
}

type lazyConn struct {
	done chan struct{} // closed when conn and err are set
	conn transport.Conn
	err  error
}

// DialTimeout bounds a host's first connection (with its jump hosts and
// its lock). The dial does not run under the context of the step that
// happened to need the host first: a step's timeout or a cancelled check
// would otherwise leave the host "unreachable" for the rest of the run.
const DialTimeout = 2 * time.Minute

// Get returns h's connection, dialling (and locking) it on first use. A
// caller whose ctx ends gives up; the dial goes on for the next one.
func (c *Pool) Get(ctx context.Context, h *inventory.Host) (transport.Conn, error) {
	c.mu.Lock()
	lc := c.conns[h.Name]
	if lc == nil {
		lc = &lazyConn{done: make(chan struct{})}
		c.conns[h.Name] = lc
		go c.open(context.WithoutCancel(ctx), h, lc)
	}
	c.mu.Unlock()
	select {
	case <-lc.done:
		return lc.conn, lc.err
	case <-ctx.Done():
		// This caller gives up; the dial goes on for the next one.
		return nil, ctx.Err()
	}
}

// Reached reports whether the run has a working connection to host: an
// always section cleans up only where the run got to, and never dials a
// host the run did not touch.
func (c *Pool) Reached(host string) bool {
	c.mu.Lock()
	lc := c.conns[host]
	c.mu.Unlock()
	if lc == nil {
		return false
	}
	select {
	case <-lc.done:
		return lc.err == nil && lc.conn != nil
	default:
		return false
	}
}

func (c *Pool) open(ctx context.Context, h *inventory.Host, lc *lazyConn) {
	defer close(lc.done)
	if h.SSH.Connection == "local" {
		lc.conn = local.Conn{}
		return
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	cfg, err := c.config(h, map[string]bool{})
	if err != nil {
		lc.err = err
		return
	}
	lc.conn, lc.err = c.dial(ctx, cfg)
	if lc.err == nil && c.locks != nil {
		if lc.err = c.locks.acquire(ctx, h, lc.conn); lc.err != nil {
			lc.conn.Close()
			lc.conn = nil
		}
	}
	c.mu.Lock()
	late := c.closed
	c.mu.Unlock()
	if late && lc.conn != nil {
		if c.locks != nil {
			c.locks.releaseAll(5 * time.Second)
		}
		lc.conn.Close()
		lc.conn, lc.err = nil, fmt.Errorf("%s: the run ended while connecting", h.Name)
	}
}

// Forget drops a host's connection (and lock), so the next use dials again.
func (c *Pool) Forget(host string) {
	c.mu.Lock()
	lc := c.conns[host]
	delete(c.conns, host)
	c.mu.Unlock()
	if c.locks != nil {
		c.locks.drop(host)
	}
	if lc != nil {
		go lc.closeWhenDone()
	}
}

// closeWhenDone closes the connection once its dial has ended.
func (lc *lazyConn) closeWhenDone() {
	<-lc.done
	if lc.conn != nil {
		lc.conn.Close()
	}
}

// CloseAll releases the run's locks, waiting at most d for that, and
// closes every connection. It returns the hosts whose lock may be left.
// A dial still under way is left to finish on its own: it finds the run
// closed, and gives back what it took.
func (c *Pool) CloseAll(d time.Duration) []string {
	var left []string
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	if c.locks != nil {
		left = c.locks.releaseAll(d)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, lc := range c.conns {
		select {
		case <-lc.done:
			if lc.conn != nil {
				lc.conn.Close()
			}
		default:
		}
	}
	return left
}

// config turns an inventory host into an SSH configuration as ssh would
// for `ssh -o HostName=ADDRESS NAME` with the inventory's settings on its
// command line: ssh_config's Host blocks match the host's name, and only
// what the inventory writes overrides them. A jump host named in the
// inventory gets its own inventory settings (and replaces any ProxyJump or
// ProxyCommand of ssh_config).
func (c *Pool) config(h *inventory.Host, seen map[string]bool) (ssh.Config, error) {
	if seen[h.Name] {
		return ssh.Config{}, fmt.Errorf("%s: jump hosts form a loop", h.Name)
	}
	seen[h.Name] = true
	req := Request(h)
	jh := c.inv.Host(h.SSH.Jump)
	if jh != nil {
		req.Jump, req.NoJump = "", true
	}
	cfg, err := c.userCfg.Resolve(req)
	if err != nil {
		return cfg, err
	}
	if jh != nil {
		j, err := c.config(jh, seen)
		if err != nil {
			return cfg, err
		}
		cfg.Jump = &j
	}
	return cfg, nil
}

// Request is what the inventory says about reaching h.
func Request(h *inventory.Host) ssh.Request {
	r := ssh.Request{
		Name: h.Name, User: h.SSH.User, IdentityFile: h.SSH.IdentityFile,
		Jump: h.SSH.Jump, NoJump: h.SSH.NoJump, HostKey: h.SSH.HostKey, KnownHosts: h.SSH.KnownHosts,
	}
	if h.Address != h.Name {
		r.Address = h.Address
	}
	if h.SSH.PortSet {
		r.Port = h.SSH.Port
	}
	return r
}

// Resolve is how a run would reach h, for `tejun hosts --show-config`.
func Resolve(inv *inventory.Inventory, h *inventory.Host, userCfg *ssh.UserConfig) (ssh.Config, error) {
	c := &Pool{inv: inv, userCfg: userCfg}
	return c.config(h, map[string]bool{})
}

// Dial connects to one inventory host as a run would (inventory settings,
// ~/.ssh/config, jump hosts, known_hosts), for checks outside a run.
func Dial(ctx context.Context, inv *inventory.Inventory, h *inventory.Host, userCfg *ssh.UserConfig) (transport.Conn, error) {
	if h.SSH.Connection == "local" {
		return local.Conn{}, nil
	}
	c := &Pool{inv: inv, userCfg: userCfg}
	cfg, err := c.config(h, map[string]bool{})
	if err != nil {
		return nil, err
	}
	conn, err := ssh.Dial(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return conn, nil
}
