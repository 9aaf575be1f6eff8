package run

import (
	"context"
	"fmt"
	"time"

	"tejun/inventory"
	"tejun/runbook"
	"tejun/runbook/dag"
	"tejun/runbook/msg"
)

// run walks the graph (dag.Walk: a step starts once the steps it needs
// have finished on all their hosts, and not on a host where one of them
// was not done) doing the run's operation on each step and host.
func (x *Executor) run(ctx context.Context) {
	order := x.b.Runbook.Order()
	selected := x.selection(order)
	x.learnOutputs(ctx, order, selected)
	maxFail := -1
	if x.op.spreads {
		maxFail = x.b.Runbook.MaxFail
		if x.opt.FailFast {
			maxFail = 0
		}
	}
	x.walk = dag.NewWalk(x.b.Runbook.Graph, dag.Options{Forks: x.opt.Forks, MaxFail: maxFail, AlwaysWithin: alwaysWithin, Visit: selected})
	x.walk.Run(ctx, walker{x})
	x.result.Interrupted = ctx.Err() != nil
}

// hostFailed reports whether a step failed on host in this run: a step
// that also works on that host (a transfer to it) is skipped.
func (x *Executor) hostFailed(host string) bool {
	return x.walk != nil && x.walk.Failed(host)
}

// walker is the run as dag.Walk sees it: steps are nodes, hosts places.
type walker struct{ x *Executor }

func (w walker) step(id string) *runbook.Step { return w.x.b.Runbook.Step(id) }

func (w walker) Places(id string) []string {
	var names []string
	for _, h := range w.x.stepHosts(w.step(id)) {
		names = append(names, h.Name)
	}
	return names
}

func (w walker) Ran(id, place string) bool {
	for _, in := range w.x.b.Instances[id] {
		if in.Host.Name == place {
			return true
		}
	}
	return false
}

// Always: clean-up runs after a stop or an interrupt, and on a host whose
// earlier steps failed, in a run; a plan checks it as any other step.
func (w walker) Always(id string) bool { return w.x.op.spreads && w.step(id).Section.Always }

// Gate keeps clean-up from a host the run never reached: it has nothing
// to clean, and must not be dialled for it.
func (w walker) Gate(id, place string) string {
	if w.Always(id) && !w.x.pool.Reached(place) {
		return msg.En(msg.CleanupNotReached, place)
	}
	return ""
}

func (w walker) Together(id string, places []string) bool {
	return w.x.sameManualWork(w.step(id), w.hosts(places))
}

func (w walker) hosts(places []string) []*inventory.Host {
	hs := make([]*inventory.Host, len(places))
	for i, p := range places {
		hs[i] = w.x.b.Inventory.Host(p)
	}
	return hs
}

func (w walker) Visit(ctx context.Context, id string, places []string) dag.Outcome {
	st, hs := w.step(id), w.hosts(places)
	if len(hs) > 1 {
		return w.x.runManualOnce(ctx, st, hs)
	}
	return w.x.runOn(ctx, st, hs[0])
}

func (w walker) Skipped(id, place string, why dag.Skip) {
	w.x.finish(Event{Step: w.step(id), Host: place, Status: Skipped, Reason: w.x.why(why)})
}

func (w walker) NoPlaces(id string) {
	st := w.step(id)
	if len(w.x.b.Instances[st.ID]) == 0 && st.Section.IfNoHosts.JA+st.Section.IfNoHosts.EN != "" {
		// A section for roles this inventory has none of (no replica to
		// repoint): nothing to do, said once.
		w.x.finish(Event{Step: st, Status: Skipped, Reason: st.Section.IfNoHosts.In("en")}) // reasons are English, as the others
		return
	}
	w.x.finish(Event{Step: st, Status: Skipped, Reason: msg.En(msg.NotInLimit, w.x.opt.Limit)})
}

// why is a skip as the operator reads it.
func (x *Executor) why(s dag.Skip) string {
	switch {
	case s.Gate != "":
		return s.Gate
	case s.Interrupted:
		return msg.En(msg.Interrupted)
	case s.Stop != nil && x.opt.FailFast:
		return msg.En(msg.StoppedFailFast, s.Stop.Last)
	case s.Stop != nil:
		return msg.En(msg.StoppedMaxFail, msg.Count("en", s.Stop.Failed, msg.OneHost, msg.Hosts), x.b.Runbook.MaxFail)
	case s.At != "":
		return msg.En(msg.UpstreamFailedOn, s.Need, s.At)
	}
	return msg.En(msg.UpstreamFailed, s.Need)
}

// outcome is how an event leaves its step on its host for the walk: not
// done skips what depends on it there, and a failure of the host itself
// counts towards max_fail. A plan's outcomes spread nowhere.
func (x *Executor) outcome(ev Event) dag.Outcome {
	switch {
	case !x.op.spreads:
		return dag.Done
	case (ev.Status == OK || ev.Status == Changed || ev.Status == Skipped) && !ev.blocked:
		return dag.Done
	case ev.blocked:
		return dag.Blocked
	}
	return dag.Failed
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
		in, err := x.outs.bind(st, h)
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
func (x *Executor) runManualOnce(ctx context.Context, st *runbook.Step, hosts []*inventory.Host) dag.Outcome {
	start := time.Now()
	x.rep.Started(st, hosts[0].Name)
	ev := x.attempt(ctx, st, hosts[0])
	ev.Step, ev.Host, ev.Duration = st, hosts[0].Name, time.Since(start)
	x.finish(ev)
	for _, h := range hosts[1:] {
		x.finish(Event{Step: st, Host: h.Name, Status: ev.Status, Error: ev.Error,
			Reason: msg.En(msg.ManualAnswered, hosts[0].Name)})
	}
	return x.outcome(ev)
}

// runOn is the run's operation on one step and host, with what every
// operation shares: the reporter told, the duration, an interrupt said so.
func (x *Executor) runOn(ctx context.Context, st *runbook.Step, h *inventory.Host) dag.Outcome {
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
	return x.outcome(ev)
}
