package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"tejun/runbook"
	"tejun/runbook/report"
)

// lastRun is what the audit record of a runbook's previous run says.
type lastRun struct {
	path     string
	start    Event
	finished []string // steps that ended ok or changed on every host
	failed   string   // the first step that did not
	// done is every step and host that ended ok or changed: a resumed
	// run does not run them again (a step with no guard would redo its
	// work).
	done  map[string]map[string]bool
	ended bool // a run_end was written (not a crash)
	// running: no run_end, and a running tejun holds the record.
	running bool
}

// findLastRun reads the newest audit record of rb (the runs directory's
// names sort by time).
func findLastRun(getenv func(string) string, rb *runbook.Runbook, skipRunID string) (*lastRun, error) {
	dir, err := auditDir(getenv)
	if err != nil {
		return nil, err
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	sort.Sort(sort.Reverse(sort.StringSlice(matches)))
	for _, m := range matches {
		if skipRunID != "" && strings.HasPrefix(filepath.Base(m), skipRunID) {
			continue
		}
		r, err := readRun(m)
		if r == nil || r.start.Runbook == "" {
			continue
		}
		if abs, _ := filepath.Abs(rb.File); r.start.Runbook == abs {
			if err != nil {
				// Not an older run instead: what this one did since is not in it.
				return nil, fmt.Errorf("cannot resume: the last run of this runbook, %s, cannot be read whole (%v); run without --resume", m, err)
			}
			if r.running {
				return nil, fmt.Errorf("cannot resume run %s: it is still running (its tejun holds %s); wait for it, or stop it first", r.start.RunID, m)
			}
			return r, nil
		}
	}
	return nil, errors.New("no earlier run of this runbook to resume")
}

// readRun reads a record whole. Only its last line may be cut (a crash);
// a line that is not an event of this schema, or too long to read, anywhere
// else is an error: the steps after it would look never done. The record
// is returned with the error once its run_start is known, so the caller
// can tell that it is this runbook's last run.
func readRun(path string) (*lastRun, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := &lastRun{path: path, done: map[string]map[string]bool{}}
	ok := map[string]bool{}
	bad := map[string]bool{}
	var order []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), report.MaxLine)
	line := 0
	var pending error // a bad line is forgiven only if it is the last one
	for sc.Scan() {
		line++
		if pending != nil {
			return r, pending
		}
		var e Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			pending = fmt.Errorf("line %d is not a JSON event: %v", line, err)
			continue
		}
		if e.Schema != EventSchema {
			return r, fmt.Errorf("line %d: schema %q, want %s", line, e.Schema, EventSchema)
		}
		if line > 1 && (e.Event == "run_start" || e.RunID != r.start.RunID) {
			return r, fmt.Errorf("line %d: %s of run %q in the record of run %q: a record holds one run", line, e.Event, e.RunID, r.start.RunID)
		}
		switch e.Event {
		case "run_start":
			r.start = e
		case "run_end":
			r.ended = true
		case "step_end":
			if _, seen := ok[e.Step]; !seen && !bad[e.Step] {
				order = append(order, e.Step)
			}
			if (e.Status == "ok" || e.Status == "changed") && e.Host != "" {
				if r.done[e.Step] == nil {
					r.done[e.Step] = map[string]bool{}
				}
				r.done[e.Step][e.Host] = true
			}
			if e.Status == "ok" || e.Status == "changed" {
				if !bad[e.Step] {
					ok[e.Step] = true
				}
			} else {
				bad[e.Step], ok[e.Step] = true, false
			}
		}
	}
	if err := sc.Err(); err != nil {
		return r, fmt.Errorf("after line %d: %v", line, err)
	}
	r.running = !r.ended && recordInUse(f)
	for _, s := range order {
		if ok[s] {
			r.finished = append(r.finished, s)
		} else if r.failed == "" {
			r.failed = s
		}
	}
	return r, nil
}

// resumeCheck refuses to resume across a change of runbook or inventory:
// what finished then may not be what this runbook means now.
func (a *App) resumeCheck(l *loaded, runID, swap string) (string, map[string]map[string]bool, error) {
	last, err := findLastRun(a.getenv, l.binding.Runbook, runID)
	if err != nil {
		return "", nil, invalid(err)
	}
	if last.start.RunbookSHA256 != l.runbookSHA256 {
		return "", nil, invalid(fmt.Errorf("the runbook changed since run %s (%s): resuming it could skip work the new runbook needs; run without --resume", last.start.RunID, last.path))
	}
	if last.start.InventorySHA256 != l.inventorySHA256 {
		return "", nil, invalid(fmt.Errorf("the inventory changed since run %s (%s); run without --resume", last.start.RunID, last.path))
	}
	if last.start.SwappedRoles != swap {
		// The same step on the same host means another thing with the
		// roles the other way round.
		return "", nil, invalid(fmt.Errorf("run %s was made with --swap-roles %q, this one with %q: resume it the same way round, or run without --resume", last.start.RunID, last.start.SwappedRoles, swap))
	}
	how := "was interrupted"
	if last.ended {
		how = "ended"
	}
	at := "the end"
	if last.failed != "" {
		at = last.failed
	}
	fmt.Fprintf(a.stderr, "resuming run %s, which %s: %s finished (not run again); continuing at %s\n",
		last.start.RunID, how, count(len(last.finished), "step"), at)
	return last.start.RunID, last.done, nil
}
