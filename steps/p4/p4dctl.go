package p4

import (
	"context"
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
		Apply: steps.Ops(transport.Cmd{Argv: []string{"p4dctl", p.verb(), p.Name}}),
	}
}

func (p *P4dctl) status() transport.Cmd {
	return transport.Cmd{Argv: []string{"p4dctl", "status", p.Name}}
}

func (p *P4dctl) Check(ctx context.Context, env steps.Env) (steps.Status, error) {
	out, err := env.Run(ctx, p.status(), nil)
	if err != nil {
		return steps.Status{}, err
	}
	running := strings.Contains(out, " is running")
	if running == (p.State == "started") {
		return steps.Done("%s", strings.TrimSpace(out)), nil
	}
	return steps.NotDone("%s", strings.TrimSpace(out)), nil
}

func (p *P4dctl) Apply(ctx context.Context, env steps.Env) error {
	_, err := env.Run(ctx, transport.Cmd{Argv: []string{"p4dctl", p.verb(), p.Name}}, nil)
	return err
}

func (p *P4dctl) Verify(ctx context.Context, env steps.Env) error {
	return steps.VerifyByCheck(ctx, env, p)
}
