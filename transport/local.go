package transport

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Local runs commands on this machine: the local host is just another
// connection, so a runbook aimed at "localhost" needs no sshd.
type Local struct{}

// Run executes cmd's argv directly (no shell in between unless cmd.Shell).
func (Local) Run(ctx context.Context, cmd Cmd, stdio Stdio) error {
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
	errTail := &tail{max: stderrKept}
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
		if se := sudoRefusal(cmd, code, errTail.String()); se != nil {
			return se
		}
		return &ExitError{Cmd: line, Code: code, Stderr: errTail.String()}
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
func (Local) Close() error { return nil }

// WriteFile writes atomically in the target directory. Writing as another
// user is not supported locally: run tejun as that user instead.
func (Local) WriteFile(ctx context.Context, path string, r io.Reader, o WriteOptions) (string, error) {
	if o.As != "" {
		return "", fmt.Errorf("local write as %s: not supported; run tejun as that user", o.As)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tejun-*.tmp")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name()) // after a successful rename this is a no-op
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(tmp, h), r); err != nil {
		tmp.Close()
		return "", err
	}
	if o.Mode != 0 {
		if err := tmp.Chmod(o.Mode); err != nil {
			tmp.Close()
			return "", err
		}
	}
	if o.Owner != "" || o.Group != "" {
		uid, gid, err := lookupIDs(o.Owner, o.Group)
		if err == nil {
			err = tmp.Chown(uid, gid)
		}
		if err != nil {
			tmp.Close()
			return "", err
		}
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// ReadFile streams a local file.
func (Local) ReadFile(ctx context.Context, path string, w io.Writer, as string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
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
