package cli

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/sys/unix"

	"tejun/runbook"
	"tejun/runbook/mask"
	"tejun/runbook/report"
	"tejun/runbook/run"
)

// EventSchema names the JSON event format; it changes only by a new
// version, so consumers can rely on what v1 says (README, "JSON events").
const EventSchema = "tejun.events/v1"

// Event is one line of --output json and of the audit record. Fields are
// omitted when empty; which are set depends on Event (see README).
type Event struct {
	Schema string `json:"schema"`
	Event  string `json:"event"` // run_start, step_start, step_end, command, run_end
	Time   string `json:"time"`
	RunID  string `json:"run_id"`

	// run_start
	Runbook         string   `json:"runbook,omitempty"`
	RunbookSHA256   string   `json:"runbook_sha256,omitempty"`
	Inventory       string   `json:"inventory,omitempty"`
	InventorySHA256 string   `json:"inventory_sha256,omitempty"`
	User            string   `json:"user,omitempty"`
	Machine         string   `json:"machine,omitempty"`
	Args            []string `json:"args,omitempty"`
	Version         string   `json:"tejun_version,omitempty"`
	SwappedRoles    string   `json:"swapped_roles,omitempty"`
	// Lang is the run's language, which the labels are written in.
	Lang string `json:"lang,omitempty"`

	// step_start, step_end, command. Step is the id, the same in every
	// language: what a consumer keys on. Label is the manual's number as
	// the terminal says it in the run's language (4-⑥, or 4-6 in English).
	Step  string `json:"step,omitempty"`
	Label string `json:"label,omitempty"`
	Host  string `json:"host,omitempty"`

	// step_end
	Status     string `json:"status,omitempty"`
	Reason     string `json:"reason,omitempty"`
	Error      string `json:"error,omitempty"`
	StderrTail string `json:"stderr_tail,omitempty"`

	// command
	Command  string `json:"command,omitempty"`
	ExitCode *int   `json:"exit_code,omitempty"`
	// Stdout and Stderr are the command's output, masked and bounded
	// (run.OutputLimit): the report's 実行結果.
	Stdout string `json:"stdout,omitempty"`
	Stderr string `json:"stderr,omitempty"`

	// step_end, command, run_end
	DurationMS *int64 `json:"duration_ms,omitempty"`

	// run_end (also exit_code)
	Counts map[string]int `json:"counts,omitempty"`
}

func ms(d time.Duration) *int64 { v := d.Milliseconds(); return &v }
func intp(i int) *int           { return &i }

func newRunID() string {
	var b [6]byte
	rand.Read(b[:])
	return time.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// terminalSafe writes the characters mask.Visible escapes (C1 and bidi
// controls, which encoding/json leaves raw) as \u escapes: the same JSON,
// safe on the terminal a --output json run or a cat of the record shows.
// Outside strings JSON is ASCII, so every such rune is in a string.
func terminalSafe(b []byte) []byte {
	if utf8.Valid(b) && !bytes.ContainsFunc(b, mask.Escaped) {
		return b
	}
	var out bytes.Buffer
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if mask.Escaped(r) {
			fmt.Fprintf(&out, `\u%04x`, r)
		} else {
			out.Write(b[:n])
		}
		b = b[n:]
	}
	return out.Bytes()
}

// sha256Hex is the digest of what was read.
func sha256Hex(data []byte) string {
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:])
}

func fileSHA256(path string, data []byte) string {
	if data == nil {
		data, _ = os.ReadFile(path)
	}
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:])
}

// fitLine is e as one record line that report.MaxLine holds, so that
// tejun report and --resume can read back every record tejun writes:
// outputs are bounded before they get here (run.OutputLimit), but a
// command line, an error or the argument list is not, and JSON escaping
// can make each byte six. Each text field is cut to its head and tail
// with a marker, tighter until the line fits.
func fitLine(e Event) []byte {
	line := func(e Event) []byte {
		b, _ := json.Marshal(e)
		return terminalSafe(b)
	}
	b := line(e)
	for limit := report.MaxLine / 8; len(b)+1 > report.MaxLine; limit /= 2 {
		c := e
		for _, f := range []*string{&c.Step, &c.Status, &c.Runbook, &c.Inventory, &c.User, &c.Machine, &c.Label, &c.Host,
			&c.Reason, &c.Error, &c.StderrTail, &c.Command, &c.Stdout, &c.Stderr} {
			*f = cutField(*f, limit)
		}
		c.Args = cutArgs(e.Args, limit)
		b = line(c)
	}
	return b
}

// cutField keeps the head and tail of s within limit bytes, cut at rune
// boundaries, saying how much was left out. It is given text already
// masked, so no cut can split a secret into parts no longer masked.
func cutField(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	h, t := limit/2, len(s)-limit/2
	for h > 0 && !utf8.RuneStart(s[h]) {
		h--
	}
	for t < len(s) && !utf8.RuneStart(s[t]) {
		t++
	}
	return s[:h] + fmt.Sprintf("[... %d bytes not recorded ...]", t-h) + s[t:]
}

// cutArgs keeps the arguments that fit in limit bytes, each cut as a
// field, and says how many more there were.
func cutArgs(args []string, limit int) []string {
	var out []string
	n := 0
	for i, a := range args {
		a = cutField(a, limit)
		if n+len(a) > limit {
			return append(out, fmt.Sprintf("[... %d arguments not recorded ...]", len(args)-i))
		}
		n += len(a)
		out = append(out, a)
	}
	return out
}

// eventLog writes events as JSON lines to w, one Write per line so a
// crash leaves whole lines.
type eventLog struct {
	mu    sync.Mutex
	w     io.Writer
	runID string
	// swap is the run's --swap-roles, recorded so that a resume cannot
	// continue a run made the other way round.
	swap string
	// lang is the run's --lang: labels read as on the terminal, so an
	// English CI log and its JSON say 4-6 alike.
	lang string
	// err is the first write that failed (a full disk): the record is
	// incomplete from there, which the run must say; onFail, if set, is
	// told of it when it happens.
	err    error
	onFail func(error)
}

// failed is the first write error, if any.
func (l *eventLog) failed() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

func (l *eventLog) emit(e Event) {
	e.Schema, e.RunID = EventSchema, l.runID
	e.Time = time.Now().UTC().Format(time.RFC3339Nano)
	b := fitLine(e)
	l.mu.Lock()
	defer l.mu.Unlock()
	_, err := l.w.Write(append(b, '\n'))
	if f, ok := l.w.(*os.File); ok && err == nil {
		if serr := f.Sync(); !errors.Is(serr, syscall.EINVAL) { // a pipe or terminal (--output json) has nothing to sync
			err = serr
		}
	}
	if err != nil && l.err == nil {
		l.err = err
		if l.onFail != nil {
			l.onFail(err)
		}
	}
}

func (l *eventLog) Started(st *runbook.Step, host string) {
	l.emit(Event{Event: "step_start", Step: st.ID, Label: st.LabelIn(l.lang), Host: host})
}

func (l *eventLog) Finished(ev run.Event) {
	e := Event{Event: "step_end", Step: ev.Step.ID, Label: ev.Step.LabelIn(l.lang), Host: ev.Host, Status: string(ev.Status),
		Reason: ev.Reason, Error: ev.Error, StderrTail: ev.Stderr}
	if ev.Host != "" {
		e.DurationMS = ms(ev.Duration)
	}
	l.emit(e)
}

func (l *eventLog) Log(*runbook.Step, string, string) {}

func (l *eventLog) command(c run.Command) {
	l.emit(Event{Event: "command", Step: c.Step, Host: c.Host, Command: c.Line, ExitCode: intp(c.ExitCode), Error: c.Error,
		DurationMS: ms(c.Duration), Stdout: c.Stdout, Stderr: c.Stderr})
}

// start writes run_start; the digests are of the runbook and inventory
// as loaded (loaded.runbookSHA256), not as the files are now.
func (l *eventLog) start(rbPath, invPath, rbSHA, invSHA string, args []string) {
	who := ""
	if u, err := user.Current(); err == nil {
		who = u.Username
	}
	machine, _ := os.Hostname()
	if abs, err := filepath.Abs(rbPath); err == nil {
		rbPath = abs
	}
	if abs, err := filepath.Abs(invPath); err == nil {
		invPath = abs
	}
	l.emit(Event{Event: "run_start", Runbook: rbPath, RunbookSHA256: rbSHA, Inventory: invPath,
		InventorySHA256: invSHA, User: who, Machine: machine, Args: args, Version: Version(), SwappedRoles: l.swap, Lang: l.lang})
}

func (l *eventLog) end(r *run.Result, exit int, d time.Duration) {
	counts := map[string]int{}
	for _, s := range []run.Status{run.OK, run.Changed, run.Failed, run.Skipped, run.Refused} {
		counts[string(s)] = r.Count(s)
	}
	status := "success"
	if exit != 0 {
		status = "failure"
	}
	if r.Interrupted {
		status = "interrupted"
	}
	l.emit(Event{Event: "run_end", Status: status, ExitCode: intp(exit), Counts: counts, DurationMS: ms(d)})
}

// abandoned ends the record when tejun exits before the run could: the
// run is interrupted, and what it left is on the terminal.
func (l *eventLog) abandoned() {
	l.emit(Event{Event: "run_end", Status: "interrupted", ExitCode: intp(ExitInterrupted)})
}

// auditDir is where run records go: $XDG_STATE_HOME/tejun/runs, else
// ~/.local/state/tejun/runs. It is refused if someone else could have
// put or changed a record there (privateDirs): --resume skips what a
// record says is done, and a reviewer believes what a report shows.
func auditDir(getenv func(string) string) (string, error) {
	base := getenv("XDG_STATE_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		base = filepath.Join(home, ".local", "state")
	}
	dir := filepath.Join(base, "tejun", "runs")
	return dir, privateDirs(base, dir)
}

// privateDirs checks base and the directories under it down to dir, as
// OpenSSH's StrictModes checks ~/.ssh: each must be owned by this user
// (or root) and writable by nobody else, symlinks followed. A base shared
// with the sticky bit (XDG_STATE_HOME=/tmp) is fine: others can add to it
// but not take or rename what is ours, and a tejun directory they made
// there is not ours. One that does not exist yet is no problem.
func privateDirs(base, dir string) error {
	for p := dir; ; p = filepath.Dir(p) {
		if err := privatePath(p, p == base, true); err != nil {
			return err
		}
		if p == base || p == filepath.Dir(p) {
			return nil
		}
	}
}

// privatePath refuses path if another user could write to it or, with
// ours, owns it; stickyOK lets a root-owned directory with the sticky bit
// (/tmp) be shared.
func privatePath(path string, stickyOK, ours bool) error {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	st, _ := fi.Sys().(*syscall.Stat_t)
	if ours && st != nil && int(st.Uid) != os.Geteuid() && st.Uid != 0 {
		return fmt.Errorf("bad owner for %s: owned by uid %d, not you (uid %d): another user could have written what --resume and tejun report believe of past runs; use a directory of your own (XDG_STATE_HOME)", path, st.Uid, os.Geteuid())
	}
	if othersCanWrite(fi) && !(stickyOK && fi.Mode()&fs.ModeSticky != 0 && st != nil && st.Uid == 0) {
		return fmt.Errorf("bad permissions on %s: writable by others (mode %04o): anyone could change what --resume and tejun report believe of past runs; chmod go-w %s", path, fi.Mode().Perm(), path)
	}
	return nil
}

// othersCanWrite says whether a user other than fi's owner may write it:
// its mode lets the world, or a group that is not the owner's alone.
func othersCanWrite(fi fs.FileInfo) bool {
	perm := fi.Mode().Perm()
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && perm&0o020 != 0 && privateGroup(st.Uid, st.Gid) {
		perm &^= 0o020
	}
	return perm&0o022 != 0
}

// privateGroup says whether gid is uid's user private group: its primary
// group, named as the user, with no other member in /etc/group. Writable
// by that group is writable by the user alone, as Debian's OpenSSH allows
// for ~/.ssh with umask 002 (the default for such groups).
func privateGroup(uid, gid uint32) bool {
	u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10))
	if err != nil || u.Gid != strconv.FormatUint(uint64(gid), 10) {
		return false
	}
	groups, err := os.ReadFile("/etc/group")
	if err != nil {
		return false
	}
	for _, l := range strings.Split(string(groups), "\n") {
		f := strings.Split(l, ":")
		if len(f) != 4 || f[2] != u.Gid {
			continue
		}
		if f[0] != u.Username {
			return false
		}
		for _, m := range strings.Split(f[3], ",") {
			if m != "" && m != u.Username {
				return false
			}
		}
		return true
	}
	return false
}

// openAudit creates the record of this run; its name sorts by time and
// names the runbook, so the last run of a runbook is easy to find. It is
// 0600 from its first byte (created so, never chmodded) and never an
// existing file or symlink (O_EXCL).
func openAudit(getenv func(string) string, rb *runbook.Runbook, runID string) (*os.File, error) {
	dir, err := auditDir(getenv)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	// Again: what MkdirAll made is checked as what it found.
	if _, err := auditDir(getenv); err != nil {
		return nil, err
	}
	// The runbook's name as letters, digits and . _ - only: the path is
	// printed after every run, where a control character would drive the
	// terminal.
	name := strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '.' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, rb.Name)
	f, err := os.OpenFile(filepath.Join(dir, fmt.Sprintf("%s-%s.jsonl", runID, name)), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	// Held for the run's life, and let go by the kernel however tejun
	// ends: a record without run_end is of a run still going only while
	// it is held (recordInUse). A file system without locks just loses
	// that distinction.
	unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	return f, nil
}

// recordInUse says whether a running tejun holds the record f is open
// on: its run is still going, not cut off by a crash or a kill.
func recordInUse(f *os.File) bool {
	err := unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB)
	if err == nil {
		unix.Flock(int(f.Fd()), unix.LOCK_UN)
	}
	return errors.Is(err, unix.EWOULDBLOCK)
}

// reporters fans one run's events out to every reporter.
type reporters []run.Reporter

func (rs reporters) Started(st *runbook.Step, host string) {
	for _, r := range rs {
		r.Started(st, host)
	}
}

func (rs reporters) Finished(ev run.Event) {
	for _, r := range rs {
		r.Finished(ev)
	}
}

func (rs reporters) Log(st *runbook.Step, host, line string) {
	for _, r := range rs {
		r.Log(st, host, line)
	}
}

// Progress passes a transfer's progress to the reporters that show it.
func (rs reporters) Progress(st *runbook.Step, host string, done, total int64) {
	for _, r := range rs {
		if p, ok := r.(run.Progresser); ok {
			p.Progress(st, host, done, total)
		}
	}
}
