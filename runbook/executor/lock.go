package executor

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

// LockPath is where a run's lock lives on each host: /var/tmp survives a
// reboot, and a lock whose heartbeat stopped is stale anyway.
const LockPath = "/var/tmp/tejun-run.lock"

const (
	heartbeat = 10 * time.Second
	staleAge  = 30 * time.Second
)

// lockInfo is what a lock says about its holder.
type lockInfo struct {
	RunID   string `json:"run_id"`
	User    string `json:"user"`
	Machine string `json:"machine"`
	PID     int    `json:"pid"`
	Runbook string `json:"runbook"`
	Started string `json:"started"`
}

// LockedError is a host another run holds.
type LockedError struct {
	Host   string
	Holder lockInfo
	Age    time.Duration // since the holder's last heartbeat
}

func (e *LockedError) Error() string {
	h := e.Holder
	return fmt.Sprintf("%s is locked by another run: %s@%s (pid %d, run %s of %s) since %s, last heartbeat %s ago; wait for it, or if that run is dead, wait %s or pass --force-unlock",
		e.Host, h.User, h.Machine, h.PID, h.RunID, h.Runbook, h.Started, e.Age.Round(time.Second), staleAge)
}

type hostLock struct {
	conn transport.Conn
	stop chan struct{}
}

type locks struct {
	mu    sync.Mutex
	held  map[string]*hostLock
	info  lockInfo
	force bool
	// takeOver is the run being resumed: its lock, left by a crash, is
	// this run's to take.
	takeOver string
}

func newLocks(runID, runbook string, force bool, takeOver string) *locks {
	u, _ := user.Current()
	m, _ := os.Hostname()
	name := ""
	if u != nil {
		name = u.Username
	}
	return &locks{held: map[string]*hostLock{}, force: force, takeOver: takeOver,
		info: lockInfo{RunID: runID, User: name, Machine: m, PID: os.Getpid(), Runbook: runbook, Started: time.Now().UTC().Format(time.RFC3339)}}
}

// Commands of the lock. Values reach the shell only as positional
// parameters; "set -C" makes creating the file fail when it exists, which
// is what makes the lock atomic.
func lockCreate() transport.Cmd {
	return transport.Cmd{Argv: []string{"sh", "-c", `set -C; cat > "$1"`, "tejun-lock", LockPath}}
}

func lockAge() transport.Cmd {
	return transport.Cmd{Argv: []string{"sh", "-c", `cat "$1" && echo && echo $(( $(date +%s) - $(stat -c %Y "$1") ))`, "tejun-lock", LockPath}}
}

func lockRelease(id string) transport.Cmd {
	return transport.Cmd{Argv: []string{"sh", "-c", `grep -qF "$2" "$1" && rm -f "$1"`, "tejun-unlock", LockPath, id}}
}

func lockRemove() transport.Cmd { return transport.Cmd{Argv: []string{"rm", "-f", LockPath}} }

func lockTouch() transport.Cmd { return transport.Cmd{Argv: []string{"touch", "-c", LockPath}} }

// acquire takes h's lock, taking over a stale one (or any, with force).
func (l *locks) acquire(ctx context.Context, h *inventory.Host, c transport.Conn) error {
	body, _ := json.Marshal(l.info)
	for attempt := 0; attempt < 2; attempt++ {
		err := c.Run(ctx, lockCreate(), transport.Stdio{Stdin: strings.NewReader(string(body) + "\n")})
		if err == nil {
			hl := &hostLock{conn: c, stop: make(chan struct{})}
			l.mu.Lock()
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
						_ = c.Run(context.Background(), lockTouch(), transport.Stdio{})
					}
				}
			}()
			return nil
		}
		if _, ok := err.(*transport.ExitError); !ok {
			return err
		}
		out, err := transport.Output(ctx, c, lockAge(), nil)
		if err != nil {
			continue // released in between: try again
		}
		var holder lockInfo
		lines := strings.Split(strings.TrimSpace(out), "\n")
		_ = json.Unmarshal([]byte(lines[0]), &holder)
		secs, _ := strconv.Atoi(lines[len(lines)-1])
		age := time.Duration(secs) * time.Second
		ours := holder.RunID == l.info.RunID || (l.takeOver != "" && holder.RunID == l.takeOver)
		if age < staleAge && !l.force && !ours {
			return &LockedError{Host: h.Name, Holder: holder, Age: age}
		}
		if err := c.Run(ctx, lockRemove(), transport.Stdio{}); err != nil {
			return fmt.Errorf("%s: cannot remove the stale lock %s: %w", h.Name, LockPath, err)
		}
	}
	return fmt.Errorf("%s: could not take the run lock %s", h.Name, LockPath)
}

// releaseAll removes the locks this run holds, and only those, on all
// hosts at once and within d: a frozen host must not keep an interrupted
// run waiting on its keepalive. It returns the hosts whose lock may be
// left behind (it goes stale staleAge after its last heartbeat).
func (l *locks) releaseAll(d time.Duration) []string {
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
			err := hl.conn.Run(ctx, lockRelease(l.info.RunID), transport.Stdio{})
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
