// Package executor runs a bound runbook on its hosts: for each step whose
// needs are done, on each of its hosts, Check (read-only), then Apply only if
// the host is not already in the wanted state, then Verify. It knows the graph
// only through the runbook package, and hosts only through transport.
package executor

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"tejun/inventory"
	"tejun/runbook"
	"tejun/steps"
	"tejun/transport"
)

// Status of a step on a host.
type Status string

const (
	OK      Status = "ok"      // already done; nothing changed
	Changed Status = "changed" // applied
	Failed  Status = "failed"
	Skipped Status = "skipped" // not run: upstream failed, interrupted, or chose not to
	Refused Status = "refused" // destructive and not confirmed

	// Plan mode: what a run would do.
	WillChange Status = "will change"
	MayChange  Status = "may change" // its check depends on a step that will change
)

// Event is one step on one host, finished. Texts are already masked.
type Event struct {
	Step   *runbook.Step
	Host   string
	Status Status
	Reason string
	Error  string
	// Stderr is the tail of a failed command's standard error.
	Stderr   string
	Duration time.Duration
	// Unreachable is set when the host could not be reached at all.
	Unreachable bool
	// Locked is set when another run holds the host.
	Locked bool
}

// Reporter receives the run as it happens. Implementations print lines,
// JSON events or JUnit; the executor does not care which.
type Reporter interface {
	// Started is called when a step begins on a host.
	Started(step *runbook.Step, host string)
	// Finished is called once per step and host, or once per step
	// (Host == "") for a step skipped as a whole.
	Finished(Event)
	// Log carries -v detail: commands and their output.
	Log(step *runbook.Step, host, line string)
}

// Options control a run.
type Options struct {
	Forks int  // hosts worked on at once per step; default 10
	Yes   bool // confirm destructive steps without asking
	// Confirm asks the operator a yes/no question; nil when no one is
	// there (not a terminal), which refuses destructive steps and fails
	// manual ones.
	Confirm func(ctx context.Context, question string) (bool, error)
	// Limit restricts the run to a host or role.
	Limit string
	// From starts at this step: the steps before it are taken as done.
	From string
	// Only runs this step alone.
	Only string
	// Section runs one section's steps (one of the alternative failover
	// drills).
	Section string
	// AssumeDone lists steps (manual ones, typically) taken as done.
	AssumeDone []string
	Secrets    map[string][]byte
	// Dir is the runbook's directory, where relative local paths start.
	Dir string
	// Dial opens an SSH connection; tests may substitute a fake.
	Dial func(ctx context.Context, cfg transport.SSHConfig) (transport.Conn, error)
	// UserConfig is ~/.ssh/config; nil for none.
	UserConfig *transport.UserConfig
	// Audit, when set, is told every command run, for the audit record.
	Audit func(Command)
	// Plan runs only the read-only checks: nothing is applied, and the
	// hosts refuse any command that is not one of a step's checks.
	Plan bool
	// RunID names this run in host locks (and the audit record). A run
	// with a RunID takes each host's lock; plan mode takes none.
	RunID string
	// ForceUnlock takes a host's lock even if its holder seems alive.
	ForceUnlock bool
	// Resumes is the run ID this run resumes; that run's locks are its own.
	Resumes string
}

// Command is one command run on a host, for the audit record. The line
// is masked; so is everything else that reaches a reporter.
type Command struct {
	Step     string
	Host     string
	Line     string
	ExitCode int // -1 when the command did not run to an exit status
	Duration time.Duration
	Error    string
}

// Result sums a run up.
type Result struct {
	Events      []Event
	Interrupted bool
}

// Count returns how many events have status s.
func (r *Result) Count(s Status) int {
	n := 0
	for _, e := range r.Events {
		if e.Status == s {
			n++
		}
	}
	return n
}

// Locked reports whether another run held any host.
func (r *Result) Locked() bool {
	for _, e := range r.Events {
		if e.Locked {
			return true
		}
	}
	return false
}

// Unreachable reports whether any host could not be reached.
func (r *Result) Unreachable() bool {
	for _, e := range r.Events {
		if e.Unreachable {
			return true
		}
	}
	return false
}

// Executor is one run.
type Executor struct {
	b     *runbook.Binding
	opt   Options
	rep   Reporter
	conns *connections
	mask  *strings.Replacer

	mu      sync.Mutex
	outputs runbook.Outputs
	result  Result
	holds   map[string]*holdsOnce // done_when steps, checked once per run
}

type holdsOnce struct {
	once   sync.Once
	ok     bool
	reason string
}

// Check refuses, before any host is contacted, a run that cannot work: a
// step whose kind cannot run yet, a --from/--only/--limit naming nothing,
// a secret with no value.
func Check(b *runbook.Binding, opt Options) error {
	var problems []string
	for _, st := range b.Runbook.Steps {
		if !st.Runnable() {
			continue
		}
		if _, ok := st.Kind.New().(steps.Runner); !ok {
			problems = append(problems, fmt.Sprintf("step %s: kind %s cannot run yet (dry-run only)", st.ID, st.Kind.Name))
		}
	}
	for _, id := range append([]string{opt.From, opt.Only}, opt.AssumeDone...) {
		if id != "" && b.Runbook.Step(id) == nil {
			problems = append(problems, fmt.Sprintf("no step %q", id))
		}
	}
	if opt.Section != "" {
		found := false
		for _, sec := range b.Runbook.Sections {
			found = found || sec.ID == opt.Section
		}
		if !found {
			problems = append(problems, fmt.Sprintf("no section %q", opt.Section))
		}
	}
	if opt.Limit != "" {
		if _, err := b.Inventory.Select(opt.Limit); err != nil {
			problems = append(problems, "--limit: "+err.Error())
		}
	}
	for _, ins := range b.Instances {
		for _, in := range ins {
			if su, ok := in.Impl.(steps.SecretUser); ok {
				for _, s := range su.Secrets() {
					if _, ok := opt.Secrets[s]; !ok {
						problems = append(problems, fmt.Sprintf("step %s needs secret %s, which has no value", in.Step.ID, s))
					}
				}
			}
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return errors.New(strings.Join(dedupe(problems), "\n"))
	}
	return nil
}

func dedupe(ss []string) []string {
	var out []string
	for i, s := range ss {
		if i == 0 || s != ss[i-1] {
			out = append(out, s)
		}
	}
	return out
}

// Run executes b. It returns when every step has finished, been skipped,
// or, after ctx is cancelled, when the steps already running have stopped.
func Run(ctx context.Context, b *runbook.Binding, opt Options, rep Reporter) (*Result, error) {
	if err := Check(b, opt); err != nil {
		return nil, err
	}
	if opt.Forks <= 0 {
		opt.Forks = 10
	}
	if opt.Dial == nil {
		opt.Dial = func(ctx context.Context, cfg transport.SSHConfig) (transport.Conn, error) {
			c, err := transport.DialSSH(ctx, cfg)
			if err != nil {
				return nil, err // not a nil *SSH inside a non-nil Conn
			}
			return c, nil
		}
	}
	if opt.Dir == "" {
		opt.Dir = filepath.Dir(b.Runbook.File)
	}
	var pairs []string
	for _, v := range opt.Secrets {
		if len(v) > 0 {
			pairs = append(pairs, string(v), "********")
		}
	}
	x := &Executor{
		b: b, opt: opt, rep: rep, outputs: runbook.Outputs{}, mask: strings.NewReplacer(pairs...), holds: map[string]*holdsOnce{},
		conns: &connections{inv: b.Inventory, userCfg: opt.UserConfig, dial: opt.Dial, conns: map[string]*lazyConn{}},
	}
	if opt.RunID != "" && !opt.Plan {
		x.conns.locks = newLocks(opt.RunID, b.Runbook.Name, opt.ForceUnlock, opt.Resumes)
	}
	defer x.conns.closeAll()
	x.walk(ctx)
	return &x.result, nil
}

type stepState int

const (
	pending stepState = iota
	running
	succeeded
	failed
	notRun
)

// walk starts every step whose needs have succeeded, as soon as they have,
// and skips (once, with the reason) the steps downstream of a failure.
func (x *Executor) walk(ctx context.Context) {
	order := x.b.Runbook.Order()
	state := map[string]stepState{}
	selected := x.selection(order)
	for _, st := range order {
		if !selected[st.ID] {
			state[st.ID] = succeeded // taken as done (--from, --only)
		}
	}
	x.learnOutputs(ctx, order, selected)
	done := make(chan struct {
		id string
		ok bool
	})
	inflight := 0
	forks := make(chan struct{}, x.opt.Forks)
	for {
		progress := true
		for progress {
			progress = false
			for _, st := range order {
				if state[st.ID] != pending {
					continue
				}
				blocked, ready := "", true
				for _, n := range x.b.Runbook.Graph.Needs(st.ID) {
					switch state[n] {
					case failed, notRun:
						blocked = n
					case succeeded:
					default:
						ready = false
					}
				}
				switch {
				case blocked != "":
					state[st.ID] = notRun
					why := "upstream step " + blocked + " failed"
					if ctx.Err() != nil {
						why = "interrupted"
					}
					x.finish(Event{Step: st, Status: Skipped, Reason: why})
					progress = true
				case ready && ctx.Err() != nil:
					state[st.ID] = notRun
					x.finish(Event{Step: st, Status: Skipped, Reason: "interrupted"})
					progress = true
				case ready:
					state[st.ID] = running
					inflight++
					go func(st *runbook.Step) {
						ok := x.runStep(ctx, st, forks)
						done <- struct {
							id string
							ok bool
						}{st.ID, ok}
					}(st)
				}
			}
		}
		if inflight == 0 {
			break
		}
		d := <-done
		inflight--
		if d.ok || x.opt.Plan {
			state[d.id] = succeeded
		} else {
			state[d.id] = failed
		}
	}
	x.result.Interrupted = ctx.Err() != nil
}

// learnOutputs re-checks, read-only, the producing steps this run skips
// (--from, --only, --section), so later steps still get the real
// checkpoint name instead of failing for want of it.
func (x *Executor) learnOutputs(ctx context.Context, order []*runbook.Step, selected map[string]bool) {
	for _, st := range order {
		if selected[st.ID] || !st.Runnable() {
			continue
		}
		if _, ok := st.Kind.New().(steps.RealProducer); !ok {
			continue
		}
		for _, base := range x.b.Instances[st.ID] {
			x.mu.Lock()
			in, err := x.b.Instantiate(st, base.Host, x.outputs)
			x.mu.Unlock()
			if err != nil {
				continue
			}
			if c, ok := in.Impl.(steps.Runner); ok {
				if status, err := c.Check(ctx, x.env(base.Host, st.ID, c)); err == nil && status.Done {
					x.record(st, c)
				}
			}
		}
	}
}

// selection is the set of steps this run executes.
func (x *Executor) selection(order []*runbook.Step) map[string]bool {
	sel := map[string]bool{}
	switch {
	case x.opt.Section != "":
		for _, st := range order {
			sel[st.ID] = st.Section.ID == x.opt.Section
		}
	case x.opt.Only != "":
		sel[x.opt.Only] = true
	case x.opt.From != "":
		on := false
		for _, st := range order {
			on = on || st.ID == x.opt.From
			sel[st.ID] = on
		}
	default:
		for _, st := range order {
			sel[st.ID] = true
		}
	}
	if x.opt.Section == "" {
		for _, st := range order {
			if st.Section.Optional {
				sel[st.ID] = false // only when chosen
			}
		}
	}
	return sel
}

// runStep runs a step on each of its hosts, at most Forks at a time.
func (x *Executor) runStep(ctx context.Context, st *runbook.Step, forks chan struct{}) bool {
	var hosts []*inventory.Host
	var limit map[string]bool
	if x.opt.Limit != "" {
		hs, _ := x.b.Inventory.Select(x.opt.Limit)
		limit = map[string]bool{}
		for _, h := range hs {
			limit[h.Name] = true
		}
	}
	for _, in := range x.b.Instances[st.ID] {
		if limit == nil || limit[in.Host.Name] {
			hosts = append(hosts, in.Host)
		}
	}
	if len(hosts) == 0 {
		x.finish(Event{Step: st, Status: Skipped, Reason: "no host of this step is in --limit " + x.opt.Limit})
		return true
	}
	if len(hosts) > 1 && x.sameManualWork(st, hosts) {
		return x.runManualOnce(ctx, st, hosts, forks)
	}
	if len(hosts) == 1 {
		// No fan-out: run it here, one goroutine hop less per step.
		forks <- struct{}{}
		defer func() { <-forks }()
		return x.runOn(ctx, st, hosts[0])
	}
	var wg sync.WaitGroup
	results := make([]bool, len(hosts))
	for i, h := range hosts {
		wg.Add(1)
		go func(i int, h *inventory.Host) {
			defer wg.Done()
			select {
			case forks <- struct{}{}:
			case <-ctx.Done():
				x.finish(Event{Step: st, Host: h.Name, Status: Skipped, Reason: "interrupted"})
				return
			}
			defer func() { <-forks }()
			results[i] = x.runOn(ctx, st, h)
		}(i, h)
	}
	wg.Wait()
	for _, ok := range results {
		if !ok {
			return false
		}
	}
	return true
}

// sameManualWork is true for a manual step whose instruction reads the same
// on every host: that is one piece of work for the operator (an AWS console
// page, a GUI), so it is asked once, not once per host.
func (x *Executor) sameManualWork(st *runbook.Step, hosts []*inventory.Host) bool {
	if _, manual := st.Kind.New().(*steps.Manual); !manual {
		return false
	}
	first := ""
	for i, h := range hosts {
		x.mu.Lock()
		in, err := x.b.Instantiate(st, h, x.outputs)
		x.mu.Unlock()
		if err != nil {
			return false
		}
		m := in.Impl.(*steps.Manual)
		text := m.Instruction.JA + "\x00" + m.Instruction.EN
		if i == 0 {
			first = text
		} else if text != first {
			return false
		}
	}
	return true
}

// runManualOnce asks the operator once, on the first host, and records the
// answer for every host of the step.
func (x *Executor) runManualOnce(ctx context.Context, st *runbook.Step, hosts []*inventory.Host, forks chan struct{}) bool {
	forks <- struct{}{}
	defer func() { <-forks }()
	start := time.Now()
	x.rep.Started(st, hosts[0].Name)
	ev := x.attempt(ctx, st, hosts[0])
	ev.Step, ev.Host, ev.Duration = st, hosts[0].Name, time.Since(start)
	x.finish(ev)
	for _, h := range hosts[1:] {
		x.finish(Event{Step: st, Host: h.Name, Status: ev.Status, Error: ev.Error,
			Reason: "manual step, one piece of work for all its hosts: answered on " + hosts[0].Name})
	}
	return ev.Status == OK || ev.Status == Changed || ev.Status == Skipped
}

// runOn is Check → (confirm) → Apply → Verify for one step on one host.
func (x *Executor) runOn(ctx context.Context, st *runbook.Step, h *inventory.Host) bool {
	start := time.Now()
	x.rep.Started(st, h.Name)
	ev := x.attempt(ctx, st, h)
	ev.Step, ev.Host, ev.Duration = st, h.Name, time.Since(start)
	if ev.Status == Failed && ctx.Err() != nil && !ev.Unreachable {
		ev.Reason = "interrupted"
	}
	x.finish(ev)
	return ev.Status == OK || ev.Status == Changed || ev.Status == Skipped
}

func (x *Executor) attempt(ctx context.Context, st *runbook.Step, h *inventory.Host) Event {
	if st.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, st.Timeout)
		defer cancel()
	}
	for _, id := range x.opt.AssumeDone {
		if id == st.ID {
			return Event{Status: OK, Reason: "assumed done (--assume-done)"}
		}
	}
	if st.DoneWhen != "" {
		if ok, why := x.holdsNow(ctx, st.DoneWhen); ok {
			return Event{Status: OK, Reason: "done when " + st.DoneWhen + ": " + why}
		}
	}
	x.mu.Lock()
	in, err := x.b.Instantiate(st, h, x.outputs)
	x.mu.Unlock()
	if err != nil {
		if x.opt.Plan && x.upstreamChanges(st) {
			return Event{Status: MayChange, Reason: "depends on what an earlier step will produce"}
		}
		return x.fail(err)
	}
	step := in.Impl.(steps.Runner)
	env := x.env(h, st.ID, step)

	status, err := x.check(ctx, st, step, env)
	if x.opt.Plan {
		if err == nil && status.Done {
			x.record(st, step) // what a check read (a PID) is what later checks compare with
		}
		return x.planned(st, step, status, err)
	}
	if err != nil {
		return x.fail(err)
	}
	if status.Done {
		x.record(st, step)
		return Event{Status: OK, Reason: status.Reason}
	}
	if len(step.Plan().Apply) == 0 {
		if _, isManual := step.(*steps.Manual); !isManual {
			return Event{Status: Failed, Error: x.mask.Replace("not reached: " + status.Reason)}
		}
	}
	if st.Destructive && !x.opt.Yes {
		if x.opt.Confirm == nil {
			return Event{Status: Refused, Reason: status.Reason,
				Error: "destructive step not confirmed: not on a terminal; pass --yes to run it unattended"}
		}
		ok, err := x.opt.Confirm(ctx, fmt.Sprintf("%s %s on %s: %s. Run it?", st.Label(), st.ID, h.Name, x.mask.Replace(status.Reason)))
		if err != nil || !ok {
			return Event{Status: Refused, Reason: status.Reason, Error: "not confirmed by the operator"}
		}
	}
	if err := step.Apply(ctx, env); err != nil {
		var skip *steps.Skip
		if errors.As(err, &skip) {
			return Event{Status: Skipped, Reason: skip.Reason}
		}
		return x.fail(err)
	}
	if v, ok := step.(steps.Verifier); ok {
		if err := v.Verify(ctx, env); err != nil {
			return x.fail(fmt.Errorf("applied, but: %w", err))
		}
	}
	x.record(st, step)
	return Event{Status: Changed, Reason: x.mask.Replace(status.Reason)}
}

// holdsNow checks a verify step once per run, on all its hosts, with its
// retries: steps that name it in done_when are done when it holds.
func (x *Executor) holdsNow(ctx context.Context, id string) (bool, string) {
	x.mu.Lock()
	h := x.holds[id]
	if h == nil {
		h = &holdsOnce{}
		x.holds[id] = h
	}
	x.mu.Unlock()
	h.once.Do(func() {
		st := x.b.Runbook.Step(id)
		h.ok = len(x.b.Instances[id]) > 0
		for _, base := range x.b.Instances[id] {
			x.mu.Lock()
			in, err := x.b.Instantiate(st, base.Host, x.outputs)
			x.mu.Unlock()
			if err != nil {
				h.ok = false
				return
			}
			c, ok := in.Impl.(steps.Runner)
			if !ok {
				h.ok = false
				return
			}
			// With the verify step's own patience: a standby that lags a
			// moment behind is replicating, not broken.
			status, err := x.check(ctx, st, c, x.env(base.Host, id, c))
			if err != nil || !status.Done {
				h.ok = false
				return
			}
			h.reason = status.Reason
		}
	})
	return h.ok, h.reason
}

// check runs Check, and for verify kinds keeps running it until it holds
// or the step's retries are spent.
func (x *Executor) check(ctx context.Context, st *runbook.Step, step steps.Runner, env steps.Env) (steps.Status, error) {
	tries := 1
	// A plan waits too, unless what it waits for depends on changes the
	// plan will not make.
	if _, waits := step.(steps.Waiter); waits && !(x.opt.Plan && x.upstreamChanges(st)) {
		tries += st.Retries
	}
	var status steps.Status
	for i := 0; i < tries; i++ {
		if i > 0 {
			select {
			case <-time.After(st.Interval):
			case <-ctx.Done():
				return status, ctx.Err()
			}
		}
		var err error
		status, err = step.Check(ctx, env)
		if err != nil || status.Done {
			return status, err
		}
	}
	return status, nil
}

// env is a step's view of a host: gated to its check commands in plan
// mode, whoever asks.
func (x *Executor) env(h *inventory.Host, step string, impl steps.Step) steps.Env {
	e := &hostEnv{x: x, host: h, step: step}
	if x.opt.Plan {
		return x.readOnly(e, impl)
	}
	return e
}

// planned turns a check's verdict into a plan line.
func (x *Executor) planned(st *runbook.Step, step steps.Step, status steps.Status, err error) Event {
	upstream := x.upstreamChanges(st)
	verifyOnly := len(step.Plan().Apply) == 0
	var refused *ErrNotACheck
	switch {
	case errors.As(err, &refused):
		return x.fail(err) // a kind breaking its read-only contract is a defect, whatever else happens
	case err != nil && upstream:
		return Event{Status: MayChange, Reason: "cannot check before earlier steps run: " + x.mask.Replace(err.Error())}
	case err != nil:
		return x.fail(err)
	case status.Done:
		return Event{Status: OK, Reason: x.mask.Replace(status.Reason)}
	case upstream:
		return Event{Status: MayChange, Reason: x.mask.Replace(status.Reason)}
	case verifyOnly:
		// A verify step changes nothing: not holding means a run would fail.
		return Event{Status: Failed, Error: x.mask.Replace("would fail: " + status.Reason)}
	}
	return Event{Status: WillChange, Reason: x.mask.Replace(status.Reason)}
}

// upstreamChanges reports whether a step this one needs will or may
// change, which can change what this step's check finds.
func (x *Executor) upstreamChanges(st *runbook.Step) bool {
	anc := x.b.Runbook.Graph.Ancestors(st.ID)
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, e := range x.result.Events {
		if anc[e.Step.ID] && (e.Status == WillChange || e.Status == MayChange) {
			return true
		}
	}
	return false
}

// record keeps what a producing step found out (the checkpoint's real
// name) for the steps that use it. Kinds whose outputs are known before
// running (a transfer's destination) need no Produced.
func (x *Executor) record(st *runbook.Step, step steps.Step) {
	var out map[string]string
	if p, ok := step.(steps.RealProducer); ok {
		out = p.Produced()
	} else if p, ok := step.(steps.Producer); ok {
		out = p.Outputs()
	}
	if out != nil {
		x.mu.Lock()
		x.outputs[st.ID] = out
		x.mu.Unlock()
	}
}

func (x *Executor) fail(err error) Event {
	var u *unreachable
	var locked *LockedError
	ev := Event{Status: Failed, Error: x.mask.Replace(err.Error()), Unreachable: errors.As(err, &u) || errors.Is(err, transport.ErrConnectionLost),
		Locked: errors.As(err, &locked)}
	var ee *transport.ExitError
	if errors.As(err, &ee) {
		ev.Stderr = x.mask.Replace(lastLines(ee.Stderr, 20))
	}
	return ev
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

func (x *Executor) finish(ev Event) {
	ev.Reason = x.mask.Replace(ev.Reason)
	x.mu.Lock()
	x.result.Events = append(x.result.Events, ev)
	x.mu.Unlock()
	x.rep.Finished(ev)
}

func (x *Executor) log(step, host, line string) {
	x.rep.Log(x.b.Runbook.Step(step), host, x.mask.Replace(line))
}

func (x *Executor) audit(step, host string, cmd transport.Cmd, d time.Duration, err error) {
	if x.opt.Audit == nil {
		return
	}
	c := Command{Step: step, Host: host, Line: x.mask.Replace(cmd.String()), Duration: d}
	var ee *transport.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		c.ExitCode = ee.Code
		c.Error = x.mask.Replace(err.Error())
	default:
		c.ExitCode = -1
		c.Error = x.mask.Replace(err.Error())
	}
	x.opt.Audit(c)
}
