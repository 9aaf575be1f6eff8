package executor

import (
	"context"
	"fmt"
	"os/user"
	"sync"
	"time"

	"tejun/inventory"
	"tejun/transport"
)

// connections dials each host once, when a step first needs it, and
// shares the connection between all steps on the host.
type connections struct {
	inv     *inventory.Inventory
	userCfg *transport.UserConfig
	dial    func(ctx context.Context, cfg transport.SSHConfig) (transport.Conn, error)
	// locks, when set, is taken on each host as it is first connected.
	locks *locks

	mu     sync.Mutex
	conns  map[string]*lazyConn
	closed bool // the run has ended: a late dial gives back its lock
}

type lazyConn struct {
	done chan struct{} // closed when conn and err are set
	conn transport.Conn
	err  error
}

// dialTimeout bounds a host's first connection (with its jump hosts and
// its lock). The dial does not run under the context of the step that
// happened to need the host first: a step's timeout or a cancelled check
// would otherwise leave the host "unreachable" for the rest of the run.
const dialTimeout = 2 * time.Minute

func (c *connections) get(ctx context.Context, h *inventory.Host) (transport.Conn, error) {
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

func (c *connections) open(ctx context.Context, h *inventory.Host, lc *lazyConn) {
	defer close(lc.done)
	if h.SSH.Connection == "local" {
		lc.conn = transport.Local{}
		return
	}
	ctx, cancel := context.WithTimeout(ctx, dialTimeout)
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
			c.locks.releaseAll()
		}
		lc.conn.Close()
		lc.conn, lc.err = nil, fmt.Errorf("%s: the run ended while connecting", h.Name)
	}
}

// forget drops a host's connection (and lock), so the next use dials again.
func (c *connections) forget(host string) {
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

// closeAll releases the locks and closes every connection. A dial still
// under way is left to finish on its own: it finds the run closed, and
// gives back what it took.
func (c *connections) closeAll() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	if c.locks != nil {
		c.locks.releaseAll()
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
}

// config turns an inventory host into an SSH configuration: the
// inventory's settings first, ~/.ssh/config for what it leaves open, the
// current user as the last resort. A jump host named in the inventory gets
// its own inventory settings.
func (c *connections) config(h *inventory.Host, seen map[string]bool) (transport.SSHConfig, error) {
	if seen[h.Name] {
		return transport.SSHConfig{}, fmt.Errorf("%s: jump hosts form a loop", h.Name)
	}
	seen[h.Name] = true
	cfg := transport.SSHConfig{
		Name: h.Name, Address: h.Address, Port: h.SSH.Port, User: h.SSH.User, HostKey: h.SSH.HostKey,
	}
	if h.SSH.IdentityFile != "" {
		cfg.IdentityFiles = []string{h.SSH.IdentityFile}
	}
	if h.SSH.KnownHosts != "" {
		cfg.KnownHosts = []string{h.SSH.KnownHosts}
	}
	if h.SSH.Jump != "" {
		if jh := c.inv.Host(h.SSH.Jump); jh != nil {
			j, err := c.config(jh, seen)
			if err != nil {
				return cfg, err
			}
			cfg.Jump = &j
		} else {
			j := transport.ParseJump(h.SSH.Jump)
			j.KnownHosts, j.HostKey = cfg.KnownHosts, cfg.HostKey
			c.userCfg.Apply(j, j.Address)
			cfg.Jump = j
		}
	}
	c.userCfg.Apply(&cfg, h.Address)
	if cfg.User == "" {
		if u, err := user.Current(); err == nil {
			cfg.User = u.Username
		}
	}
	for j := cfg.Jump; j != nil; j = j.Jump {
		if j.User == "" {
			j.User = cfg.User
		}
	}
	return cfg, nil
}

// Dial connects to one inventory host as a run would (inventory settings,
// ~/.ssh/config, jump hosts, known_hosts), for checks outside a run.
func Dial(ctx context.Context, inv *inventory.Inventory, h *inventory.Host, userCfg *transport.UserConfig) (transport.Conn, error) {
	if h.SSH.Connection == "local" {
		return transport.Local{}, nil
	}
	c := &connections{inv: inv, userCfg: userCfg}
	cfg, err := c.config(h, map[string]bool{})
	if err != nil {
		return nil, err
	}
	conn, err := transport.DialSSH(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return conn, nil
}
