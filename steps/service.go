package steps

import (
	"context"

	"tejun/transport"
)

// Service starts or stops a systemd unit and enables or disables it,
// checking its state first so a running service is not restarted.
type Service struct {
	Name  string `toml:"name"`
	State string `toml:"state"` // started, stopped, or "" to leave as is
	// Enabled, when set, makes the unit start (or not) at boot.
	Enabled *bool `toml:"enabled"`
}

func (s *Service) Validate() []Problem {
	ps := Require("service", "name", s.Name)
	switch s.State {
	case "", "started", "stopped":
	default:
		ps = append(ps, Problem{"state", "state " + s.State + ": want started or stopped"})
	}
	if s.State == "" && s.Enabled == nil {
		ps = append(ps, Problem{"state", "service needs state or enabled"})
	}
	return ps
}

func (s *Service) systemctl(args ...string) transport.Cmd {
	return transport.Cmd{Argv: append([]string{"systemctl"}, append(args, s.Name)...)}
}

func (s *Service) changes() []transport.Cmd {
	var c []transport.Cmd
	switch s.State {
	case "started":
		c = append(c, s.systemctl("start"))
	case "stopped":
		c = append(c, s.systemctl("stop"))
	}
	if s.Enabled != nil {
		if *s.Enabled {
			c = append(c, s.systemctl("enable"))
		} else {
			c = append(c, s.systemctl("disable"))
		}
	}
	return c
}

func (s *Service) Describe(lang string) Description {
	return Description{
		Notes:  []string{T(lang, "既にその状態であれば作業不要です", "Nothing to do if already in that state")},
		Blocks: []Block{CommandBlock(lang, s.changes()...)},
	}
}

func (s *Service) Plan() Plan {
	return Plan{Check: Ops(s.systemctl("is-active"), s.systemctl("is-enabled")), Apply: Ops(s.changes()...)}
}

// state asks systemctl; is-active and is-enabled answer by exit status.
func (s *Service) state(ctx context.Context, env Env) (active, enabled bool, err error) {
	_, err = env.Run(ctx, s.systemctl("is-active"), nil)
	if err != nil && exitCode(err) < 0 {
		return false, false, err
	}
	active = err == nil
	_, err = env.Run(ctx, s.systemctl("is-enabled"), nil)
	if err != nil && exitCode(err) < 0 {
		return false, false, err
	}
	return active, err == nil, nil
}

func (s *Service) Check(ctx context.Context, env Env) (Status, error) {
	active, enabled, err := s.state(ctx, env)
	if err != nil {
		return Status{}, err
	}
	if s.State == "started" && !active {
		return NotDone("%s is not running", s.Name), nil
	}
	if s.State == "stopped" && active {
		return NotDone("%s is running", s.Name), nil
	}
	if s.Enabled != nil && *s.Enabled != enabled {
		return NotDone("%s enabled=%v", s.Name, enabled), nil
	}
	return Done("%s is as wanted", s.Name), nil
}

func (s *Service) Apply(ctx context.Context, env Env) error {
	active, enabled, err := s.state(ctx, env)
	if err != nil {
		return err
	}
	for _, c := range s.changes() {
		verb := c.Argv[1]
		if verb == "start" && active || verb == "stop" && !active || verb == "enable" && enabled || verb == "disable" && !enabled {
			continue
		}
		if _, err := env.Run(ctx, c, nil); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) Verify(ctx context.Context, env Env) error { return VerifyByCheck(ctx, env, s) }
