package run

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"tejun/inventory"
	"tejun/runbook"
	"tejun/runbook/host"
	"tejun/runbook/msg"
	"tejun/steps"
)

// apply is the operation of tejun run: Check (with a verify kind's
// retries), and only if the host is not in the wanted state, the
// operator's yes for a destructive step, Apply, then Verify.
type apply struct{ x *Executor }

func (a *apply) visit(ctx context.Context, st *runbook.Step, h *inventory.Host, env steps.Env, step steps.Runner) Event {
	x := a.x
	tries := 1
	if st.Kind.Caps.Verify {
		tries += st.Retries
	}
	status, err := checkTries(ctx, st.Interval, tries, step.Check, env)
	var down *host.DownError
	if errors.As(err, &down) {
		return Event{Status: Skipped, Reason: down.Error(), blocked: true}
	}
	if err != nil {
		return x.fail(err)
	}
	if status.Done {
		x.outs.record(st, step)
		return Event{Status: OK, Reason: status.Reason}
	}
	if len(step.Plan().Apply) == 0 {
		if !st.Kind.Caps.Manual {
			return Event{Status: Failed, Error: x.mask.Replace(msg.En(msg.NotReached, status.Reason))}
		}
	}
	if st.Destructive && !x.opt.Yes {
		if refusal := a.confirmGroup(ctx, st, h, status.Reason); refusal != "" {
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
	x.outs.record(st, step)
	return Event{Status: Changed, Reason: x.mask.Replace(status.Reason)}
}

// groupOnce is the operator's one answer for a destructive group.
type groupOnce struct {
	once sync.Once
	ok   bool
	err  string
}

// confirmGroup asks once for a group of destructive steps: those of one
// section that share a done_when guard (the standby rebuild: stop it,
// remove db.* and server.locks, restore), on one host. The question comes
// before the first of them changes anything and names them all, so "no"
// leaves the host as it was; the answer holds for the rest. It returns the
// refusal, or "" to go ahead.
func (a *apply) confirmGroup(ctx context.Context, st *runbook.Step, h *inventory.Host, reason string) string {
	x := a.x
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
		q := msg.In(x.opt.Lang, msg.ConfirmOne, st.LabelIn(x.opt.Lang), st.ID, h.Name, x.mask.Replace(reason))
		if len(members) > 1 {
			var rest []string
			for _, m := range members[1:] {
				rest = append(rest, m.LabelIn(x.opt.Lang)+" "+m.ID)
			}
			q = msg.In(x.opt.Lang, msg.ConfirmGroup, h.Name, st.LabelIn(x.opt.Lang), st.ID, x.mask.Replace(reason), strings.Join(rest, ", "))
		}
		ok, err := x.opt.Confirm(ctx, q)
		g.ok = err == nil && ok
		if !g.ok {
			g.err = msg.En(msg.NotConfirmed)
		}
	})
	return g.err
}
