package host

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/user"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"tejun/inventory"
	"tejun/transport"
)

// Where a run's lock lives on a host. The lock is a directory (mkdir is
// atomic and, unlike a shell's noclobber, fails on a symlink or device
// planted at the path) inside a directory only the lock's user can write,
// so no other local user can plant, remove or redirect it:
//
//   - as root (a root login, or become = "root"): RootLockDir, so every
//     operator who can be root on the host shares one lock, whoever they
//     log in as;
//   - otherwise: ~/.tejun of the login user, which excludes that user's
//     other runs (nobody else's run could change what they may change).
//
// Like k0sctl's, the lock records its holder and is kept fresh by a
// heartbeat; one whose heartbeat stopped is stale and may be taken over.
const (
	RootLockDir = "/var/lib/tejun"
	UserLockDir = ".tejun" // under the login user's home
	LockName    = "run.lock"
	// LockPath is the lock of a root run, for tests and messages.
	LockPath = RootLockDir + "/" + LockName
)

const (
	heartbeat = 10 * time.Second
	staleAge  = 30 * time.Second
)

// LockInfo is what a lock says about its holder (JSON in the lock).
type LockInfo struct {
	RunID   string `json:"run_id"`
	User    string `json:"user"`
	Machine string `json:"machine"`
	PID     int    `json:"pid"`
	Runbook string `json:"runbook"`
	Started string `json:"started"`
}

// LockedError is a host another run holds, or whose lock tejun cannot
// trust (a symlink, a file it did not make, someone else's): either way
// this run must not start there.
type LockedError struct {
	Host   string
	Path   string
	Holder LockInfo
	Age    time.Duration // since the holder's last heartbeat
	// Untrusted, when set, is why the lock path is not a lock tejun made.
	Untrusted string
}

func (e *LockedError) Error() string {
	if e.Untrusted != "" {
		return fmt.Sprintf("%s: refusing the run lock: %s; remove it by hand once you know who made it", e.Host, e.Untrusted)
	}
	h := e.Holder
	return fmt.Sprintf("%s is locked by another run: %s@%s (pid %d, run %s of %s) since %s, last heartbeat %s ago (%s); wait for it, or if that run is dead, wait %s or pass --force-unlock",
		e.Host, h.User, h.Machine, h.PID, h.RunID, h.Runbook, h.Started, e.Age.Round(time.Second), e.Path, staleAge)
}

type hostLock struct {
	conn   transport.Conn
	become string
	stop   chan struct{}
}

// Locks are the run locks one run holds, one per host, each kept fresh by
// a heartbeat until released.
type Locks struct {
	mu    sync.Mutex
	held  map[string]*hostLock
	info  LockInfo
	force bool
	// takeOver is the run being resumed: its lock, left by a crash, is
	// this run's to take.
	takeOver string
}

// NewLocks returns the locks of run runID of runbook, none taken yet.
// force takes a lock whose holder seems alive; takeOver is the run ID
// being resumed, whose locks are this run's.
func NewLocks(runID, runbook string, force bool, takeOver string) *Locks {
	u, _ := user.Current()
	m, _ := os.Hostname()
	name := ""
	if u != nil {
		name = u.Username
	}
	return &Locks{held: map[string]*hostLock{}, force: force, takeOver: takeOver,
		info: LockInfo{RunID: runID, User: name, Machine: m, PID: os.Getpid(), Runbook: runbook, Started: time.Now().UTC().Format(time.RFC3339)}}
}

// lockPrologue finds and vets the lock directory, leaving the lock's path
// in $l. Anything wrong is reported on standard output as "bad REASON",
// for acquire to turn into a refusal.
const lockPrologue = `set -u
umask 077
if [ "$(id -u)" = 0 ]; then d=` + RootLockDir + `; else d="$HOME/` + UserLockDir + `"; fi
mkdir -- "$d" 2>/dev/null
if [ -L "$d" ] || [ ! -d "$d" ]; then echo "bad $d is not a directory"; exit 0; fi
if [ "$(stat -c %u -- "$d")" != "$(id -u)" ]; then echo "bad $d is owned by uid $(stat -c %u -- "$d"), not by $(id -un)"; exit 0; fi
if [ -n "$(find "$d" -maxdepth 0 -perm /022)" ]; then echo "bad $d is writable by others, who could plant or remove a lock"; exit 0; fi
l="$d/` + LockName + `"
`

// lockAcquire creates the lock, or describes the one there.
//
// Two inventory names for one machine (another address, an alias) need
// no identity of their own: the machine itself is the identity. The second
// name finds the lock holding this run's ID and shares it, which works
// where /etc/machine-id is missing or cloned and needs no host-key
// bookkeeping.
const lockAcquire = lockPrologue + `if mkdir -- "$l" 2>/dev/null; then cat > "$l/info" && echo "taken $l"; exit 0; fi
if [ -L "$l" ] || [ ! -d "$l" ]; then echo "bad $l is not a lock tejun made (a symlink or a plain file)"; exit 0; fi
if [ "$(stat -c %u -- "$l")" != "$(id -u)" ]; then echo "bad $l belongs to uid $(stat -c %u -- "$l"), not to $(id -un)"; exit 0; fi
t=$(stat -c %Y -- "$l/info" 2>/dev/null || stat -c %Y -- "$l")
echo "held $l $(( $(date +%s) - t ))"
cat -- "$l/info" 2>/dev/null
`

// lockRemove takes over a stale lock: only a directory holding at most
// its info file goes.
const lockRemove = lockPrologue + `[ -d "$l" ] && [ ! -L "$l" ] && rm -f -- "$l/info" && rmdir -- "$l"`

// lockRelease removes the lock only if it is this run's ($1).
const lockRelease = lockPrologue + `grep -qF "\"run_id\":\"$1\"" "$l/info" && rm -f -- "$l/info" && rmdir -- "$l"`

const lockTouch = lockPrologue + `touch -c -- "$l/info"`

func lockCmd(script, become string, args ...string) transport.Cmd {
	c := transport.Cmd{Argv: append([]string{"sh", "-c", script, "tejun-lock"}, args...), CLocale: true}
	if become == "root" {
		c = c.Sent(become)
	}
	return c
}

// acquire takes h's lock, taking over a stale one (or any, with force).
func (l *Locks) acquire(ctx context.Context, h *inventory.Host, c transport.Conn) error {
	body, _ := json.Marshal(l.info)
	become := h.SSH.Become
	for attempt := 0; attempt < 2; attempt++ {
		out, err := transport.Output(ctx, c, lockCmd(lockAcquire, become), strings.NewReader(string(body)+"\n"))
		if err != nil {
			return fmt.Errorf("%s: cannot take the run lock: %w", h.Name, err)
		}
		lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
		if out == "" {
			return fmt.Errorf("%s: cannot take the run lock: no answer from the lock script", h.Name)
		}
		word, rest, _ := strings.Cut(lines[0], " ")
		switch word {
		case "bad":
			return &LockedError{Host: h.Name, Untrusted: rest}
		case "taken":
			l.hold(h, c)
			return nil
		case "held":
		default:
			return fmt.Errorf("%s: cannot take the run lock: unexpected answer %q", h.Name, lines[0])
		}
		path, secs, _ := strings.Cut(rest, " ")
		var holder LockInfo
		if len(lines) > 1 {
			_ = json.Unmarshal([]byte(lines[1]), &holder)
		}
		n, err := strconv.Atoi(secs)
		if err != nil {
			return fmt.Errorf("%s: cannot read the age of the run lock %s: %q", h.Name, path, secs)
		}
		age := time.Duration(n) * time.Second
		if holder.RunID == l.info.RunID {
			// Another inventory name for a machine this run holds.
			l.hold(h, c)
			return nil
		}
		resumed := l.takeOver != "" && holder.RunID == l.takeOver
		if age < staleAge && !l.force && !resumed {
			return &LockedError{Host: h.Name, Path: path, Holder: holder, Age: age}
		}
		if err := c.Run(ctx, lockCmd(lockRemove, become), transport.Stdio{}); err != nil {
			return fmt.Errorf("%s: cannot remove the stale lock %s: %w", h.Name, path, err)
		}
	}
	return fmt.Errorf("%s: could not take the run lock", h.Name)
}

// hold records h's lock and keeps it fresh until released.
func (l *Locks) hold(h *inventory.Host, c transport.Conn) {
	hl := &hostLock{conn: c, become: h.SSH.Become, stop: make(chan struct{})}
	l.mu.Lock()
	if old := l.held[h.Name]; old != nil {
		close(old.stop)
	}
	l.held[h.Name] = hl
	l.mu.Unlock()
	go func() {
		t := time.NewTicker(heartbeat)
		defer t.Stop()
		for {
			select {
			case <-hl.stop:
				return
			case <-t.C:
				_ = c.Run(context.Background(), lockCmd(lockTouch, hl.become), transport.Stdio{})
			}
		}
	}()
}

// drop forgets h's lock without releasing it (its connection is gone; a
// new one finds the lock this run's and holds it again).
func (l *Locks) drop(host string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if hl := l.held[host]; hl != nil {
		close(hl.stop)
		delete(l.held, host)
	}
}

// releaseAll removes the locks this run holds, and only those, on all
// hosts at once and within d: a frozen host must not keep an interrupted
// run waiting on its keepalive. A machine with two names is released by the
// first; the second finds no lock of this run's and leaves whatever is
// there alone. It returns the hosts whose lock may be left behind (it goes
// stale staleAge after its last heartbeat).
func (l *Locks) releaseAll(d time.Duration) []string {
	l.mu.Lock()
	held := l.held
	l.held = map[string]*hostLock{}
	l.mu.Unlock()
	var mu sync.Mutex
	pending := map[string]bool{}
	done := make(chan struct{}, len(held))
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for name, hl := range held {
		close(hl.stop)
		pending[name] = true
		go func(name string, hl *hostLock) {
			err := hl.conn.Run(ctx, lockCmd(lockRelease, hl.become, l.info.RunID), transport.Stdio{})
			mu.Lock()
			if err == nil {
				delete(pending, name)
			}
			mu.Unlock()
			done <- struct{}{}
		}(name, hl)
	}
	timeout := time.After(d)
wait:
	for range held {
		select {
		case <-done:
		case <-timeout:
			break wait
		}
	}
	mu.Lock()
	defer mu.Unlock()
	var left []string
	for name := range pending {
		left = append(left, name)
	}
	sort.Strings(left)
	return left
}
