// Package run runs a bound runbook on its hosts: for each step whose
// needs are done, on each of its hosts, Check (read-only), then Apply only if
// the host is not already in the wanted state, then Verify. It knows the graph
// only through the runbook package, and hosts only through transport.
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

// Command is one command run on a host, for the audit record. The line
// is masked; so is everything else that reaches a reporter.
type Command struct {
	Step     string
	Host     string
	Line     string
	ExitCode int // -1 when the command did not run to an exit status
	Duration time.Duration
	Error    string
	// Stdout and Stderr are what the command printed, masked, at most
	// OutputLimit bytes each: the reviewer's report shows them as the
	// step's result.
	Stdout, Stderr string
}

// OutputLimit bounds each output stream of a command in the audit record,
// so one verbose command cannot make a record line too long to read back
// (resume and report read it line by line); its head and tail are kept.
const OutputLimit = 32 << 10

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
	conns *connections
	mask  *mask.Masker

	mu      sync.Mutex
	outputs runbook.Outputs
	result  Result
	holds   map[string]*holdsOnce // done_when steps, checked once per run

	// Failure policy: bad[step][host] marks a step not done on a host
	// (failed, refused, or skipped for that), so that its dependents are
	// skipped there; failedHosts counts hosts for max_fail; stopped, once
	// set, says why no new step starts on any host.
	bad         map[string]map[string]bool
	failedHosts map[string]bool
	maxFail     int
	stopped     string
	groups      map[string]*groupOnce // destructive groups, confirmed once per run
}

type holdsOnce struct {
	once   sync.Once
	ok     bool
	reason string
	err    error // the guard could not be evaluated
}

// groupOnce is the operator's one answer for a destructive group.
type groupOnce struct {
	once sync.Once
	ok   bool
	err  string
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
		optional = append(optional, sec.ID)
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
				ids = append(ids, sec.ID)
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
		opt.Dial = func(ctx context.Context, cfg ssh.Config) (transport.Conn, error) {
			c, err := ssh.Dial(ctx, cfg)
			if err != nil {
				return nil, err // not a nil *SSH inside a non-nil Conn
			}
			return c, nil
		}
	}
	if opt.Dir == "" {
		opt.Dir = filepath.Dir(b.Runbook.File)
	}
	m := mask.New()
	for _, v := range opt.Secrets {
		m.Add(string(v))
	}
	x := &Executor{
		b: b, opt: opt, rep: rep, outputs: runbook.Outputs{}, mask: m, holds: map[string]*holdsOnce{}, groups: map[string]*groupOnce{},
		bad: map[string]map[string]bool{}, failedHosts: map[string]bool{}, maxFail: b.Runbook.MaxFail,
		conns: &connections{inv: b.Inventory, userCfg: opt.UserConfig, dial: opt.Dial, conns: map[string]*lazyConn{}},
	}
	if opt.FailFast {
		x.maxFail = 0
	}
	if opt.RunID != "" && !opt.Plan {
		x.conns.locks = newLocks(opt.RunID, b.Runbook.Name, opt.ForceUnlock, opt.Resumes)
	}
	if x.conns.locks != nil && !x.lockAll(ctx) {
		x.result.LocksLeft = x.conns.closeAll(cleanupWithin)
		return &x.result, nil
	}
	x.walk(ctx)
	x.result.LocksLeft = x.conns.closeAll(cleanupWithin)
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
			_, err := x.conns.get(ctx, h)
			var le *LockedError
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

type stepState int

const (
	pending stepState = iota
	running
	finished
)

// walk starts every step as soon as the steps it needs have finished on
// all their hosts. Which hosts it then runs on is runStep's business: a
// host where something it needs was not done is skipped (once per step
// when that is every host, with the reason), the others go on.
func (x *Executor) walk(ctx context.Context) {
	order := x.b.Runbook.Order()
	state := map[string]stepState{}
	selected := x.selection(order)
	for _, st := range order {
		if !selected[st.ID] {
			state[st.ID] = finished // taken as done (--from, --only)
		}
	}
	x.learnOutputs(ctx, order, selected)
	done := make(chan string)
	inflight := 0
	forks := make(chan struct{}, x.opt.Forks)
	for {
		for _, st := range order {
			if state[st.ID] != pending {
				continue
			}
			ready := true
			for _, n := range x.b.Runbook.Graph.Needs(st.ID) {
				ready = ready && state[n] == finished
			}
			if !ready {
				continue
			}
			state[st.ID] = running
			inflight++
			go func(st *runbook.Step) {
				x.runStep(ctx, st, forks)
				done <- st.ID
			}(st)
		}
		if inflight == 0 {
			break
		}
		state[<-done] = finished
		inflight--
	}
	x.result.Interrupted = ctx.Err() != nil
}

// blockedOn says why st must not start on host h, or "". A need that ran
// on h must be done there; a need that ran only elsewhere (the master's
// checkpoint, for the standby) must be done everywhere it ran.
func (x *Executor) blockedOn(ctx context.Context, st *runbook.Step, h string) string {
	if st.Section.Always && !x.opt.Plan {
		// Clean-up runs after a stop or an interrupt, and on a host whose
		// earlier steps failed: only a host never reached has nothing.
		if !x.conns.reached(h) {
			return msg.En(msg.CleanupNotReached, h)
		}
		return ""
	}
	if ctx.Err() != nil {
		return msg.En(msg.Interrupted)
	}
	if x.opt.Plan {
		return ""
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.stopped != "" {
		return x.stopped
	}
	for _, n := range x.b.Runbook.Graph.Needs(st.ID) {
		bad := x.bad[n]
		if len(bad) == 0 {
			continue
		}
		if bad[h] {
			return msg.En(msg.UpstreamFailedOn, n, h)
		}
		ranHere := false
		for _, in := range x.b.Instances[n] {
			ranHere = ranHere || in.Host.Name == h
		}
		if !ranHere {
			return msg.En(msg.UpstreamFailed, n)
		}
	}
	return ""
}

// markBad records that st is not done on host, and counts the host for
// max_fail when it failed there itself.
func (x *Executor) markBad(st *runbook.Step, host string, failedHere bool) {
	if x.opt.Plan {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.bad[st.ID] == nil {
		x.bad[st.ID] = map[string]bool{}
	}
	x.bad[st.ID][host] = true
	if !failedHere {
		return
	}
	x.failedHosts[host] = true
	if x.maxFail >= 0 && len(x.failedHosts) > x.maxFail && x.stopped == "" {
		why := msg.En(msg.StoppedMaxFail, msg.Count("en", len(x.failedHosts), msg.OneHost, msg.Hosts), x.maxFail)
		if x.opt.FailFast {
			why = msg.En(msg.StoppedFailFast, host)
		}
		x.stopped = why
	}
}

// hostFailed reports whether a step failed on host in this run: a step
// that also works on that host (a transfer to it) is skipped.
func (x *Executor) hostFailed(host string) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.failedHosts[host]
}

func count(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
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
			sel[st.ID] = st.Section.Chosen(x.opt.Section)
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

// runStep runs a step on each of its hosts where nothing it needs
// failed, at most Forks at a time.
func (x *Executor) runStep(ctx context.Context, st *runbook.Step, forks chan struct{}) {
	if st.Section.Always && ctx.Err() != nil && !x.opt.Plan {
		// An interrupted run still cleans up, within a bound of its own.
		c, cancel := context.WithTimeout(context.WithoutCancel(ctx), alwaysWithin)
		defer cancel()
		ctx = c
	}
	all := x.stepHosts(st)
	if len(all) == 0 && len(x.b.Instances[st.ID]) == 0 && st.Section.IfNoHosts.JA+st.Section.IfNoHosts.EN != "" {
		// A section for roles this inventory has none of (no replica to
		// repoint): nothing to do, said once.
		x.finish(Event{Step: st, Status: Skipped, Reason: st.Section.IfNoHosts.In("en")}) // reasons are English, as the others
		return
	}
	if len(all) == 0 {
		x.finish(Event{Step: st, Status: Skipped, Reason: msg.En(msg.NotInLimit, x.opt.Limit)})
		return
	}
	var hosts []*inventory.Host
	whys := map[string]string{}
	for _, h := range all {
		if why := x.blockedOn(ctx, st, h.Name); why != "" {
			whys[h.Name] = why
		} else {
			hosts = append(hosts, h)
		}
	}
	if len(hosts) == 0 {
		// Skipped on every host: said once, with the first reason.
		x.finish(Event{Step: st, Status: Skipped, Reason: x.blockedOn(ctx, st, all[0].Name)})
		for _, h := range all {
			x.markBad(st, h.Name, false)
		}
		return
	}
	for _, h := range all {
		if why := whys[h.Name]; why != "" {
			x.finish(Event{Step: st, Host: h.Name, Status: Skipped, Reason: why})
			x.markBad(st, h.Name, false)
		}
	}
	if len(hosts) > 1 && x.sameManualWork(st, hosts) {
		x.runManualOnce(ctx, st, hosts, forks)
		return
	}
	if len(hosts) == 1 {
		// No fan-out: run it here, one goroutine hop less per step.
		forks <- struct{}{}
		defer func() { <-forks }()
		x.runOn(ctx, st, hosts[0])
		return
	}
	var wg sync.WaitGroup
	for _, h := range hosts {
		wg.Add(1)
		go func(h *inventory.Host) {
			defer wg.Done()
			select {
			case forks <- struct{}{}:
			case <-ctx.Done():
				x.finish(Event{Step: st, Host: h.Name, Status: Skipped, Reason: msg.En(msg.Interrupted)})
				x.markBad(st, h.Name, false)
				return
			}
			defer func() { <-forks }()
			if why := x.blockedOn(ctx, st, h.Name); why != "" {
				// max_fail was reached while this host waited for a fork.
				x.finish(Event{Step: st, Host: h.Name, Status: Skipped, Reason: why})
				x.markBad(st, h.Name, false)
				return
			}
			x.runOn(ctx, st, h)
		}(h)
	}
	wg.Wait()
}

// sameManualWork is true for a manual step whose instruction reads the same
// on every host: that is one piece of work for the operator (an AWS console
// page, a GUI), so it is asked once, not once per host.
func (x *Executor) sameManualWork(st *runbook.Step, hosts []*inventory.Host) bool {
	if !st.Kind.Caps.Manual {
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
		// What the operator is shown, in both languages: no need to know
		// the manual kind's fields.
		ja, en := in.Impl.Describe("ja"), in.Impl.Describe("en")
		text := fmt.Sprint(ja, "\x00", en)
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
func (x *Executor) runManualOnce(ctx context.Context, st *runbook.Step, hosts []*inventory.Host, forks chan struct{}) {
	forks <- struct{}{}
	defer func() { <-forks }()
	start := time.Now()
	x.rep.Started(st, hosts[0].Name)
	ev := x.attempt(ctx, st, hosts[0])
	ev.Step, ev.Host, ev.Duration = st, hosts[0].Name, time.Since(start)
	x.finish(ev)
	ok := (ev.Status == OK || ev.Status == Changed || ev.Status == Skipped) && !ev.blocked
	if !ok {
		x.markBad(st, hosts[0].Name, !ev.blocked)
	}
	for _, h := range hosts[1:] {
		x.finish(Event{Step: st, Host: h.Name, Status: ev.Status, Error: ev.Error,
			Reason: msg.En(msg.ManualAnswered, hosts[0].Name)})
		if !ok {
			x.markBad(st, h.Name, !ev.blocked)
		}
	}
}

// runOn is Check → (confirm) → Apply → Verify for one step on one host.
func (x *Executor) runOn(ctx context.Context, st *runbook.Step, h *inventory.Host) bool {
	start := time.Now()
	x.rep.Started(st, h.Name)
	ev := x.attempt(ctx, st, h)
	ev.Step, ev.Host, ev.Duration = st, h.Name, time.Since(start)
	if ev.Status == Failed && ctx.Err() != nil && !ev.Unreachable {
		ev.Reason = msg.En(msg.Interrupted)
		if ev.canceled {
			ev.Error = msg.En(msg.InterruptedCommand)
		}
	}
	x.finish(ev)
	ok := (ev.Status == OK || ev.Status == Changed || ev.Status == Skipped) && !ev.blocked
	if !ok {
		x.markBad(st, h.Name, !ev.blocked)
	}
	return ok
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
	x.mu.Lock()
	in, err := x.b.Instantiate(st, h, x.outputs)
	x.mu.Unlock()
	if err == nil && x.opt.Finished[st.ID][h.Name] {
		// Done in the run resumed: not again. A producer is checked
		// (read-only) for what later steps need to know of it.
		if p, ok := in.Impl.(steps.Runner); ok {
			if _, produces := p.(steps.RealProducer); produces {
				if status, err := p.Check(ctx, x.env(h, st.ID, p)); err == nil && status.Done {
					x.record(st, p)
				}
			} else {
				x.record(st, p)
			}
		}
		return Event{Status: OK, Reason: msg.En(msg.ResumedDone, x.opt.Resumes)}
	}
	if err != nil {
		if x.opt.Plan && x.upstreamChanges(st) {
			return Event{Status: MayChange, Reason: msg.En(msg.DependsOnEarlier)}
		}
		return x.fail(err)
	}
	step, ok := in.Impl.(steps.Runner)
	if !ok { // Check refuses such a run; this keeps a bad caller from a panic
		return x.fail(fmt.Errorf("kind %s cannot run yet (dry-run only)", st.Kind.Name))
	}
	env := x.env(h, st.ID, step)

	status, err := x.check(ctx, st, step, env)
	var down *hostDown
	if errors.As(err, &down) {
		return Event{Status: Skipped, Reason: down.Error(), blocked: true}
	}
	if x.opt.Plan {
		if err == nil && status.Done {
			x.record(st, step) // later checks use what it found (the master's charset)
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
		if !st.Kind.Caps.Manual {
			return Event{Status: Failed, Error: x.mask.Replace(msg.En(msg.NotReached, status.Reason))}
		}
	}
	if st.Destructive && !x.opt.Yes {
		if refusal := x.confirmGroup(ctx, st, h, status.Reason); refusal != "" {
			return Event{Status: Refused, Reason: status.Reason, Error: refusal}
		}
	}
	if err := step.Apply(ctx, env); err != nil {
		if errors.As(err, &down) {
			return Event{Status: Skipped, Reason: down.Error(), blocked: true}
		}
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
			x.mu.Lock()
			in, err := x.b.Instantiate(st, base.Host, x.outputs)
			x.mu.Unlock()
			if err != nil {
				h.ok, h.err = false, err
				return
			}
			c, ok := in.Impl.(steps.Runner)
			if !ok {
				h.ok, h.err = false, fmt.Errorf("step %s cannot be checked", id)
				return
			}
			status, err := x.guard(ctx, st, c, x.env(base.Host, id, c))
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

// confirmGroup asks once for a group of destructive steps: those of one
// section that share a done_when guard (the standby rebuild: stop it,
// remove db.* and server.locks, restore), on one host. The question comes
// before the first of them changes anything and names them all, so "no"
// leaves the host as it was; the answer holds for the rest. It returns the
// refusal, or "" to go ahead.
func (x *Executor) confirmGroup(ctx context.Context, st *runbook.Step, h *inventory.Host, reason string) string {
	key, members := st.ID+"|"+h.Name, []*runbook.Step{st}
	if st.DoneWhen != "" {
		key = st.Section.ID + "|" + st.DoneWhen + "|" + h.Name
		members = nil
		after := false
		for _, o := range x.b.Runbook.Order() {
			after = after || o == st
			if after && o.Destructive && o.Section == st.Section && o.DoneWhen == st.DoneWhen {
				members = append(members, o)
			}
		}
	}
	x.mu.Lock()
	g := x.groups[key]
	if g == nil {
		g = &groupOnce{}
		x.groups[key] = g
	}
	x.mu.Unlock()
	g.once.Do(func() {
		if x.opt.Confirm == nil {
			g.err = msg.En(msg.NotConfirmedNoTerminal)
			return
		}
		var q strings.Builder
		fmt.Fprintf(&q, "On %s: %s %s (%s)", h.Name, st.LabelIn(x.opt.Lang), st.ID, x.mask.Replace(reason))
		if len(members) > 1 {
			var rest []string
			for _, m := range members[1:] {
				rest = append(rest, m.LabelIn(x.opt.Lang)+" "+m.ID)
			}
			fmt.Fprintf(&q, ", then %s", strings.Join(rest, ", "))
		}
		q.WriteString(". Run them?")
		if len(members) == 1 {
			q.Reset()
			fmt.Fprintf(&q, "%s %s on %s: %s. Run it?", st.LabelIn(x.opt.Lang), st.ID, h.Name, x.mask.Replace(reason))
		}
		ok, err := x.opt.Confirm(ctx, q.String())
		g.ok = err == nil && ok
		if !g.ok {
			g.err = msg.En(msg.NotConfirmed)
		}
	})
	return g.err
}

// check runs Check, and for verify kinds keeps running it until it holds
// or the step's retries are spent.
func (x *Executor) check(ctx context.Context, st *runbook.Step, step steps.Runner, env steps.Env) (steps.Status, error) {
	tries := 1
	// A plan waits too, unless what it waits for depends on changes the
	// plan will not make.
	if st.Kind.Caps.Verify && !(x.opt.Plan && x.upstreamChanges(st)) {
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
	prog := &progress{x: x, step: x.b.Runbook.Step(step), host: h.Name}
	prog.total.Store(-1)
	e := &hostEnv{x: x, host: h, step: step, impl: impl, prog: prog}
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
		return Event{Status: MayChange, Reason: msg.En(msg.CannotCheckYet, x.mask.Replace(err.Error()))}
	case err != nil:
		return x.fail(err)
	case status.Done:
		return Event{Status: OK, Reason: x.mask.Replace(status.Reason)}
	case upstream:
		return Event{Status: MayChange, Reason: x.mask.Replace(status.Reason)}
	case verifyOnly:
		// A verify step changes nothing: not holding means a run would fail.
		return Event{Status: Failed, Error: x.mask.Replace(msg.En(msg.WouldFail, status.Reason))}
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

func (x *Executor) log(step, host, line string) {
	x.rep.Log(x.b.Runbook.Step(step), host, x.mask.Replace(line))
}

// audit records a command; stderrDropped is what was not kept of the
// middle of its stderr (keptOutput).
func (x *Executor) audit(step, host string, cmd transport.Cmd, d time.Duration, err error, stdout, stderr string, stderrDropped int) {
	if x.opt.Audit == nil {
		return
	}
	c := Command{Step: step, Host: host, Line: x.mask.Replace(cmd.String()), Duration: d,
		Stdout: bounded(x.mask.Replace(stdout), 0), Stderr: bounded(x.mask.Replace(stderr), stderrDropped)}
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

// bounded keeps the head and tail of s within OutputLimit bytes, cut at
// line ends where it can, saying how much was left out: what it cuts, and
// dropped, bytes already left out of s's middle (keptOutput). It is given
// text already masked: masking the whole output first means no cut can
// split a secret into parts that no longer look like it.
func bounded(s string, dropped int) string {
	if len(s) <= OutputLimit && dropped == 0 {
		return s
	}
	h := min(OutputLimit/2, len(s))
	head, tail := s[:h], s[len(s)-min(OutputLimit/2, len(s)-h):]
	if i := strings.LastIndexByte(head, '\n'); i > 0 {
		head = head[:i+1]
	}
	if i := strings.IndexByte(tail, '\n'); i >= 0 && i < len(tail)-1 {
		tail = tail[i+1:]
	}
	return head + fmt.Sprintf("[... %d bytes not recorded ...]\n", len(s)-len(head)-len(tail)+dropped) + tail
}
