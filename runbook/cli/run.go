package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"tejun/runbook"
	"tejun/runbook/host"
	"tejun/runbook/mask"
	"tejun/runbook/run"
	"tejun/transport/ssh"
)

func (a *App) run(c *cli.Context) error {
	lang, err := a.lang(c)
	if err != nil {
		return err
	}
	st, err := stepTimeout(c)
	if err != nil {
		return err
	}
	l, err := a.load(c)
	if err != nil {
		return err
	}
	sel := run.Options{Limit: limit(c), From: c.String("from"), Only: c.String("only"), Section: c.String("section"),
		AssumeDone: c.StringSlice("assume-done")}
	if err := run.CheckSelection(l.binding, sel); err != nil {
		return invalid(err) // before any secret is asked for
	}
	secrets, err := a.secrets(l.binding, c.StringSlice("secret"))
	if err != nil {
		return err
	}
	userCfg := a.userConfig(c)
	opt := run.Options{
		StepTimeout: st,
		Forks:       c.Int("forks"), Yes: c.Bool("yes"),
		Limit: limit(c), From: c.String("from"), Only: c.String("only"), Section: c.String("section"),
		AssumeDone: c.StringSlice("assume-done"), Secrets: secrets, FailFast: c.Bool("fail-fast"),
		Dir: filepath.Dir(l.runbookPath), UserConfig: userCfg, Lang: lang,
	}
	if err := run.Check(l.binding, opt); err != nil {
		return invalid(err)
	}
	if err := oneOf("output", c.String("output"), "text", "json"); err != nil {
		return err
	}
	runID := newRunID()
	opt.RunID, opt.ForceUnlock = runID, c.Bool("force-unlock")
	if c.Bool("resume") {
		if opt.Resumes, opt.Finished, err = a.resumeCheck(l, runID, c.String("swap-roles")); err != nil {
			return err
		}
	}
	var reps reporters
	var human *human
	var events *eventLog
	if c.String("output") == "json" {
		events = &eventLog{w: a.stdout, runID: runID, swap: c.String("swap-roles"), lang: lang}
		events.start(l.runbookPath, l.inventoryPath, l.runbookSHA256, l.inventorySHA256, givenArgs(c))
		reps = append(reps, events)
	} else {
		human = newHuman(a.stdout, l.binding, lang, c.Bool("verbose"), a.colorFor(a.stdout))
		human.live = a.liveFor(a.stdout)
		reps = append(reps, human)
		human.start()
		defer human.finish()
		a.setScreen(human.writer(a.stderr))
		defer a.setScreen(nil)
		ssh.SetHoldScreen(human.hold) // a key's passphrase is asked while "connecting" spins
		defer ssh.SetHoldScreen(nil)
	}
	hold := func() func() { return func() {} }
	if human != nil {
		hold = human.hold
	}
	opt.Confirm = a.confirm(hold)
	auditFile, err := openAudit(a.getenv, l.binding.Runbook, runID)
	if err != nil {
		return fmt.Errorf("audit record: %w", err)
	}
	defer auditFile.Close()
	auditName := mask.Visible(auditFile.Name()) // $XDG_STATE_HOME may hold anything
	audit := &eventLog{w: auditFile, runID: runID, swap: c.String("swap-roles"), lang: lang}
	audit.start(l.runbookPath, l.inventoryPath, l.runbookSHA256, l.inventorySHA256, givenArgs(c))
	if err := audit.failed(); err != nil {
		// Nothing is done yet: no run without its record (--resume and the
		// report read it).
		return fmt.Errorf("audit record %s cannot be written (%v): nothing was run", auditName, err)
	}
	audit.onFail = func(err error) {
		fmt.Fprintf(a.errOut(), "tejun: audit record %s: %v: the record is incomplete from here on\n", auditName, err)
	}
	reps = append(reps, audit)
	opt.Audit = audit.command
	var ju *junitReport
	if c.String("junit") != "" {
		host, _ := os.Hostname()
		ju = newJUnit(l.binding.Runbook, host, lang)
		reps = append(reps, ju)
	}

	running := &inFlight{steps: map[string]bool{}, hosts: map[string]bool{}}
	reps = append(reps, running)
	a.setLeftover(func() []string {
		audit.abandoned()
		return append(running.report(), "audit record: "+auditFile.Name()+" (ends at the interrupt)")
	})
	defer a.setLeftover(nil)

	start := time.Now()
	res, err := run.Run(c.Context, l.binding, opt, reps)
	if err != nil {
		return invalid(err)
	}
	if human != nil {
		human.finish()
	}
	if len(res.LocksLeft) > 0 {
		fmt.Fprintf(a.stderr, "tejun: the run lock %s could not be released on %s (not answering); it goes stale by itself, or pass --force-unlock\n",
			host.LockPath, strings.Join(res.LocksLeft, ", "))
	}
	if human != nil {
		human.summary(res, time.Since(start))
	}
	exit := exitFor(res)
	audit.end(res, exit.code, time.Since(start))
	if events != nil {
		events.end(res, exit.code, time.Since(start))
	}
	if ju != nil {
		if err := ju.write(c.String("junit")); err != nil {
			fmt.Fprintf(a.stderr, "tejun: junit report: %v\n", err)
		}
	}
	if err := audit.failed(); err != nil {
		fmt.Fprintf(a.stderr, "audit record: %s (incomplete: %v)\n", auditName, err)
	} else {
		fmt.Fprintf(a.stderr, "audit record: %s\n", auditName)
	}
	if exit.code == ExitOK {
		return nil
	}
	return exit
}

var limitFlag = &cli.StringSliceFlag{Name: "limit", Aliases: []string{"l"},
	Usage: "only the hosts of `PATTERN`: hosts, roles, all, globs (db-*), !h3 to leave one out, &role to intersect; h1,h2 is a list and a repeated --limit adds"}

// limit is every --limit given, as one pattern: a repeated flag adds to
// the selection, as ansible's --limit a --limit b does not (and should).
func limit(c *cli.Context) string { return strings.Join(c.StringSlice("limit"), ",") }

// exitFor maps a run's result to the documented exit codes.
func exitFor(res *run.Result) *exitError {
	switch {
	case res.Interrupted:
		return &exitError{ExitInterrupted, errors.New("interrupted: no new steps were started, running commands were told to stop")}
	case res.Locked():
		return &exitError{ExitLocked, errors.New("another run holds a host's lock")}
	case res.Count(run.Failed) > 0 && res.Unreachable():
		return &exitError{ExitUnreachable, errors.New("a host could not be reached")}
	case res.Count(run.Failed) > 0:
		return &exitError{ExitFailed, fmt.Errorf("%s failed", count(res.Count(run.Failed), "step"))}
	case res.Count(run.Refused) > 0:
		for _, e := range res.Events {
			if e.Status == run.Refused && strings.Contains(e.Error, "not on a terminal") {
				return &exitError{ExitRefused, errors.New("destructive steps were not confirmed; run on a terminal or pass --yes")}
			}
		}
		return &exitError{ExitRefused, errors.New("destructive steps were not confirmed: the operator answered no")}
	}
	return &exitError{ExitOK, nil}
}

// inFlight knows which steps are running where, to say what an exit
// without cleanup may leave half-done.
type inFlight struct {
	mu    sync.Mutex
	steps map[string]bool // "step on host"
	hosts map[string]bool // hosts contacted: each may hold this run's lock
}

func (f *inFlight) Started(st *runbook.Step, host string) {
	f.mu.Lock()
	f.steps[st.ID+" on "+host] = true
	f.hosts[host] = true
	f.mu.Unlock()
}

func (f *inFlight) Finished(ev run.Event) {
	f.mu.Lock()
	delete(f.steps, ev.Step.ID+" on "+ev.Host)
	f.mu.Unlock()
}

func (f *inFlight) Log(*runbook.Step, string, string) {}

func (f *inFlight) report() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out, hosts []string
	for s := range f.steps {
		out = append(out, "step "+s+" was running: its command may still run, or have stopped part way; a re-run checks first and finishes it")
	}
	for h := range f.hosts {
		hosts = append(hosts, h)
	}
	sort.Strings(out)
	sort.Strings(hosts)
	if len(hosts) > 0 {
		out = append(out, fmt.Sprintf("the run lock %s on %s: it goes stale by itself once its heartbeat stops, or pass --force-unlock",
			host.LockPath, strings.Join(hosts, ", ")))
	}
	return out
}
