package transport

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strings"
	"time"
)

// ErrNoSpace: the host's file system is full (ENOSPC, or no free blocks
// or inodes after a failed write). SFTP reports it only as a generic
// failure, which would send an operator looking in the wrong place.
var ErrNoSpace = errors.New("no space left on the host")

// A node is what lstat says about one path: the rules below need the raw
// owner and permission bits, which neither transport hands over in the
// same shape.
type node struct {
	exists bool
	typ    fs.FileMode // fs.ModeDir, fs.ModeSymlink, 0 for a regular file, ...
	perm   uint32      // the unix permission bits, setuid/setgid/sticky included
	uid    int
	mtime  time.Time
}

// writeFS is the few operations resolving a destination needs, so the SSH
// and local transports share one set of rules.
type writeFS interface {
	lstat(p string) (node, error) // a missing path is exists=false, not an error
	readlink(p string) (string, error)
}

// maxLinks is the kernel's limit on symlinks followed in one lookup.
const maxLinks = 40

// resolveDest walks p one component at a time as the kernel would, so
// that every symlink on the way is judged before anything is written
// through it, and returns the file to replace and what is there now.
//
// A symlink is trusted only when root or the writer owns it and, in a
// world-writable sticky directory, when the directory's owner or the writer
// owns it: the rule of fs.protected_symlinks, because anyone may plant a
// link in /tmp and point our write at /etc/shadow. A symlink as the last
// component is refused unless follow is set; a directory or device there
// always is.
func resolveDest(fsys writeFS, p string, follow bool, writer int) (string, node, error) {
	if !path.IsAbs(p) {
		return "", node{}, fmt.Errorf("%s: not an absolute path", p)
	}
	if strings.HasSuffix(p, "/") || strings.HasSuffix(p, "/.") || strings.HasSuffix(p, "/..") {
		return "", node{}, fmt.Errorf("%s: names a directory, not a file", p)
	}
	pending := strings.Split(p, "/")
	cur := "/"
	dir, err := fsys.lstat("/")
	if err != nil {
		return "", node{}, err
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
			if dir, err = fsys.lstat(cur); err != nil {
				return "", node{}, err
			}
			continue
		}
		next := path.Join(cur, name)
		n, err := fsys.lstat(next)
		if err != nil {
			return "", node{}, err
		}
		if !n.exists {
			if last {
				return next, n, nil
			}
			return "", node{}, fmt.Errorf("%s: directory %s does not exist", p, next)
		}
		if n.typ&fs.ModeSymlink != 0 {
			if last && !follow {
				target, _ := fsys.readlink(next)
				return "", node{}, fmt.Errorf("%s is a symlink (to %s): refusing to replace it (a file or line step with follow = true writes through it to its target)", next, target)
			}
			if n.uid != 0 && n.uid != writer {
				return "", node{}, fmt.Errorf("%s: refusing to follow symlink %s: owned by uid %d, neither root nor the writing user", p, next, n.uid)
			}
			if dir.typ&fs.ModeDir != 0 && dir.perm&0o1002 == 0o1002 && n.uid != dir.uid && n.uid != writer {
				return "", node{}, fmt.Errorf("%s: refusing to follow symlink %s: it sits in world-writable sticky %s and is not owned by that directory's owner", p, next, cur)
			}
			if links++; links > maxLinks {
				return "", node{}, fmt.Errorf("%s: too many levels of symbolic links", p)
			}
			target, err := fsys.readlink(next)
			if err != nil {
				return "", node{}, err
			}
			if path.IsAbs(target) {
				cur = "/"
				if dir, err = fsys.lstat("/"); err != nil {
					return "", node{}, err
				}
			}
			pending = append(strings.Split(target, "/"), pending...)
			continue
		}
		if last {
			switch {
			case n.typ&fs.ModeDir != 0:
				return "", node{}, fmt.Errorf("%s: is a directory", next)
			case n.typ&fs.ModeType != 0:
				return "", node{}, fmt.Errorf("%s: not a regular file (%v)", next, n.typ)
			}
			return next, n, nil
		}
		if n.typ&fs.ModeDir == 0 {
			return "", node{}, fmt.Errorf("%s: %s is not a directory", p, next)
		}
		cur, dir = next, n
	}
	return "", node{}, fmt.Errorf("%s: is a directory", p)
}

// finalPerm is the mode the written file ends with: the one asked for,
// else the replaced file's (a rewrite must not widen or narrow it), else
// 0644 for a new file. Never a symlink's 0777.
func finalPerm(o WriteOptions, old node) uint32 {
	if o.Mode != 0 {
		return unixPerm(o.Mode)
	}
	if old.exists {
		return old.perm & 0o7777
	}
	return 0o644
}

// unixPerm turns a FileMode into chmod(2) bits, accepting both Go's
// ModeSetuid style and raw 04000 bits (what parsing "4755" gives).
func unixPerm(m fs.FileMode) uint32 {
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

// tempPattern is exactly the names tempName makes: cleaning up never
// touches a file we did not name.
var tempPattern = regexp.MustCompile(`^\.tejun-[0-9a-f]{12}\.tmp$`)

// tempName is unpredictable, so nobody can plant a file or link there
// ahead of us (the create is O_EXCL besides).
func tempName(dir string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return path.Join(dir, ".tejun-"+hex.EncodeToString(b[:])+".tmp")
}

// processStart stands for "this run": a temporary file older than the
// process was left by an earlier, interrupted run.
var processStart = time.Now()

// stale says whether a directory entry is a temporary file an earlier run
// of ours left: our exact name pattern, a regular file (not a link someone
// planted), owned by the writer, and older, by the host's clock (now),
// than this process has been running, with a minute's slack.
func stale(name string, n node, writer int, now time.Time) bool {
	return tempPattern.MatchString(name) && n.exists && n.typ&fs.ModeType == 0 && n.uid == writer &&
		now.Sub(n.mtime) > time.Since(processStart)+time.Minute
}
