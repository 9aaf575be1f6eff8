package steps

import (
	"context"

	"tejun/transport"
)

// Command runs a program. Argv is the safe form: each element reaches the
// program as one argument. Shell is for a line the author wrote as shell on
// purpose (pipes, redirections); templated values in it are quoted.
type Command struct {
	RunAs
	Argv  []string `toml:"argv" doc:"The command and its arguments, each one word: nothing is split or expanded by a shell."`
	Shell string   `toml:"shell" tejun:"shell" doc:"A shell script to run instead of argv, for pipes and redirections; template values in it are quoted."`
	// Creates skips the command when this path exists, like Ansible's creates.
	Creates string `toml:"creates" tejun:"path" doc:"A path on the host: when it exists the command is taken as done and not run (as Ansible's creates)."`
	// Unless skips the command when this check command succeeds.
	Unless []string `toml:"unless" doc:"A read-only check command: when it succeeds the step is done and the command does not run."`
	// OnlyIf runs the command only when this check command succeeds.
	OnlyIf []string `toml:"only_if" doc:"A read-only check command: the command runs only when it succeeds."`
	// ReadOnly declares that the command changes nothing, so it may run in
	// plan mode and counts as done once it succeeds.
	ReadOnly bool `toml:"read_only" doc:"Says the command changes nothing, so plan runs it and a success counts as done."`
}

func (c *Command) Validate() []Problem {
	var ps []Problem
	switch {
	case len(c.Argv) == 0 && c.Shell == "":
		ps = append(ps, Problem{"argv", "a command needs argv or shell"})
	case len(c.Argv) > 0 && c.Shell != "":
		ps = append(ps, Problem{"shell", "give argv or shell, not both"})
	}
	ps = append(ps, Absolute("creates", c.Creates)...)
	if c.ReadOnly && (c.Creates != "" || len(c.Unless) > 0) {
		ps = append(ps, Problem{"read_only", "a read-only command needs no creates/unless guard"})
	}
	return ps
}

func (c *Command) cmd() transport.Cmd {
	return transport.Cmd{Argv: c.Argv, Shell: c.Shell, User: c.Become}
}

func (c *Command) Describe(lang string) Description {
	d := Description{Blocks: []Block{CommandBlock(lang, c.cmd())}}
	if c.Creates != "" {
		d.Notes = append(d.Notes, T(lang, c.Creates+" が既にあれば作業不要です", "Nothing to do if "+c.Creates+" exists"))
	}
	if len(c.Unless) > 0 {
		d.Notes = append(d.Notes, T(lang, "次が成功すれば作業不要です: ", "Nothing to do if this succeeds: ")+ManualLine(transport.Cmd{Argv: c.Unless}))
	}
	if len(c.OnlyIf) > 0 {
		d.Notes = append(d.Notes, T(lang, "次が成功する場合のみ実行します: ", "Run only if this succeeds: ")+ManualLine(transport.Cmd{Argv: c.OnlyIf}))
	}
	return d
}

func (c *Command) Plan() Plan {
	var p Plan
	if c.Creates != "" {
		p.Check = append(p.Check, Ops(c.creates())...)
	}
	if len(c.Unless) > 0 {
		p.Check = append(p.Check, Ops(c.As(transport.Cmd{Argv: c.Unless})...)...)
	}
	if len(c.OnlyIf) > 0 {
		p.Check = append(p.Check, Ops(c.As(transport.Cmd{Argv: c.OnlyIf})...)...)
	}
	if c.ReadOnly {
		p.Check = append(p.Check, Ops(c.cmd())...)
	} else {
		p.Apply = Ops(c.cmd())
	}
	return p
}

func (c *Command) creates() transport.Cmd {
	return transport.Cmd{Argv: []string{"test", "-e", c.Creates}}
}

// Check runs the guards: creates and unless make the command unnecessary,
// a failing only_if makes it inapplicable. A read-only command is its own
// check.
func (c *Command) Check(ctx context.Context, env Env) (Status, error) {
	if c.Creates != "" {
		_, err := env.Run(ctx, c.creates(), nil)
		if err == nil {
			return Done("%s exists", c.Creates), nil
		}
		if exitCode(err) != 1 {
			return Status{}, err
		}
	}
	if len(c.Unless) > 0 {
		if _, err := env.Run(ctx, c.As(transport.Cmd{Argv: c.Unless})[0], nil); err == nil {
			return Done("unless: %s succeeded", c.Unless[0]), nil
		} else if exitCode(err) < 0 {
			return Status{}, err
		}
	}
	if len(c.OnlyIf) > 0 {
		if _, err := env.Run(ctx, c.As(transport.Cmd{Argv: c.OnlyIf})[0], nil); err != nil {
			if exitCode(err) < 0 {
				return Status{}, err
			}
			return Done("only_if: %s failed, nothing to do", c.OnlyIf[0]), nil
		}
	}
	if c.ReadOnly {
		if _, err := env.Run(ctx, c.cmd(), nil); err != nil {
			return Status{}, err
		}
		return Done("ran (read-only)"), nil
	}
	return NotDone("will run"), nil
}

func (c *Command) Apply(ctx context.Context, env Env) error { return ApplyPlan(ctx, env, c) }
