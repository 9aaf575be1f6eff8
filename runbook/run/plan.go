package run

import (
	"context"
	"errors"
	"time"

	"tejun/runbook/host"
	"tejun/runbook/mask"
	"tejun/runbook/msg"
	"tejun/steps"
)

// plan is the operation of tejun plan: each step's read-only check, on a
// host that runs nothing else (host.CheckEnv), turned into a verdict. It
// is given no executor, binding or kind: only a check-only view of each
// step (checkOnly), so nothing here can apply a change.
type plan struct {
	mask *mask.Masker
	// upstream reports whether a step the one named needs will or may
	// change.
	upstream func(step string) bool
	fail     func(err error) Event
}

// planStep is what a plan has of a step: its name and a verify kind's
// patience. Not the runbook's *Step, whose Kind makes kinds.
type planStep struct {
	id       string
	verify   bool
	retries  int
	interval time.Duration
}

// checkOnly is what a plan has of a kind: its check, its plan (what a run
// would send) and the keeping of what a check found, for later checks.
type checkOnly struct {
	check  func(ctx context.Context, env steps.Env) (steps.Status, error)
	plan   func() steps.Plan
	record func()
}

func (p *plan) visit(ctx context.Context, st planStep, env steps.Env, c checkOnly) Event {
	tries := 1
	// A plan waits too, unless what it waits for depends on changes the
	// plan will not make.
	if st.verify && !p.upstream(st.id) {
		tries += st.retries
	}
	status, err := checkTries(ctx, st.interval, tries, c.check, env)
	var down *host.DownError
	if errors.As(err, &down) {
		return Event{Status: Skipped, Reason: down.Error(), blocked: true}
	}
	if err == nil && status.Done {
		c.record() // later checks use what it found (the master's charset)
	}
	return p.planned(st, c, status, err)
}

// unbound: a step that cannot be bound yet may only lack what an earlier
// step will produce.
func (p *plan) unbound(step string, err error) Event {
	if p.upstream(step) {
		return Event{Status: MayChange, Reason: msg.En(msg.DependsOnEarlier)}
	}
	return p.fail(err)
}

// planned turns a check's verdict into a plan line.
func (p *plan) planned(st planStep, c checkOnly, status steps.Status, err error) Event {
	upstream := p.upstream(st.id)
	verifyOnly := len(c.plan().Apply) == 0
	var refused *host.ErrNotACheck
	switch {
	case errors.As(err, &refused):
		return p.fail(err) // a kind breaking its read-only contract is a defect, whatever else happens
	case err != nil && upstream:
		return Event{Status: MayChange, Reason: msg.En(msg.CannotCheckYet, p.mask.Replace(err.Error()))}
	case err != nil:
		return p.fail(err)
	case status.Done:
		return Event{Status: OK, Reason: p.mask.Replace(status.Reason)}
	case upstream:
		return Event{Status: MayChange, Reason: p.mask.Replace(status.Reason)}
	case verifyOnly:
		// A verify step changes nothing: not holding means a run would fail.
		return Event{Status: Failed, Error: p.mask.Replace(msg.En(msg.WouldFail, status.Reason))}
	}
	return Event{Status: WillChange, Reason: p.mask.Replace(status.Reason)}
}
