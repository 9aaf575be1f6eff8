// Package local is the connection to the control machine itself, for
// runbooks aimed at localhost: the same Conn and Files contract as SSH,
// without an sshd.
package local

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"tejun/transport"
	"tejun/transport/internal/writepath"
)

// Conn runs commands on this machine: the local host is just another
// connection, so a runbook aimed at "localhost" needs no sshd.
type Conn struct{}

// Run executes cmd's argv directly (no shell in between unless cmd.Shell).
func (Conn) Run(ctx context.Context, cmd transport.Cmd, stdio transport.Stdio) error {
	words := cmd.Words()
	line, err := cmd.Line()
	if err != nil {
		return err
	}
	prog := words[0]
	if !strings.Contains(prog, "/") {
		if prog, err = lookLocal(prog); err != nil {
			return fmt.Errorf("%s: %w", line, err)
		}
	}
	c := exec.Command(prog, words[1:]...)
	c.Env = localEnv()
	c.Stdin, c.Stdout = stdio.Stdin, stdio.Stdout
	errTail := transport.NewStderrTail()
	if stdio.Stderr != nil {
		c.Stderr = io.MultiWriter(stdio.Stderr, errTail)
	} else {
		c.Stderr = errTail
	}
	// Its own process group, so cancelling stops what it started too.
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := c.Start(); err != nil {
		return fmt.Errorf("%s: %w", line, err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	select {
	case err = <-done:
	case <-ctx.Done():
		_ = syscall.Kill(-c.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			_ = syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
			<-done
		}
		return ctx.Err()
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code := ee.ExitCode()
		if se := transport.SudoRefusal(cmd, code, errTail.String()); se != nil {
			return se
		}
		return &transport.ExitError{Cmd: line, Code: code, Stderr: errTail.String()}
	}
	return err
}

// localPath is the PATH of local commands, as a login on a host would
// have it; tejun's own PATH is the operator's, not the runbook's.
const localPath = "/usr/bin:/bin:/usr/sbin:/sbin"

// localEnv is the whole environment of a local command: it does not
// inherit tejun's, which holds the operator's secrets (TEJUN_SECRET_*, a
// secret's declared env var, SSH_AUTH_SOCK). The C locale, because what
// a command prints is parsed.
func localEnv() []string {
	env := []string{"PATH=" + localPath, "LANG=C", "LC_ALL=C"}
	if u, err := user.Current(); err == nil {
		env = append(env, "HOME="+u.HomeDir, "USER="+u.Username, "LOGNAME="+u.Username)
	} else if home, err := os.UserHomeDir(); err == nil {
		env = append(env, "HOME="+home)
	}
	return env
}

// lookLocal finds a program in localPath, the PATH the command will see.
func lookLocal(name string) (string, error) {
	for _, dir := range filepath.SplitList(localPath) {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: %w in %s", name, exec.ErrNotFound, localPath)
}

// Close does nothing: there is no connection.
func (Conn) Close() error { return nil }

// WriteFile writes atomically beside the destination, by the same rules
// as over SSH: see writepath.Resolve and transport.Files.WriteFile. Writing as another
// user is not supported locally: run tejun as that user instead.
func (Conn) WriteFile(ctx context.Context, path string, r io.Reader, o transport.WriteOptions) (string, error) {
	if o.As != "" {
		return "", fmt.Errorf("local write as %s: not supported; run tejun as that user", o.As)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	writer := os.Geteuid()
	dest, old, err := writepath.Resolve(localFS{}, abs, o.Follow, writer)
	if err != nil {
		return "", err
	}
	dir := filepath.Dir(dest)
	tmpName := writepath.TempName(dir)
	// 0600 from the first byte whatever our umask; O_EXCL refuses a file
	// or link planted under the name.
	tmp, err := os.OpenFile(tmpName, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return "", localErr(err)
	}
	defer os.Remove(tmpName) // after a successful rename this is a no-op
	fail := func(err error) (string, error) {
		tmp.Close()
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", localErr(fmt.Errorf("write %s: %w", dest, err))
	}
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(tmp, h), writepath.ContextReader(ctx, r)); err != nil {
		return fail(err)
	}
	if o.Owner != "" || o.Group != "" {
		uid, gid, err := lookupIDs(o.Owner, o.Group)
		if err == nil {
			err = tmp.Chown(uid, gid)
		}
		if err != nil {
			return fail(err)
		}
	}
	// After the chown, which clears setuid and setgid bits; through
	// syscall, as os.File.Chmod drops raw 04000-style bits.
	if err := syscall.Fchmod(int(tmp.Fd()), writepath.FinalPerm(o.Mode, old)); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		return "", localErr(err)
	}
	if err := os.Rename(tmpName, dest); err != nil {
		return "", err
	}
	if fi, err := os.Lstat(dest); err == nil {
		if entries, err := os.ReadDir(dir); err == nil {
			for _, e := range entries {
				full := filepath.Join(dir, e.Name())
				if n, err := (localFS{}).Lstat(full); err == nil && writepath.Stale(e.Name(), n, writer, fi.ModTime()) {
					_ = os.Remove(full)
				}
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func localErr(err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return fmt.Errorf("%w: %v", transport.ErrNoSpace, err)
	}
	return err
}

type localFS struct{}

func (localFS) Lstat(p string) (writepath.Node, error) {
	fi, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return writepath.Node{}, nil
	}
	if err != nil {
		return writepath.Node{}, err
	}
	n := writepath.Node{Exists: true, Type: fi.Mode().Type(), Perm: writepath.UnixPerm(fi.Mode()), UID: -1, MTime: fi.ModTime()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		n.Perm = st.Mode & 0o7777
		n.UID = int(st.Uid)
	}
	return n, nil
}

func (localFS) Readlink(p string) (string, error) { return os.Readlink(p) }

// ReadFile streams a local file.
func (Conn) ReadFile(ctx context.Context, path string, w io.Writer, as string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	transport.TellSize(w, f.Stat)
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(w, h), f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func lookupIDs(owner, group string) (int, int, error) {
	uid, gid := -1, -1
	if owner != "" {
		u, err := user.Lookup(owner)
		if err != nil {
			return 0, 0, err
		}
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
	}
	if group != "" {
		g, err := user.LookupGroup(group)
		if err != nil {
			return 0, 0, err
		}
		gid, _ = strconv.Atoi(g.Gid)
	}
	return uid, gid, nil
}
