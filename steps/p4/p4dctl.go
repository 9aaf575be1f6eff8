package p4

import (
	"context"
	"fmt"
	"strings"

	"tejun/steps"
	"tejun/transport"
)

// P4dctl starts or stops a server managed by p4dctl, checking its status
// first so a running service is not restarted for nothing.
type P4dctl struct {
	Name  string `toml:"name"`
	State string `toml:"state"`
}

func (p *P4dctl) Validate() []steps.Problem {
	ps := append(steps.Require("p4dctl", "name", p.Name), steps.NotOption("name", p.Name)...)
	if p.State != "started" && p.State != "stopped" {
		ps = append(ps, steps.Problem{Key: "state", Msg: "state " + p.State + ": want started or stopped"})
	}
	return ps
}

func (p *P4dctl) verb() string {
	if p.State == "stopped" {
		return "stop"
	}
	return "start"
}

func (p *P4dctl) Describe(lang string) steps.Description {
	done := steps.T(lang, "既に起動していれば作業不要です", "Nothing to do if already running")
	if p.State == "stopped" {
		done = steps.T(lang, "既に停止していれば作業不要です", "Nothing to do if already stopped")
	}
	return steps.Description{
		Notes:  []string{done},
		Blocks: []steps.Block{steps.CommandBlock(lang, transport.Cmd{Argv: []string{"p4dctl", p.verb(), p.Name}})},
	}
}

func (p *P4dctl) Plan() steps.Plan {
	return steps.Plan{
		Check: steps.Ops(p.status()),
		Apply: steps.Ops(p.change()),
	}
}

func (p *P4dctl) status() transport.Cmd {
	return steps.Parsed(transport.Cmd{Argv: []string{"p4dctl", "status", p.Name}})
}

// Destructive: stopping a server is an outage, and on a standby it is the
// first of the steps that rebuild its database, so it is confirmed with
// them, before anything stops.
func (p *P4dctl) Destructive() bool { return p.State == "stopped" }

// Check reads the status line, not only the exit status: p4dctl status
// exits non-zero for a service that is not running, which is an answer,
// not an error, and its "is not running" contains "running". Anything
// else (an unknown service, p4dctl missing) is an error.
func (p *P4dctl) Check(ctx context.Context, env steps.Env) (steps.Status, error) {
	running, out, err := p4dctlRunning(ctx, env, p.Name)
	if err != nil {
		return steps.Status{}, err
	}
	if running == (p.State == "started") {
		return steps.Done("%s", strings.TrimSpace(out)), nil
	}
	return steps.NotDone("%s", strings.TrimSpace(out)), nil
}

// p4dctlRunning asks p4dctl whether service name runs on env's host.
func p4dctlRunning(ctx context.Context, env steps.Env, name string) (bool, string, error) {
	out, err := env.Run(ctx, steps.Parsed(transport.Cmd{Argv: []string{"p4dctl", "status", name}}), nil)
	text := strings.TrimSpace(out)
	switch {
	case strings.Contains(out, " is not running"):
		return false, text, nil
	case err == nil && strings.Contains(out, " is running"):
		return true, text, nil
	case err != nil:
		return false, text, fmt.Errorf("p4dctl status %s: %w", name, err)
	}
	return false, text, fmt.Errorf("p4dctl status %s: neither running nor not running: %q", name, text)
}

func (p *P4dctl) Apply(ctx context.Context, env steps.Env) error {
	return steps.ApplyPlan(ctx, env, p)
}

func (p *P4dctl) change() transport.Cmd {
	return transport.Cmd{Argv: []string{"p4dctl", p.verb(), p.Name}}
}

func (p *P4dctl) Verify(ctx context.Context, env steps.Env) error {
	return steps.VerifyByCheck(ctx, env, p)
}
