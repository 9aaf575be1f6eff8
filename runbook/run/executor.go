// Package run runs a bound runbook on its hosts: it walks the graph
// (dag.Walk, walk.go) and does one operation on each step and host: apply
// (apply.go: Check, then Apply only if the host is not already in the
// wanted state, then Verify) or plan (plan.go: the read-only check alone).
// It reaches hosts only through runbook/host.
package run

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
	"tejun/runbook/dag"
	"tejun/runbook/host"
	"tejun/runbook/mask"
	"tejun/runbook/msg"
	"tejun/steps"
	"tejun/transport"
	"tejun/transport/ssh"
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

	// blocked: not done, though not a failure of this host (a host it
	// works with failed): its dependents on the host are skipped.
	blocked bool
	// canceled: the error is the step's context ending, which says
	// nothing to an operator who pressed Ctrl-C.
	canceled bool
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
	// Limit restricts the run to the hosts of a pattern (see
	// inventory.Limit): "db-*,!db-03".
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
	Dial func(ctx context.Context, cfg ssh.Config) (transport.Conn, error)
	// UserConfig is ~/.ssh/config; nil for none.
	UserConfig *ssh.UserConfig
	// Audit, when set, is told every command run, for the audit record.
	Audit func(Command)
	// RunID names this run in host locks (and the audit record). A run
	// with a RunID takes each host's lock; a plan takes none.
	RunID string
	// ForceUnlock takes a host's lock even if its holder seems alive.
	ForceUnlock bool
	// Resumes is the run ID this run resumes; that run's locks are its own.
	Resumes string
	// StepTimeout bounds each step on each host that sets no timeout of
	// its own; 0 means DefaultStepTimeout.
	StepTimeout time.Duration
	// Finished lists, by step and host, what the resumed run finished:
	// not run again.
	Finished map[string]map[string]bool
	// FailFast stops starting steps on every host at the first failure,
	// whatever the runbook's max_fail says.
	FailFast bool
	// Lang is the operator's language, for the step numbers in questions
	// (5-3 in English, 5-③ in Japanese).
	Lang string
}

// Command is one command run on a host, for the audit record (made by
// the host's Env, which runs it).
type Command = host.Command

// OutputLimit bounds each output stream of a command in the audit record.
const OutputLimit = host.OutputLimit

// Progresser is implemented by reporters that show how far a file
// transfer or upload has got. It is optional: JSON events and JUnit have
// no use for it. done and total are bytes; total is -1 while unknown.
type Progresser interface {
	Progress(step *runbook.Step, host string, done, total int64)
}

// sink tells the reporter what a step's Env saw, by step.
type sink struct {
	b   *runbook.Binding
	rep Reporter
}

func (s sink) Log(step, host, line string) { s.rep.Log(s.b.Runbook.Step(step), host, line) }

func (s sink) Progress(step, host string, done, total int64) {
	if pr, ok := s.rep.(Progresser); ok {
		pr.Progress(s.b.Runbook.Step(step), host, done, total)
	}
}

// Result sums a run up.
type Result struct {
	Events      []Event
	Interrupted bool
	// LocksLeft are the hosts whose run lock could not be released in
	// time (a frozen host); each goes stale by itself.
	LocksLeft []string
}

// cleanupWithin bounds releasing the locks at the end of a run: an
// interrupted run must end in seconds, not when a frozen host's
// keepalive gives up.
const cleanupWithin = 2 * time.Second

// alwaysWithin bounds an always section's step in a run already
// interrupted: the operator asked to stop, so a clean-up that hangs must
// not keep the run alive.
const alwaysWithin = 30 * time.Second

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
	pool  *host.Pool
	hosts *host.Hosts
	mask  *mask.Masker
	// op is what this run does with each step on each host: apply it, or
	// plan it.
	op   operation
	walk *dag.Walk

	mu     sync.Mutex
	outs   *outputs
	result Result
	holds  map[string]*holdsOnce // done_when steps, checked once per run
	groups map[string]*groupOnce // destructive groups, confirmed once per run
}

// operation is one of the two things a walk can do with a step bound on a
// host, after what both share (--assume-done, done_when, --resume): apply
// (apply.go) or plan (plan.go). Each is built in one place, below, and
// given only what it may use; the plan's visit gets a check-only view of
// the kind, so it cannot reach Apply.
type operation struct {
	// env is a step's view of a host under this operation: plan's runs
	// only the step's check commands.
	env func(step string, h *inventory.Host, impl steps.Step) steps.Env
	// visit does the operation's part; unbound answers for a step that
	// cannot be bound with the outputs known so far.
	visit   func(ctx context.Context, st *runbook.Step, h *inventory.Host, env steps.Env, step steps.Runner) Event
	unbound func(st *runbook.Step, err error) Event
	// spreads says that a step not done skips what depends on it, counts
	// towards max_fail, and that always sections clean up after it: a
	// run's policy. A plan checks every step, whatever the others found.
	spreads bool
}

func applyOperation(x *Executor) operation {
	a := &apply{x: x}
	return operation{env: x.hosts.Env, visit: a.visit, unbound: func(_ *runbook.Step, err error) Event { return x.fail(err) }, spreads: true}
}

func planOperation(x *Executor) operation {
	p := &plan{mask: x.mask, fail: x.fail,
		upstream: func(id string) bool { return x.upstreamChanges(x.b.Runbook.Step(id)) }}
	return operation{
		env: x.hosts.CheckEnv,
		visit: func(ctx context.Context, st *runbook.Step, _ *inventory.Host, env steps.Env, step steps.Runner) Event {
			ps := planStep{id: st.ID, verify: st.Kind.Caps.Verify, retries: st.Retries, interval: st.Interval}
			return p.visit(ctx, ps, env, checkOnlyOf(st, step, x.outs))
		},
		unbound: func(st *runbook.Step, err error) Event { return p.unbound(st.ID, err) },
	}
}

// checkOnlyOf is all a plan gets of a kind: its check, its plan, and the
// keeping of what a check found. Closures, not the kind's value, which a
// type assertion could turn back into an Applier.
func checkOnlyOf(st *runbook.Step, step steps.Runner, outs *outputs) checkOnly {
	return checkOnly{check: step.Check, plan: step.Plan, record: func() { outs.record(st, step) }}
}

type holdsOnce struct {
	once   sync.Once
	ok     bool
	reason string
	err    error // the guard could not be evaluated
}

// Problems are every reason a run cannot work, one each, sorted: a caller
// can count, test or print them; as an error they read one per line.
type Problems []string

func (p Problems) Error() string { return strings.Join(p, "\n") }

// Check refuses, before any host is contacted, a run that cannot work: a
// step whose kind cannot run yet, a --from/--only/--limit naming nothing,
// a secret with no value. It returns every problem, nil when there is none.
func Check(b *runbook.Binding, opt Options) Problems {
	var problems []string
	for _, st := range b.Runbook.Steps {
		if !st.Runnable() {
			continue
		}
		if st.Kind.Caps.DryRunOnly {
			problems = append(problems, fmt.Sprintf("step %s: kind %s cannot run yet (dry-run only)", st.ID, st.Kind.Name))
		}
	}
	problems = append(problems, selectionProblems(b, opt)...)
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
		return Problems(dedupe(problems))
	}
	return nil
}

// optionalOnly refuses a run without --section that would do nothing:
// a runbook made only of optional sections (the failover drills), or a
// --from/--only step inside one. A run that silently checks no step reads
// as "all done" to a CI job; saying which sections exist is the fix.
func optionalOnly(rb *runbook.Runbook, opt Options) []string {
	var problems []string
	for _, id := range []string{opt.From, opt.Only} {
		if st := rb.Step(id); id != "" && st != nil && st.Section.Optional {
			problems = append(problems, fmt.Sprintf("step %s is in the optional section %s, which runs only when chosen: add --section %s", id, st.Section.ID, st.Section.ID))
		}
	}
	var optional []string
	for _, sec := range rb.Sections {
		if !sec.Optional {
			return problems
		}
		// A clean-up runs after whatever was chosen: not a choice itself.
		if !sec.Always {
			optional = append(optional, sec.ID)
		}
	}
	if len(optional) > 0 && len(problems) == 0 {
		problems = append(problems, fmt.Sprintf("every section of %s is optional, so nothing would run: choose one with --section (%s)", rb.File, strings.Join(optional, ", ")))
	}
	return problems
}

// CheckSelection refuses what the run's selection flags name that does
// not exist, or a selection that would run nothing. It needs no secret,
// so the app calls it before asking for any.
func CheckSelection(b *runbook.Binding, opt Options) error {
	problems := selectionProblems(b, opt)
	if len(problems) > 0 {
		sort.Strings(problems)
		return errors.New(strings.Join(dedupe(problems), "\n"))
	}
	return nil
}

func selectionProblems(b *runbook.Binding, opt Options) []string {
	var problems []string
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
			var ids []string
			for _, sec := range b.Runbook.Sections {
				if !sec.Always || !sec.Optional {
					ids = append(ids, sec.ID)
				}
			}
			problems = append(problems, fmt.Sprintf("no section %q (sections: %s)", opt.Section, strings.Join(ids, ", ")))
		}
	}
	if opt.Section == "" {
		problems = append(problems, optionalOnly(b.Runbook, opt)...)
	}
	if opt.Limit != "" {
		if _, err := b.Inventory.Limit(opt.Limit); err != nil {
			problems = append(problems, err.Error())
		}
	}
	return problems
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

// Run executes b: the apply operation on every step and host. It returns
// when every step has finished, been skipped, or, after ctx is cancelled,
// when the steps already running have stopped.
func Run(ctx context.Context, b *runbook.Binding, opt Options, rep Reporter) (*Result, error) {
	return start(ctx, b, opt, rep, applyOperation, opt.RunID != "")
}

// Plan runs only the read-only checks of b (the plan operation): nothing
// is applied, the hosts refuse any command that is not one of a step's
// checks, and no host is locked. Its events say what a run would do.
func Plan(ctx context.Context, b *runbook.Binding, opt Options, rep Reporter) (*Result, error) {
	return start(ctx, b, opt, rep, planOperation, false)
}

// start is a walk of b with the operation op makes, taking the hosts' locks
// first when lock is set.
func start(ctx context.Context, b *runbook.Binding, opt Options, rep Reporter, op func(*Executor) operation, lock bool) (*Result, error) {
	if err := Check(b, opt); err != nil {
		return nil, err
	}
	if opt.Forks <= 0 {
		opt.Forks = 10
	}
	if opt.Dir == "" {
		opt.Dir = filepath.Dir(b.Runbook.File)
	}
	m := mask.New()
	for _, v := range opt.Secrets {
		m.Add(string(v))
	}
	x := &Executor{
		b: b, opt: opt, rep: rep, outs: newOutputs(b), mask: m, holds: map[string]*holdsOnce{}, groups: map[string]*groupOnce{},
	}
	var locks *host.Locks
	if lock {
		locks = host.NewLocks(opt.RunID, b.Runbook.Name, opt.ForceUnlock, opt.Resumes)
	}
	x.pool = host.NewPool(host.PoolOptions{Inventory: b.Inventory, UserConfig: opt.UserConfig, Dial: opt.Dial, Locks: locks})
	x.hosts = &host.Hosts{Pool: x.pool, Inventory: b.Inventory, Dir: opt.Dir, Secrets: opt.Secrets, Confirm: opt.Confirm,
		Mask: m, Sink: sink{b: b, rep: rep}, Audit: opt.Audit, Failed: x.hostFailed}
	x.op = op(x)
	if locks != nil && !x.lockAll(ctx) {
		x.result.LocksLeft = x.pool.CloseAll(cleanupWithin)
		return &x.result, nil
	}
	x.run(ctx)
	x.result.LocksLeft = x.pool.CloseAll(cleanupWithin)
	return &x.result, nil
}

// stepHosts are the hosts a step runs on in this run (--limit applied).
func (x *Executor) stepHosts(st *runbook.Step) []*inventory.Host {
	var limit map[string]bool
	if x.opt.Limit != "" {
		hs, _ := x.b.Inventory.Limit(x.opt.Limit)
		limit = map[string]bool{}
		for _, h := range hs {
			limit[h.Name] = true
		}
	}
	var hosts []*inventory.Host
	for _, in := range x.b.Instances[st.ID] {
		if limit == nil || limit[in.Host.Name] {
			hosts = append(hosts, in.Host)
		}
	}
	return hosts
}

// lockAll takes the lock of every host the run will work on before any
// step starts: a run refused at its second host after changing the first
// would leave the pair half done. A host that cannot be reached is left
// to fail its own steps; a host another run holds (or whose lock cannot
// be trusted) refuses the whole run, and false is returned.
func (x *Executor) lockAll(ctx context.Context) bool {
	order := x.b.Runbook.Order()
	selected := x.selection(order)
	var hosts []*inventory.Host
	seen := map[string]bool{}
	for _, st := range order {
		if !selected[st.ID] || !st.Runnable() {
			continue
		}
		for _, h := range x.stepHosts(st) {
			if !seen[h.Name] {
				seen[h.Name] = true
				hosts = append(hosts, h)
			}
		}
	}
	locked := map[string]error{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	forks := make(chan struct{}, x.opt.Forks)
	for _, h := range hosts {
		wg.Add(1)
		go func(h *inventory.Host) {
			defer wg.Done()
			forks <- struct{}{}
			defer func() { <-forks }()
			_, err := x.pool.Get(ctx, h)
			var le *host.LockedError
			if errors.As(err, &le) {
				mu.Lock()
				locked[h.Name] = err
				mu.Unlock()
			}
		}(h)
	}
	wg.Wait()
	if len(locked) == 0 {
		return true
	}
	reported := map[string]bool{}
	for _, st := range order {
		if !selected[st.ID] {
			continue
		}
		var rest []string
		failedHere := false
		for _, h := range x.stepHosts(st) {
			if err := locked[h.Name]; err != nil && !reported[h.Name] {
				reported[h.Name], failedHere = true, true
				x.finish(Event{Step: st, Host: h.Name, Status: Failed, Error: x.mask.Replace(err.Error()), Locked: true})
			} else {
				rest = append(rest, h.Name)
			}
		}
		why := msg.En(msg.NotStartedLocked)
		if !failedHere {
			x.finish(Event{Step: st, Status: Skipped, Reason: why})
			continue
		}
		for _, h := range rest {
			x.finish(Event{Step: st, Host: h, Status: Skipped, Reason: why})
		}
	}
	return false
}

// learnOutputs re-checks, read-only, the producing steps this run skips
// (--from, --only, --section), so later steps still get the real
// checkpoint name instead of failing for want of it.
func (x *Executor) learnOutputs(ctx context.Context, order []*runbook.Step, selected map[string]bool) {
	for _, st := range order {
		if selected[st.ID] || !st.Runnable() {
			continue
		}
		if !st.Kind.Caps.RealOutputs {
			continue
		}
		for _, base := range x.b.Instances[st.ID] {
			in, err := x.outs.bind(st, base.Host)
			if err != nil {
				continue
			}
			if c, ok := in.Impl.(steps.Runner); ok {
				if status, err := c.Check(ctx, x.op.env(st.ID, base.Host, c)); err == nil && status.Done {
					x.outs.record(st, c)
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
			sel[st.ID] = st.Section.Chosen(x.opt.Section)
		}
	case x.opt.Only != "":
		sel[x.opt.Only] = true
		// The clean-up still follows: the one step may have logged in
		// (a ticket renewed with the secret), and the always section is
		// what takes tejun's credentials off the host again. It runs
		// only on hosts the run reached.
		for _, st := range order {
			if st.Section.Always {
				sel[st.ID] = true
			}
		}
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

// DefaultStepTimeout bounds a step that sets no timeout of its own: a
// check reading a FIFO, or a command waiting on a prompt, must not hang
// the run forever.
const DefaultStepTimeout = time.Hour

// attempt runs one step on one host within its timeout (the step's own,
// else Options.StepTimeout), and says so when that is what stopped it.
func (x *Executor) attempt(ctx context.Context, st *runbook.Step, h *inventory.Host) Event {
	timeout, from := st.Timeout, msg.En(msg.StepTimeout)
	if timeout <= 0 {
		timeout, from = x.opt.StepTimeout, msg.En(msg.FlagTimeout)
	}
	if timeout <= 0 {
		timeout, from = DefaultStepTimeout, msg.En(msg.DefaultTimeout)
	}
	sctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ev := x.attemptIn(sctx, st, h)
	if ev.Status == Failed && ctx.Err() == nil && errors.Is(sctx.Err(), context.DeadlineExceeded) {
		ev.Error = msg.En(msg.TimedOut, timeout, from, ev.Error)
	}
	return ev
}

func (x *Executor) attemptIn(ctx context.Context, st *runbook.Step, h *inventory.Host) Event {
	for _, id := range x.opt.AssumeDone {
		if id == st.ID {
			return Event{Status: OK, Reason: msg.En(msg.AssumedDone)}
		}
	}
	if st.DoneWhen != "" {
		ok, why, err := x.holdsNow(ctx, st.DoneWhen)
		if err != nil {
			// Fail closed: a guard that cannot be evaluated is not "does
			// not hold". What it guards (stopping a standby, deleting its
			// database) would destroy a healthy one.
			ev := x.fail(fmt.Errorf("cannot tell whether done_when %s holds, so %s does not run: %w", st.DoneWhen, st.ID, err))
			return ev
		}
		if ok {
			return Event{Status: OK, Reason: msg.En(msg.DoneWhen, st.DoneWhen, why)}
		}
	}
	in, err := x.outs.bind(st, h)
	if err == nil && x.opt.Finished[st.ID][h.Name] {
		// Done in the run resumed: not again. A producer is checked
		// (read-only) for what later steps need to know of it.
		if p, ok := in.Impl.(steps.Runner); ok {
			if _, produces := p.(steps.RealProducer); produces {
				if status, err := p.Check(ctx, x.op.env(st.ID, h, p)); err == nil && status.Done {
					x.outs.record(st, p)
				}
			} else {
				x.outs.record(st, p)
			}
		}
		return Event{Status: OK, Reason: msg.En(msg.ResumedDone, x.opt.Resumes)}
	}
	if err != nil {
		return x.op.unbound(st, err)
	}
	step, ok := in.Impl.(steps.Runner)
	if !ok { // Check refuses such a run; this keeps a bad caller from a panic
		return x.fail(fmt.Errorf("kind %s cannot run yet (dry-run only)", st.Kind.Name))
	}
	return x.op.visit(ctx, st, h, x.op.env(st.ID, h, step), step)
}

// holdsNow checks a verify step once per run, on all its hosts, with its
// retries: steps that name it in done_when are done when it holds. It has
// three answers. Holds; does not hold, on positive evidence (the guard's
// kind says its "not done" is settled, or it is a kind with no such
// notion); or unknown (err): the check errored, or a settling kind stayed
// unsettled through every retry. Unknown stops the guarded steps.
func (x *Executor) holdsNow(ctx context.Context, id string) (bool, string, error) {
	x.mu.Lock()
	h := x.holds[id]
	if h == nil {
		h = &holdsOnce{}
		x.holds[id] = h
	}
	x.mu.Unlock()
	h.once.Do(func() {
		st := x.b.Runbook.Step(id)
		if len(x.b.Instances[id]) == 0 {
			h.err = fmt.Errorf("step %s runs on no host", id)
			return
		}
		h.ok = true
		for _, base := range x.b.Instances[id] {
			in, err := x.outs.bind(st, base.Host)
			if err != nil {
				h.ok, h.err = false, err
				return
			}
			c, ok := in.Impl.(steps.Runner)
			if !ok {
				h.ok, h.err = false, fmt.Errorf("step %s cannot be checked", id)
				return
			}
			status, err := x.guard(ctx, st, c, x.op.env(id, base.Host, c))
			if err != nil {
				h.ok, h.err = false, fmt.Errorf("%s on %s: %w", id, base.Host.Name, err)
				return
			}
			if !status.Done {
				h.ok, h.reason = false, status.Reason
				return
			}
			h.reason = status.Reason
		}
	})
	return h.ok, h.reason, h.err
}

// settler is a verify kind that can tell a "not done" it is sure of (the
// server answers and is no replica; there is no database to replicate
// into) from one that waiting may change (a replica catching up, a master
// it cannot reach yet).
type settler interface {
	Settled() bool
}

// guard runs a done_when step's check with its patience: an error ends it
// at once (unknown), Done or a settled "not done" is the answer, and an
// unsettled "not done" is checked again until the retries are spent.
func (x *Executor) guard(ctx context.Context, st *runbook.Step, step steps.Runner, env steps.Env) (steps.Status, error) {
	s, settles := step.(settler)
	var status steps.Status
	for i := 0; i <= st.Retries; i++ {
		if i > 0 {
			select {
			case <-time.After(st.Interval):
			case <-ctx.Done():
				return status, ctx.Err()
			}
		}
		var err error
		status, err = step.Check(ctx, env)
		if err != nil || status.Done || !settles || s.Settled() {
			return status, err
		}
	}
	return status, errors.New(msg.En(msg.StillUndecided, st.Retries+1, x.mask.Replace(status.Reason)))
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

// checkTries runs check up to tries times, interval apart, until it
// holds or errs: a verify kind's patience.
func checkTries(ctx context.Context, interval time.Duration, tries int, check func(context.Context, steps.Env) (steps.Status, error), env steps.Env) (steps.Status, error) {
	var status steps.Status
	for i := 0; i < tries; i++ {
		if i > 0 {
			select {
			case <-time.After(interval):
			case <-ctx.Done():
				return status, ctx.Err()
			}
		}
		var err error
		status, err = check(ctx, env)
		if err != nil || status.Done {
			return status, err
		}
	}
	return status, nil
}

func (x *Executor) fail(err error) Event {
	var u *host.UnreachableError
	var locked *host.LockedError
	ev := Event{Status: Failed, Error: x.mask.Replace(err.Error()), Unreachable: errors.As(err, &u) || errors.Is(err, transport.ErrConnectionLost),
		Locked: errors.As(err, &locked), canceled: errors.Is(err, context.Canceled)}
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
	// Again here, whatever was masked before: a credential learnt since
	// (a ticket) may be in a text made earlier.
	ev.Reason, ev.Error, ev.Stderr = x.mask.Replace(ev.Reason), x.mask.Replace(ev.Error), x.mask.Replace(ev.Stderr)
	x.mu.Lock()
	x.result.Events = append(x.result.Events, ev)
	x.mu.Unlock()
	x.rep.Finished(ev)
}
