package host

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"tejun/inventory"
	"tejun/steps"
	"tejun/transport"
)

// readOnlyEnv backs plan mode: a host on which only the step's own check
// commands (its Plan().Check) may run. Check is read-only by contract;
// this makes the contract hold even for a kind that gets it wrong.
type readOnlyEnv struct {
	*hostEnv
	allowed map[string][]*regexp.Regexp // host → permitted command lines
}

// CheckEnv is step's view of h in plan mode: the gate, which runs only the
// commands of the step's Plan().Check, on whichever host each names. A
// word the host chooses (steps.Chosen: a checkpoint's number, shown as
// ckp.N) is admitted as its declared pattern, in the ops that declare it
// and nowhere else.
func (hs *Hosts) CheckEnv(step string, h *inventory.Host, impl steps.Step) steps.Env {
	e := hs.env(step, h, impl)
	r := &readOnlyEnv{hostEnv: e, allowed: map[string][]*regexp.Regexp{}}
	for _, op := range impl.Plan().Check {
		if op.Action != "" {
			continue
		}
		host := e.host
		if op.Host != "" {
			if hs, err := hs.Inventory.Select(op.Host); err == nil && len(hs) == 1 {
				host = hs[0]
			}
		}
		for _, c := range append([]transport.Cmd{op.Cmd}, op.Variants...) {
			line, err := c.Sent(host.SSH.Become).Line()
			if err != nil {
				continue
			}
			pat := regexp.QuoteMeta(line)
			for _, ch := range op.Chosen {
				pat = strings.ReplaceAll(pat, regexp.QuoteMeta(ch.Word), "(?:"+ch.Pattern+")")
			}
			re, err := regexp.Compile("^" + pat + "$")
			if err != nil {
				continue // a kind's bad pattern admits nothing: fail closed
			}
			r.allowed[host.Name] = append(r.allowed[host.Name], re)
		}
	}
	return r
}

// ErrNotACheck is a command plan mode refused.
type ErrNotACheck struct{ Line string }

func (e *ErrNotACheck) Error() string {
	return fmt.Sprintf("plan mode refused %q: it is not one of the step's check commands", e.Line)
}

func (r *readOnlyEnv) Run(ctx context.Context, cmd transport.Cmd, stdin io.Reader) (string, error) {
	line, err := cmd.Sent(r.host.SSH.Become).Line()
	if err != nil {
		return "", err
	}
	for _, p := range r.allowed[r.host.Name] {
		if p.MatchString(line) {
			return r.hostEnv.Run(ctx, cmd, stdin)
		}
	}
	return "", &ErrNotACheck{Line: line}
}

func (r *readOnlyEnv) Files() (transport.Files, error) {
	return nil, fmt.Errorf("plan mode: no file transfers")
}

func (r *readOnlyEnv) On(name string) (steps.Env, error) {
	other, err := r.hostEnv.On(name)
	if err != nil {
		return nil, err
	}
	he, ok := other.(*hostEnv)
	if !ok {
		return nil, fmt.Errorf("plan mode: %s is not a host of this run", name)
	}
	return &readOnlyEnv{hostEnv: he, allowed: r.allowed}, nil
}

func (r *readOnlyEnv) Confirm(context.Context, string) error { return steps.ErrNoOperator }

// Reconnect of a plan never happens: Apply never runs in a plan.
func (r *readOnlyEnv) Reconnect(context.Context, time.Duration) error {
	return fmt.Errorf("plan mode: no reboot")
}
