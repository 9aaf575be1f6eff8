package transport

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"
	"strings"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// sftpConn is an SFTP client, either the server's own subsystem (as the
// login user) or sftp-server started through sudo -n (as another user), since
// pkg/sftp has no notion of sudo.
type sftpConn struct {
	client  *sftp.Client
	sess    *ssh.Session
	release func() // its session's slot on the connection
}

func (c *sftpConn) close() {
	c.client.Close()
	if c.release != nil {
		defer c.release()
	}
	if c.sess != nil {
		c.sess.Close()
	}
}

// sftpOptions are tuned for throughput: pkg/sftp's defaults (32 KiB
// packets, sequential writes) run at a third of scp's speed; OpenSSH's
// server accepts 256 KiB packets and many requests in flight.
func sftpOptions() []sftp.ClientOption {
	return []sftp.ClientOption{
		// OpenSSH caps a whole SFTP message at 256 KiB; leave room for the
		// request header around the data.
		sftp.MaxPacketUnchecked(255 << 10),
		sftp.UseConcurrentWrites(true),
		sftp.UseConcurrentReads(true),
		sftp.MaxConcurrentRequestsPerFile(64),
	}
}

// sftpServers are where distributions install OpenSSH's sftp-server.
var sftpServers = []string{"/usr/lib/openssh/sftp-server", "/usr/libexec/openssh/sftp-server", "/usr/lib/ssh/sftp-server", "/usr/libexec/sftp-server"}

func (s *SSH) sftp(ctx context.Context, as string) (*sftp.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.sftps[as]; ok {
		return c.client, nil
	}
	var c *sftpConn
	if as == "" {
		// sftp.NewClient's own session, opened within the slots.
		sess, release, err := s.openSession(ctx)
		if err != nil {
			return nil, err
		}
		cl, err := sftpSubsystem(sess)
		if err != nil {
			sess.Close()
			release()
			return nil, fmt.Errorf("%s: sftp: %w", s.cfg.Name, err)
		}
		c = &sftpConn{client: cl, sess: sess, release: release}
	} else {
		server := ""
		for _, p := range sftpServers {
			if err := s.Run(ctx, Cmd{Argv: []string{"test", "-x", p}}, Stdio{}); err == nil {
				server = p
				break
			}
		}
		if server == "" {
			return nil, fmt.Errorf("%s: no sftp-server found (looked in %s)", s.cfg.Name, strings.Join(sftpServers, ", "))
		}
		sess, release, err := s.openSession(ctx)
		if err != nil {
			return nil, err
		}
		fail := func(err error) (*sftp.Client, error) {
			sess.Close()
			release()
			return nil, err
		}
		w, err := sess.StdinPipe()
		if err != nil {
			return fail(err)
		}
		r, err := sess.StdoutPipe()
		if err != nil {
			return fail(err)
		}
		line, _ := Cmd{Argv: []string{server}, User: as}.Line()
		if err := sess.Start(line); err != nil {
			return fail(err)
		}
		cl, err := sftp.NewClientPipe(r, w, sftpOptions()...)
		if err != nil {
			return fail(fmt.Errorf("%s: sftp as %s (is there a NOPASSWD sudo rule?): %w", s.cfg.Name, as, err))
		}
		c = &sftpConn{client: cl, sess: sess, release: release}
	}
	s.sftps[as] = c
	return c.client, nil
}

// sftpSubsystem starts the sftp subsystem on sess, as sftp.NewClient does
// on a session of its own.
func sftpSubsystem(sess *ssh.Session) (*sftp.Client, error) {
	w, err := sess.StdinPipe()
	if err != nil {
		return nil, err
	}
	r, err := sess.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := sess.RequestSubsystem("sftp"); err != nil {
		return nil, err
	}
	return sftp.NewClientPipe(r, w, sftpOptions()...)
}

// WriteFile uploads r to p atomically: a temporary file beside p, fsync,
// then posix-rename over p.
func (s *SSH) WriteFile(ctx context.Context, p string, r io.Reader, o WriteOptions) (string, error) {
	cl, err := s.sftp(ctx, o.As)
	if err != nil {
		return "", err
	}
	var suffix [6]byte
	_, _ = rand.Read(suffix[:])
	tmp := path.Join(path.Dir(p), ".tejun-"+hex.EncodeToString(suffix[:])+".tmp")
	f, err := cl.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return "", fmt.Errorf("%s: create %s: %w", s.cfg.Name, tmp, err)
	}
	stop := context.AfterFunc(ctx, func() { f.Close() })
	defer stop()
	fail := func(err error) (string, error) {
		f.Close()
		_ = cl.Remove(tmp)
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", fmt.Errorf("%s: write %s: %w", s.cfg.Name, p, err)
	}
	h := sha256.New()
	if _, err := f.ReadFromWithConcurrency(io.TeeReader(r, h), 0); err != nil {
		return fail(err)
	}
	if o.Mode != 0 {
		if err := f.Chmod(o.Mode); err != nil {
			return fail(err)
		}
	}
	if o.Owner != "" || o.Group != "" {
		uid, gid, err := s.ids(ctx, o.Owner, o.Group)
		if err != nil {
			return fail(err)
		}
		if err := f.Chown(uid, gid); err != nil {
			return fail(err)
		}
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		return fail(err)
	}
	if err := cl.PosixRename(tmp, p); err != nil {
		_ = cl.Remove(tmp)
		return "", fmt.Errorf("%s: rename into %s: %w", s.cfg.Name, p, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// ReadFile downloads p to w.
func (s *SSH) ReadFile(ctx context.Context, p string, w io.Writer, as string) (string, error) {
	cl, err := s.sftp(ctx, as)
	if err != nil {
		return "", err
	}
	f, err := cl.Open(p)
	if err != nil {
		return "", fmt.Errorf("%s: open %s: %w", s.cfg.Name, p, err)
	}
	defer f.Close()
	stop := context.AfterFunc(ctx, func() { f.Close() })
	defer stop()
	h := sha256.New()
	if _, err := f.WriteTo(io.MultiWriter(w, h)); err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", fmt.Errorf("%s: read %s: %w", s.cfg.Name, p, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// ids asks the host for numeric ids: SFTP chown takes numbers, and the
// names mean what the host's passwd says, not ours.
func (s *SSH) ids(ctx context.Context, owner, group string) (int, int, error) {
	uid, gid := -1, -1
	get := func(args ...string) (int, error) {
		out, err := Output(ctx, s, Cmd{Argv: args}, nil)
		if err != nil {
			return 0, err
		}
		return strconv.Atoi(strings.TrimSpace(out))
	}
	var err error
	if owner != "" {
		if uid, err = get("id", "-u", "--", owner); err != nil {
			return 0, 0, fmt.Errorf("user %s: %w", owner, err)
		}
		if gid, err = get("id", "-g", "--", owner); err != nil {
			return 0, 0, fmt.Errorf("user %s: %w", owner, err)
		}
	}
	if group != "" {
		out, err := Output(ctx, s, Cmd{Argv: []string{"getent", "group", "--", group}}, nil)
		if err != nil {
			return 0, 0, fmt.Errorf("group %s: %w", group, err)
		}
		fields := strings.Split(strings.TrimSpace(out), ":")
		if len(fields) < 3 {
			return 0, 0, fmt.Errorf("group %s: unexpected getent output %q", group, out)
		}
		if gid, err = strconv.Atoi(fields[2]); err != nil {
			return 0, 0, fmt.Errorf("group %s: %w", group, err)
		}
	}
	return uid, gid, nil
}
