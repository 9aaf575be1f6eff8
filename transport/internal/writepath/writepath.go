// Package writepath holds the rules both file-moving transports (SFTP and
// the local file system) follow when writing a file, so that a symlink an
// attacker planted is judged the same way over SSH as on the control machine.
package writepath

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"strings"
	"time"
)

// A Node is what lstat says about one path: the rules below need the raw
// owner and permission bits, which neither transport hands over in the
// same shape.
type Node struct {
	Exists bool
	Type   fs.FileMode // fs.ModeDir, fs.ModeSymlink, 0 for a regular file, ...
	Perm   uint32      // the unix permission bits, setuid/setgid/sticky included
	UID    int
	MTime  time.Time
}

// FS is the few operations resolving a destination needs, so the SSH
// and local transports share one set of rules.
type FS interface {
	Lstat(p string) (Node, error) // a missing path is Exists=false, not an error
	Readlink(p string) (string, error)
}

// maxLinks is the kernel's limit on symlinks followed in one lookup.
const maxLinks = 40

// Resolve walks p one component at a time as the kernel would, so
// that every symlink on the way is judged before anything is written
// through it, and returns the file to replace and what is there now.
//
// A symlink is trusted only when root or the writer owns it and, in a
// world-writable sticky directory, when the directory's owner or the writer
// owns it: the rule of fs.protected_symlinks, because anyone may plant a
// link in /tmp and point our write at /etc/shadow. A symlink as the last
// component is refused unless follow is set; a directory or device there
// always is.
func Resolve(fsys FS, p string, follow bool, writer int) (string, Node, error) {
	if !path.IsAbs(p) {
		return "", Node{}, fmt.Errorf("%s: not an absolute path", p)
	}
	if strings.HasSuffix(p, "/") || strings.HasSuffix(p, "/.") || strings.HasSuffix(p, "/..") {
		return "", Node{}, fmt.Errorf("%s: names a directory, not a file", p)
	}
	pending := strings.Split(p, "/")
	cur := "/"
	dir, err := fsys.Lstat("/")
	if err != nil {
		return "", Node{}, err
	}
	links := 0
	for len(pending) > 0 {
		name := pending[0]
		pending = pending[1:]
		last := true
		for _, rest := range pending {
			if rest != "" && rest != "." {
				last = false
			}
		}
		switch name {
		case "", ".":
			continue
		case "..":
			cur = path.Dir(cur)
			if dir, err = fsys.Lstat(cur); err != nil {
				return "", Node{}, err
			}
			continue
		}
		next := path.Join(cur, name)
		n, err := fsys.Lstat(next)
		if err != nil {
			return "", Node{}, err
		}
		if !n.Exists {
			if last {
				return next, n, nil
			}
			return "", Node{}, fmt.Errorf("%s: directory %s does not exist", p, next)
		}
		if n.Type&fs.ModeSymlink != 0 {
			if last && !follow {
				target, _ := fsys.Readlink(next)
				return "", Node{}, fmt.Errorf("%s is a symlink (to %s): refusing to replace it (a file or line step with follow = true writes through it to its target)", next, target)
			}
			if n.UID != 0 && n.UID != writer {
				return "", Node{}, fmt.Errorf("%s: refusing to follow symlink %s: owned by uid %d, neither root nor the writing user", p, next, n.UID)
			}
			if dir.Type&fs.ModeDir != 0 && dir.Perm&0o1002 == 0o1002 && n.UID != dir.UID && n.UID != writer {
				return "", Node{}, fmt.Errorf("%s: refusing to follow symlink %s: it sits in world-writable sticky %s and is not owned by that directory's owner", p, next, cur)
			}
			if links++; links > maxLinks {
				return "", Node{}, fmt.Errorf("%s: too many levels of symbolic links", p)
			}
			target, err := fsys.Readlink(next)
			if err != nil {
				return "", Node{}, err
			}
			if path.IsAbs(target) {
				cur = "/"
				if dir, err = fsys.Lstat("/"); err != nil {
					return "", Node{}, err
				}
			}
			pending = append(strings.Split(target, "/"), pending...)
			continue
		}
		if last {
			switch {
			case n.Type&fs.ModeDir != 0:
				return "", Node{}, fmt.Errorf("%s: is a directory", next)
			case n.Type&fs.ModeType != 0:
				return "", Node{}, fmt.Errorf("%s: not a regular file (%v)", next, n.Type)
			}
			return next, n, nil
		}
		if n.Type&fs.ModeDir == 0 {
			return "", Node{}, fmt.Errorf("%s: %s is not a directory", p, next)
		}
		cur, dir = next, n
	}
	return "", Node{}, fmt.Errorf("%s: is a directory", p)
}

// FinalPerm is the mode the written file ends with: the one asked for,
// else the replaced file's (a rewrite must not widen or narrow it), else
// 0644 for a new file. Never a symlink's 0777.
func FinalPerm(mode fs.FileMode, old Node) uint32 {
	if mode != 0 {
		return UnixPerm(mode)
	}
	if old.Exists {
		return old.Perm & 0o7777
	}
	return 0o644
}

// UnixPerm turns a FileMode into chmod(2) bits, accepting both Go's
// ModeSetuid style and raw 04000 bits (what parsing "4755" gives).
func UnixPerm(m fs.FileMode) uint32 {
	p := uint32(m) & 0o7777
	if m&fs.ModeSetuid != 0 {
		p |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		p |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		p |= 0o1000
	}
	return p
}

// TempPattern is exactly the names TempName makes: cleaning up never
// touches a file we did not name.
var TempPattern = regexp.MustCompile(`^\.tejun-[0-9a-f]{12}\.tmp$`)

// TempName is unpredictable, so nobody can plant a file or link there
// ahead of us (the create is O_EXCL besides).
func TempName(dir string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return path.Join(dir, ".tejun-"+hex.EncodeToString(b[:])+".tmp")
}

// processStart stands for "this run": a temporary file older than the
// process was left by an earlier, interrupted run.
var processStart = time.Now()

// Stale says whether a directory entry is a temporary file an earlier run
// of ours left: our exact name pattern, a regular file (not a link someone
// planted), owned by the writer, and older, by the host's clock (now),
// than this process has been running, with a minute's slack.
func Stale(name string, n Node, writer int, now time.Time) bool {
	return TempPattern.MatchString(name) && n.Exists && n.Type&fs.ModeType == 0 && n.UID == writer &&
		now.Sub(n.MTime) > time.Since(processStart)+time.Minute
}

// ContextReader stops feeding an upload once ctx is done, so a cancelled
// write ends even when its source would go on.
func ContextReader(ctx context.Context, r io.Reader) io.Reader { return ctxReader{ctx, r} }

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
