// Package report prints a run as the manual filled in: the procedure the
// dry-run showed before the change, with each step's status, the commands
// tejun ran and their real output, for the reviewer after the change. It
// reads only the audit record and the runbook; nothing here reaches a host.
package report

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// Schema is the audit record's event schema this package reads.
const Schema = "tejun.events/v1"

// Record is one run as its audit record tells it. Everything in it was
// masked when it was written; the renderers add no secret and take none.
type Record struct {
	RunID                  string
	Runbook, RunbookSHA256 string
	Inventory, InvSHA256   string
	User, Machine, Version string
	Args                   []string
	Start, End             time.Time
	// SwappedRoles is the run's --swap-roles ("master,standby"): the
	// caller binds the inventory the same way round.
	SwappedRoles string
	Ended        bool // a run_end was written: not cut off by a crash or a kill
	// Running is set by the caller for a record without run_end that a
	// running tejun still holds: the run goes on, it was not cut off.
	Running    bool
	Status     string
	ExitCode   int
	Counts     map[string]int
	Duration   time.Duration
	results    map[string][]Result
	commands   map[string][]Command
	stepOrder  []string
	knownSteps map[string]bool
}

// Result is how a step ended on a host ("" for a step skipped as a
// whole, before any host).
type Result struct {
	Host, Status, Reason, Error, StderrTail string
	Label                                   string // the manual's number, "4-⑤"
	Start, End                              time.Time
	Duration                                time.Duration
	Timed                                   bool // Duration was recorded
}

// Command is one command a step ran, with its masked, bounded output.
type Command struct {
	Host, Line     string
	ExitCode       int
	Error          string
	Duration       time.Duration
	Stdout, Stderr string
	End            time.Time
}

// event is the subset of tejun.events/v1 the report reads.
type event struct {
	Schema          string         `json:"schema"`
	Event           string         `json:"event"`
	Time            string         `json:"time"`
	RunID           string         `json:"run_id"`
	Runbook         string         `json:"runbook"`
	RunbookSHA256   string         `json:"runbook_sha256"`
	Inventory       string         `json:"inventory"`
	InventorySHA256 string         `json:"inventory_sha256"`
	User            string         `json:"user"`
	Machine         string         `json:"machine"`
	Args            []string       `json:"args"`
	Version         string         `json:"tejun_version"`
	SwappedRoles    string         `json:"swapped_roles"`
	Step            string         `json:"step"`
	Label           string         `json:"label"`
	Host            string         `json:"host"`
	Status          string         `json:"status"`
	Reason          string         `json:"reason"`
	Error           string         `json:"error"`
	StderrTail      string         `json:"stderr_tail"`
	Command         string         `json:"command"`
	ExitCode        *int           `json:"exit_code"`
	Stdout          string         `json:"stdout"`
	Stderr          string         `json:"stderr"`
	DurationMS      *int64         `json:"duration_ms"`
	Counts          map[string]int `json:"counts"`
}

// MaxLine bounds one record line; the executor bounds each command's
// output well below it (run.OutputLimit) and the writer cuts any other
// field to fit, so a longer line is not ours.
// Whatever else reads a record (a resume) reads lines as long.
const MaxLine = 4 << 20

// Read parses an audit record. A last line cut by a crash is ignored, as
// the record promises whole lines only up to the crash; anything else that
// is not an event of this schema makes the record unreadable, rather than
// a report that silently leaves part of the run out.
func Read(r io.Reader) (*Record, error) {
	rec := &Record{results: map[string][]Result{}, commands: map[string][]Command{}, knownSteps: map[string]bool{}}
	started := map[string]time.Time{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), MaxLine)
	line := 0
	var pending error // a bad line is forgiven only if it is the last one
	for sc.Scan() {
		line++
		if pending != nil {
			return nil, pending
		}
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			pending = fmt.Errorf("line %d is not a JSON event: %v", line, err)
			continue
		}
		if e.Schema != Schema {
			return nil, fmt.Errorf("line %d: schema %q, want %s: not a tejun audit record", line, e.Schema, Schema)
		}
		if line == 1 && e.Event != "run_start" {
			return nil, errors.New("the record does not begin with run_start: not a tejun audit record")
		}
		// One run a record: two joined (cat a b) would lay one run's
		// results over the other's.
		if line > 1 && (e.Event == "run_start" || e.RunID != rec.RunID) {
			return nil, fmt.Errorf("line %d: %s of run %q in the record of run %q: a record holds one run", line, e.Event, e.RunID, rec.RunID)
		}
		at, _ := time.Parse(time.RFC3339Nano, e.Time)
		var d time.Duration
		if e.DurationMS != nil {
			d = time.Duration(*e.DurationMS) * time.Millisecond
		}
		switch e.Event {
		case "run_start":
			rec.RunID, rec.Runbook, rec.RunbookSHA256 = e.RunID, e.Runbook, e.RunbookSHA256
			rec.Inventory, rec.InvSHA256 = e.Inventory, e.InventorySHA256
			rec.User, rec.Machine, rec.Version, rec.Args, rec.Start = e.User, e.Machine, e.Version, e.Args, at
			rec.SwappedRoles = e.SwappedRoles
		case "step_start":
			started[e.Step+"\x00"+e.Host] = at
			rec.see(e.Step)
		case "step_end":
			rec.see(e.Step)
			res := Result{Host: e.Host, Label: e.Label, Status: e.Status, Reason: e.Reason, Error: e.Error, StderrTail: e.StderrTail,
				Start: started[e.Step+"\x00"+e.Host], End: at, Duration: d, Timed: e.DurationMS != nil}
			rec.results[e.Step] = append(rec.results[e.Step], res)
		case "command":
			rec.see(e.Step)
			c := Command{Host: e.Host, Line: e.Command, Error: e.Error, Duration: d, Stdout: e.Stdout, Stderr: e.Stderr, End: at, ExitCode: -1}
			if e.ExitCode != nil {
				c.ExitCode = *e.ExitCode
			}
			rec.commands[e.Step] = append(rec.commands[e.Step], c)
		case "run_end":
			rec.Ended, rec.Status, rec.End, rec.Duration, rec.Counts = true, e.Status, at, d, e.Counts
			if e.ExitCode != nil {
				rec.ExitCode = *e.ExitCode
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("after line %d: %v", line, err)
	}
	if line == 0 {
		return nil, errors.New("the record is empty")
	}
	return rec, nil
}

func (r *Record) see(step string) {
	if !r.knownSteps[step] {
		r.knownSteps[step] = true
		r.stepOrder = append(r.stepOrder, step)
	}
}

// Results returns how step ended, host by host, in the order they ended.
func (r *Record) Results(step string) []Result { return r.results[step] }

// Commands returns the commands step ran, in the order they ended.
func (r *Record) Commands(step string) []Command { return r.commands[step] }
