package ssh

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pkg/sftp"
	gossh "golang.org/x/crypto/ssh"

	"tejun/transport"
	"tejun/transport/internal/writepath"
)

// sftpConn is an SFTP client on an sftp-server we start ourselves with
// umask 077 (through sudo -n for another user, as pkg/sftp has no notion
// of sudo), or on the server's own subsystem where no sftp-server binary is
// found. pkg/sftp's OpenFile sends no attributes, so OpenSSH creates files
// 0666 minus its umask, normally 0644: readable by everyone until the
// chmod after the data. The umask makes every file 0600 from the first
// byte; the final mode is set just before the rename.
type sftpConn struct {
	client  *sftp.Client
	sess    *gossh.Session
	release func() // its session's slot on the connection
	uid     int    // the writing user's, for the symlink and clean-up rules
	umask   bool   // files are created 0600; false on the server's subsystem
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

func (s *Conn) sftp(ctx context.Context, as string) (*sftpConn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.sftps[as]; ok {
		return c, nil
	}
	out, err := transport.Output(ctx, s, transport.Cmd{Argv: []string{"id", "-u"}, User: as, CLocale: true}, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: who is writing: %w", s.cfg.Name, err)
	}
	uid, err := strconv.Atoi(strings.TrimSpace(out))
	if err != nil {
		return nil, fmt.Errorf("%s: id -u said %q", s.cfg.Name, out)
	}
	server := ""
	for _, p := range sftpServers {
		if err := s.Run(ctx, transport.Cmd{Argv: []string{"test", "-x", p}}, transport.Stdio{}); err == nil {
			server = p
			break
		}
	}
	if server == "" && as != "" {
		return nil, fmt.Errorf("%s: no sftp-server found (looked in %s)", s.cfg.Name, strings.Join(sftpServers, ", "))
	}
	// Every SFTP session is opened within the connection's slots.
	sess, release, err := s.openSession(ctx)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*sftpConn, error) {
		sess.Close()
		release()
		return nil, err
	}
	var c *sftpConn
	if server == "" {
		// The server's own subsystem: no -u 077, so WriteFile creates
		// its temporary files private with the shell first.
		cl, err := sftpSubsystem(sess)
		if err != nil {
			return fail(fmt.Errorf("%s: sftp: %w", s.cfg.Name, err))
		}
		c = &sftpConn{client: cl, sess: sess, release: release}
	} else {
		w, err := sess.StdinPipe()
		if err != nil {
			return fail(err)
		}
		r, err := sess.StdoutPipe()
		if err != nil {
			return fail(err)
		}
		line, _ := transport.Cmd{Argv: []string{server, "-u", "077"}, User: as}.Line()
		if err := sess.Start(line); err != nil {
			return fail(err)
		}
		cl, err := sftp.NewClientPipe(r, w, sftpOptions()...)
		if err != nil {
			if as == "" {
				return fail(fmt.Errorf("%s: sftp: %w", s.cfg.Name, err))
			}
			return fail(fmt.Errorf("%s: sftp as %s (is there a NOPASSWD sudo rule?): %w", s.cfg.Name, as, err))
		}
		c = &sftpConn{client: cl, sess: sess, release: release, umask: true}
	}
	c.uid = uid
	s.sftps[as] = c
	return c, nil
}

// sftpSubsystem starts the sftp subsystem on sess, as sftp.NewClient does
// on a session of its own.
func sftpSubsystem(sess *gossh.Session) (*sftp.Client, error) {
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

// dropSFTP forgets a client whose connection died, so the next write
// does not reuse it.
func (s *Conn) dropSFTP(as string, c *sftpConn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sftps[as] == c {
		delete(s.sftps, as)
		c.close()
	}
}

// sftpFS lets writepath.Resolve walk the host's file system.
type sftpFS struct{ cl *sftp.Client }

func (f sftpFS) Lstat(p string) (writepath.Node, error) {
	fi, err := f.cl.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return writepath.Node{}, nil
	}
	if err != nil {
		return writepath.Node{}, fmt.Errorf("lstat %s: %w", p, err)
	}
	return sftpNode(fi), nil
}

func (f sftpFS) Readlink(p string) (string, error) { return f.cl.ReadLink(p) }

func sftpNode(fi fs.FileInfo) writepath.Node {
	n := writepath.Node{Exists: true, Type: fi.Mode().Type(), Perm: writepath.UnixPerm(fi.Mode()), UID: -1, MTime: fi.ModTime()}
	if st, ok := fi.Sys().(*sftp.FileStat); ok {
		n.Perm = st.Mode & 0o7777
		n.UID = int(st.UID)
	}
	return n
}

// leftovers are temporary files this process could not remove (the
// connection died under them), by host and directory: the next write
// there removes them, as it removes those of earlier runs.
var leftovers = struct {
	sync.Mutex
	m map[string]map[string]bool
}{m: map[string]map[string]bool{}}

func leftoverKey(host, dir string) string { return host + "\x00" + dir }

func rememberLeftover(host, tmp string) {
	leftovers.Lock()
	defer leftovers.Unlock()
	k := leftoverKey(host, path.Dir(tmp))
	if leftovers.m[k] == nil {
		leftovers.m[k] = map[string]bool{}
	}
	leftovers.m[k][path.Base(tmp)] = true
}

func takeLeftovers(host, dir string) map[string]bool {
	leftovers.Lock()
	defer leftovers.Unlock()
	k := leftoverKey(host, dir)
	m := leftovers.m[k]
	delete(leftovers.m, k)
	return m
}

func (s *Conn) hostKey() string { return net.JoinHostPort(s.cfg.Address, strconv.Itoa(s.cfg.Port)) }

// WriteFile uploads r to p atomically: a 0600 temporary file beside the
// destination, owner then mode set (chown clears setuid bits), fsync, then
// posix-rename over it. The destination is resolved first: see
// writepath.Resolve for which symlinks are followed.
func (s *Conn) WriteFile(ctx context.Context, p string, r io.Reader, o transport.WriteOptions) (string, error) {
	c, err := s.sftp(ctx, o.As)
	if err != nil {
		return "", err
	}
	cl := c.client
	if !path.IsAbs(p) {
		wd, err := cl.Getwd()
		if err != nil {
			return "", s.writeErr(ctx, c, o.As, "", fmt.Errorf("write %s: %w", p, err))
		}
		p = path.Join(wd, p)
	}
	dest, old, err := writepath.Resolve(sftpFS{cl}, p, o.Follow, c.uid)
	if err != nil {
		return "", s.writeErr(ctx, c, o.As, "", err)
	}
	dir := path.Dir(dest)
	tmp := writepath.TempName(dir)
	var f *sftp.File
	if c.umask {
		f, err = cl.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	} else {
		// The subsystem's umask is not ours to set: create the file 0600
		// with the shell (set -C is O_EXCL), then open it.
		err = s.Run(ctx, transport.Cmd{Argv: []string{"sh", "-c", `umask 077 && set -C && : > "$1"`, "sh", tmp}, User: o.As}, transport.Stdio{})
		if err == nil {
			f, err = cl.OpenFile(tmp, os.O_WRONLY)
		}
	}
	if err != nil {
		return "", s.writeErr(ctx, c, o.As, dir, fmt.Errorf("create %s: %w", tmp, err))
	}
	stop := context.AfterFunc(ctx, func() { f.Close() })
	defer stop()
	fail := func(err error) (string, error) {
		f.Close()
		err = s.writeErr(ctx, c, o.As, dir, fmt.Errorf("write %s: %w", dest, err))
		if rerr := cl.Remove(tmp); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			rememberLeftover(s.hostKey(), tmp)
		}
		return "", err
	}
	h := sha256.New()
	if _, err := f.ReadFromWithConcurrency(io.TeeReader(writepath.ContextReader(ctx, r), h), 0); err != nil {
		return fail(err)
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
	if err := f.Chmod(fs.FileMode(writepath.FinalPerm(o.Mode, old))); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		return fail(err)
	}
	if err := cl.PosixRename(tmp, dest); err != nil {
		return fail(fmt.Errorf("rename into place: %w", err))
	}
	s.cleanStale(cl, dir, dest, c.uid)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// cleanStale removes what interrupted writes left in dir: best effort,
// as the write itself has succeeded. The host's clock is read from the
// file just written, so a skewed clock here cannot make a running
// upload's temporary file look old.
func (s *Conn) cleanStale(cl *sftp.Client, dir, written string, uid int) {
	mine := takeLeftovers(s.hostKey(), dir)
	fi, err := cl.Lstat(written)
	if err != nil {
		return
	}
	now := fi.ModTime()
	entries, err := cl.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		n := sftpNode(e)
		if writepath.Stale(e.Name(), n, uid, now) || mine[e.Name()] && writepath.TempPattern.MatchString(e.Name()) && n.Type&fs.ModeType == 0 && n.UID == uid {
			_ = cl.Remove(path.Join(dir, e.Name()))
		}
	}
}

// writeErr names why a write failed when SFTP's status says too little:
// a dead connection (the CLI's exit 3, whatever was half-written is
// unknown) or a full disk, which OpenSSH reports as a bare
// SSH_FX_FAILURE; statvfs@openssh.com tells, asked before the temporary
// file is removed and frees the space again.
func (s *Conn) writeErr(ctx context.Context, c *sftpConn, as, dir string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if s.connLost(err) {
		s.dropSFTP(as, c)
		return fmt.Errorf("%s: %w: %v", s.cfg.Name, transport.ErrConnectionLost, err)
	}
	if errors.Is(err, sftp.ErrSSHFxConnectionLost) || errors.Is(err, io.EOF) {
		// Only the sftp-server died (killed, or sudo gave up): the next
		// write starts another.
		s.dropSFTP(as, c)
	}
	var se *sftp.StatusError
	if dir != "" && errors.As(err, &se) && se.FxCode() == sftp.ErrSSHFxFailure {
		if v, verr := c.client.StatVFS(dir); verr == nil && full(v, c.uid) {
			return fmt.Errorf("%s: %w (%s): %v", s.cfg.Name, transport.ErrNoSpace, dir, err)
		}
	}
	return fmt.Errorf("%s: %w", s.cfg.Name, err)
}

// connLost tells a dead connection from a failed operation. A dying
// connection surfaces as anything from pkg/sftp's "connection lost" to
// EOF or a broken pipe on the socket, so every error that is not the
// server's answer is checked by asking the server for a keepalive reply.
func (s *Conn) connLost(err error) bool {
	var se *sftp.StatusError
	if errors.As(err, &se) || errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		return false
	}
	select {
	case <-s.lost:
		return true
	default:
	}
	reply := make(chan error, 1)
	go func() {
		_, _, err := s.client.SendRequest("keepalive@openssh.com", true, nil)
		reply <- err
	}()
	t := time.NewTimer(probeTimeout)
	defer t.Stop()
	select {
	case err := <-reply:
		return err != nil
	case <-t.C:
		return true
	case <-s.lost:
		return true
	}
}

// probeTimeout is how long a connection may take to answer before a
// failed write is blamed on it.
const probeTimeout = 10 * time.Second

// full says a write failure is ENOSPC: under 1 MiB free (a failed write
// leaves the blocks it could not use; 64 requests of 255 KiB are in
// flight) or no inode free. Root may use the reserved blocks.
func full(v *sftp.StatVFS, uid int) bool {
	free := v.Bavail
	if uid == 0 {
		free = v.Bfree
	}
	return v.Blocks > 0 && free*v.Frsize < 1<<20 || v.Files > 0 && v.Favail == 0
}

// ReadFile downloads p to w.
func (s *Conn) ReadFile(ctx context.Context, p string, w io.Writer, as string) (string, error) {
	c, err := s.sftp(ctx, as)
	if err != nil {
		return "", err
	}
	f, err := c.client.Open(p)
	if err != nil {
		return "", fmt.Errorf("%s: open %s: %w", s.cfg.Name, p, err)
	}
	defer f.Close()
	stop := context.AfterFunc(ctx, func() { f.Close() })
	defer stop()
	transport.TellSize(w, f.Stat)
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
func (s *Conn) ids(ctx context.Context, owner, group string) (int, int, error) {
	uid, gid := -1, -1
	get := func(args ...string) (int, error) {
		out, err := transport.Output(ctx, s, transport.Cmd{Argv: args, CLocale: true}, nil)
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
		out, err := transport.Output(ctx, s, transport.Cmd{Argv: []string{"getent", "group", "--", group}, CLocale: true}, nil)
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
