// Package ssh is tejun's SSH connection: authentication (agent, keys with
// passphrases, certificates), known_hosts, ProxyCommand and ProxyJump,
// commands as sessions and files over SFTP, with ~/.ssh/config resolved as
// ssh -G would. It implements transport.Conn and transport.Files.
package ssh

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"tejun/transport"
)

// Config says how to reach one host: what UserConfig.Resolve makes of
// the inventory and the OpenSSH client configuration.
type Config struct {
	Name          string // inventory name, for messages
	Address       string
	Port          int
	User          string
	IdentityFiles []string
	// IdentityRequired: the first identity file is the inventory's, and
	// a missing one is an error rather than skipped as ssh_config's are.
	IdentityRequired bool
	// CertificateFiles hold certificates for the identities; a
	// "<identity>-cert.pub" beside a key is used too, as ssh does.
	CertificateFiles []string
	// IdentitiesOnly offers only the identity files' keys, even when the
	// agent holds others (servers cut a login off after a few offers).
	IdentitiesOnly bool
	// KnownHosts files; the first is where accept-new records keys.
	KnownHosts []string
	// GlobalKnownHosts are read too, never written.
	GlobalKnownHosts []string
	// HashKnownHosts records accepted keys under a hashed host name.
	HashKnownHosts bool
	// HostKey is "strict" (default) or "accept-new".
	HostKey string
	// Jump is the host to tunnel through (ProxyJump); it may itself jump.
	Jump *Config
	// ProxyCommand, when set, is run by /bin/sh and its stdin/stdout are
	// the connection (tokens already expanded).
	ProxyCommand string
	// ConnectTimeout bounds dialing plus the SSH handshake (15 s unset).
	ConnectTimeout time.Duration
	// Keepalive is how often the connection is probed (15 s unset); after
	// KeepaliveMax (3 unset) unanswered probes it is closed and running
	// commands fail with ErrConnectionLost instead of hanging on a dead
	// peer.
	Keepalive    time.Duration
	KeepaliveMax int
	// AgentSocket is the ssh-agent to use; empty means $SSH_AUTH_SOCK,
	// "none" no agent.
	AgentSocket string
	// Algorithms, in preference order; nil leaves x/crypto's defaults
	// (HostKeyAlgorithms: OpenSSH's order).
	HostKeyAlgorithms, Ciphers, KexAlgorithms, MACs []string
}

// Conn is one SSH connection to a host, shared by every step that runs there:
// each command gets a new session on it, which costs a round trip instead of
// a handshake.
type Conn struct {
	cfg    Config
	client *gossh.Client
	jump   *Conn
	lost   chan struct{}
	once   sync.Once

	// slots bounds the sessions open at once on the connection: sshd
	// refuses more than its MaxSessions (10 by default) on one connection.
	slots chan struct{}

	mu    sync.Mutex
	sftps map[string]*sftpConn
}

// maxSessions is below stock sshd's MaxSessions of 10, leaving room for
// a kill session; a server set lower refuses some, which openSession
// waits out.
const maxSessions = 8

// Dial connects and authenticates.
func Dial(ctx context.Context, cfg Config) (*Conn, error) {
	if cfg.Port == 0 {
		cfg.Port = 22
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 15 * time.Second
	}
	if cfg.Keepalive == 0 {
		cfg.Keepalive = 15 * time.Second
	}
	if cfg.KeepaliveMax == 0 {
		cfg.KeepaliveMax = 3
	}
	name := cfg.Name
	if name == "" {
		name = cfg.Address
	}
	addr := net.JoinHostPort(cfg.Address, strconv.Itoa(cfg.Port))
	hostKeys, algos, err := hostKeyCallback(name, addr, cfg)
	if err != nil {
		return nil, err
	}
	auth, closeAgent, err := authMethods(cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	defer closeAgent()
	clientCfg := &gossh.ClientConfig{
		User:              cfg.User,
		Auth:              auth,
		HostKeyCallback:   hostKeys,
		HostKeyAlgorithms: algos,
		Timeout:           cfg.ConnectTimeout,
	}
	clientCfg.Ciphers, clientCfg.KeyExchanges, clientCfg.MACs = cfg.Ciphers, cfg.KexAlgorithms, cfg.MACs

	s := &Conn{cfg: cfg, lost: make(chan struct{}), sftps: map[string]*sftpConn{}, slots: make(chan struct{}, maxSessions)}
	var conn net.Conn
	dialCtx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	defer cancel()
	switch {
	case cfg.Jump != nil:
		s.jump, err = Dial(ctx, *cfg.Jump)
		if err != nil {
			return nil, fmt.Errorf("%s: through jump host: %w", name, err)
		}
		conn, err = s.jump.client.DialContext(dialCtx, "tcp", addr)
	case cfg.ProxyCommand != "":
		conn, err = proxyCommand(cfg.ProxyCommand, addr)
	default:
		var d net.Dialer
		conn, err = d.DialContext(dialCtx, "tcp", addr)
	}
	if err != nil {
		s.closeJump()
		return nil, fmt.Errorf("%s (%s): %w: %v", name, addr, transport.ErrUnreachable, err)
	}
	// The deadline bounds the handshake even where the dialer's context
	// cannot reach (a jump channel, a proxy command's pipes).
	_ = conn.SetDeadline(time.Now().Add(cfg.ConnectTimeout))
	stopWatch := context.AfterFunc(dialCtx, func() { _ = conn.SetDeadline(time.Now()) })
	c, chans, reqs, err := gossh.NewClientConn(conn, addr, clientCfg)
	stopWatch()
	if err != nil {
		conn.Close()
		s.closeJump()
		if pc, ok := conn.(*proxyConn); ok && pc.stderr.String() != "" {
			err = fmt.Errorf("%w (ProxyCommand said: %s)", err, strings.TrimSpace(pc.stderr.String()))
		}
		return nil, classifyHandshake(name, addr, err)
	}
	_ = conn.SetDeadline(time.Time{})
	s.client = gossh.NewClient(c, chans, reqs)
	go s.keepalive()
	go func() {
		_ = s.client.Wait()
		s.markLost()
	}()
	return s, nil
}

func (s *Conn) closeJump() {
	if s.jump != nil {
		s.jump.Close()
	}
}

func classifyHandshake(name, addr string, err error) error {
	var hk *transport.HostKeyError
	if errors.As(err, &hk) {
		return hk
	}
	// x/crypto reports a rejected login only as text; this is the one
	// place tejun reads an error's words, and it keeps the original.
	if strings.Contains(err.Error(), "unable to authenticate") {
		return fmt.Errorf("%s (%s): %w: %v", name, addr, transport.ErrAuth, err)
	}
	if strings.Contains(err.Error(), "Too many authentication failures") {
		return fmt.Errorf("%s (%s): %w: %v (too many keys were offered: IdentitiesOnly yes in ssh_config offers only the host's IdentityFile)", name, addr, transport.ErrAuth, err)
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.EOF) {
		return fmt.Errorf("%s (%s): %w: %v", name, addr, transport.ErrUnreachable, err)
	}
	return fmt.Errorf("%s (%s): %w", name, addr, err)
}

func (s *Conn) markLost() { s.once.Do(func() { close(s.lost) }) }

func (s *Conn) keepalive() {
	t := time.NewTicker(s.cfg.Keepalive)
	defer t.Stop()
	missed := 0
	for {
		select {
		case <-s.lost:
			return
		case <-t.C:
		}
		reply := make(chan error, 1)
		go func() {
			_, _, err := s.client.SendRequest("keepalive@openssh.com", true, nil)
			reply <- err
		}()
		select {
		case err := <-reply:
			if err != nil {
				s.client.Close()
				return
			}
			missed = 0
		case <-time.After(s.cfg.Keepalive):
			if missed++; missed >= s.cfg.KeepaliveMax {
				s.client.Close()
				return
			}
		case <-s.lost:
			return
		}
	}
}

// Run runs cmd in a new session on the shared connection.
func (s *Conn) Run(ctx context.Context, cmd transport.Cmd, stdio transport.Stdio) error {
	line, err := cmd.Line()
	if err != nil {
		return err
	}
	sess, release, err := s.openSession(ctx)
	if err != nil {
		return err
	}
	defer release()
	defer sess.Close()
	sess.Stdin = stdio.Stdin
	errTail := transport.NewStderrTail()
	var stderr io.Writer = errTail
	if stdio.Stderr != nil {
		stderr = io.MultiWriter(stdio.Stderr, errTail)
	}
	// When Run returns before the session ends (cancelled, connection
	// lost), the session's copiers may still be writing: the gates drop
	// what comes after, so the caller owns its buffers again.
	var stdout io.Writer
	if stdio.Stdout != nil {
		g := &gate{w: stdio.Stdout}
		defer g.close()
		stdout = g
	}
	sess.Stdout = stdout
	errGate := &gate{w: stderr}
	defer errGate.close()
	stderr = errGate
	remote := line
	job, killAs := "", ""
	switch {
	case cmd.User != "":
		// Under sudo the command belongs to another user: the login
		// user's signal (sshd's, or ours) does not reach it, and sudo does
		// not pass on a SIGKILL. The marker goes inside sudo (whose
		// env_reset would drop it outside), and the kill runs as the
		// command's user.
		//
		// sudo itself runs under LC_ALL=C, because its refusals are
		// recognised by their words (transport.SudoRefusal) and a Japanese host's
		// sudo says "パスワードが必要です". Stock sudoers keeps LC_*
		// through env_reset (env_check), so that C would reach the
		// command too: unless the command asked for the C locale itself,
		// "env -u LC_ALL" takes it away again and the command sees the
		// login's LANG as it would without tejun (a login whose own
		// environment set LC_ALL falls back to its LANG).
		job = newJob()
		w := cmd.Words() // sudo -n -u USER -- ...
		inner := []string{"env"}
		if !cmd.CLocale {
			inner = append(inner, "-u", "LC_ALL")
		}
		inner = append(inner, "TEJUN_JOB="+job)
		marked := append(append(append([]string{"env", "LC_ALL=C"}, w[:5]...), inner...), w[5:]...)
		if remote, err = (transport.Cmd{Argv: marked}).Line(); err != nil {
			return err
		}
		if s.cfg.User != "root" {
			killAs = cmd.User
		}
	case s.cfg.User == "root":
		// sshd ignores signal requests for root logins, so a cancelled
		// command would run on. A marker in its environment (inherited by
		// everything it starts) lets a second session find and kill it; it
		// costs nothing unless a command is cancelled.
		job = newJob()
		remote = "TEJUN_JOB=" + job + " exec " + line
	}
	sess.Stderr = stderr
	if err := sess.Start(remote); err != nil {
		return fmt.Errorf("%s: %w: %v", s.cfg.Name, transport.ErrConnectionLost, err)
	}
	done := make(chan error, 1)
	go func() { done <- sess.Wait() }()
	select {
	case err = <-done:
	case <-ctx.Done():
		// Ask the remote process to stop, then insist: a cancelled step
		// must not leave its command running on the host. Signalling opens
		// a session, which a frozen host never answers: it runs aside, and
		// waiting for the command to end is bounded, so an interrupt
		// returns within seconds whatever the host does (closing the
		// connection, later, ends what is still waiting).
		go s.signal(sess, job, killAs, "TERM")
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			go func() {
				s.signal(sess, job, killAs, "KILL")
				sess.Close()
			}()
		}
		return ctx.Err()
	case <-s.lost:
		return fmt.Errorf("%s: %w while running %s", s.cfg.Name, transport.ErrConnectionLost, line)
	}
	if err == nil {
		return nil
	}
	var ee *gossh.ExitError
	if errors.As(err, &ee) {
		if ee.Signal() != "" {
			return &transport.ExitError{Cmd: line, Code: 128, Stderr: strings.TrimSpace(errTail.String() + "\nkilled by signal " + ee.Signal())}
		}
		if se := transport.SudoRefusal(cmd, ee.ExitStatus(), errTail.String()); se != nil {
			return se
		}
		return &transport.ExitError{Cmd: line, Code: ee.ExitStatus(), Stderr: errTail.String()}
	}
	return fmt.Errorf("%s: %w while running %s: %v", s.cfg.Name, transport.ErrConnectionLost, line, err)
}

// gate passes writes on until it is closed, then drops them.
type gate struct {
	mu     sync.Mutex
	w      io.Writer
	closed bool
}

func (g *gate) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return len(p), nil
	}
	return g.w.Write(p)
}

func (g *gate) close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
}

// openSession opens a session within the connection's slots. A server
// that refuses one (OpenSSH says "connect failed: open failed" at its
// MaxSessions; others, "administratively prohibited" or "resource
// shortage") is at its limit: while sessions of ours are open, one will end,
// so it waits and tries again (as long as ctx allows) instead of calling
// the connection lost. With none of ours open the refusal is not about
// the count, and it fails after a short while. release gives the slot back.
func (s *Conn) openSession(ctx context.Context) (*gossh.Session, func(), error) {
	select {
	case s.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	case <-s.lost:
		return nil, nil, fmt.Errorf("%s: %w", s.cfg.Name, transport.ErrConnectionLost)
	}
	var once sync.Once
	release := func() { once.Do(func() { <-s.slots }) }
	wait := 20 * time.Millisecond
	alone := time.Now().Add(3 * time.Second)
	for {
		sess, err := s.client.NewSession()
		if err == nil {
			return sess, release, nil
		}
		var oce *gossh.OpenChannelError
		if !errors.As(err, &oce) || oce.Reason == gossh.UnknownChannelType {
			release()
			return nil, nil, fmt.Errorf("%s: %w: %v", s.cfg.Name, transport.ErrConnectionLost, err)
		}
		if len(s.slots) <= 1 && time.Now().After(alone) {
			release()
			return nil, nil, fmt.Errorf("%s: the server refuses new sessions (%v) though tejun has none open: is MaxSessions 0, or sessions forbidden for %s?", s.cfg.Name, err, s.cfg.User)
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			release()
			return nil, nil, ctx.Err()
		case <-s.lost:
			release()
			return nil, nil, fmt.Errorf("%s: %w", s.cfg.Name, transport.ErrConnectionLost)
		}
		if wait < 500*time.Millisecond {
			wait *= 2
		}
	}
}

// signal stops a running command: by a signal request where sshd honours
// it, else by signalling every process whose environment holds the job's
// marker, with its process group, as user (through sudo) when set.
func (s *Conn) signal(sess *gossh.Session, job, user, sig string) {
	_ = sess.Signal(gossh.Signal(sig))
	if job == "" {
		return
	}
	var kill *gossh.Session
	var err error
	for try := 0; ; try++ {
		// Outside the slots: it must not wait for the sessions it ends.
		if kill, err = s.client.NewSession(); err == nil || try == 20 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return
	}
	defer kill.Close()
	line, err := transport.Cmd{User: user, Argv: []string{"sh", "-c", `for p in /proc/[0-9]*; do if tr '\0' '\n' < "$p/environ" 2>/dev/null | grep -qx "TEJUN_JOB=$1"; then kill -s "$2" "${p#/proc/}"; kill -s "$2" -- "-${p#/proc/}"; fi 2>/dev/null; done; true`,
		"tejun-kill", job, sig}}.Line()
	if err != nil {
		return
	}
	_ = kill.Run(line)
}

func newJob() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Close ends the connection (and its jump host's).
func (s *Conn) Close() error {
	s.mu.Lock()
	for _, c := range s.sftps {
		c.close()
	}
	s.sftps = map[string]*sftpConn{}
	s.mu.Unlock()
	err := s.client.Close()
	s.markLost()
	s.closeJump()
	return err
}
