package steps

import (
	"context"
	"regexp"

	"tejun/transport"
)

// Service starts or stops a systemd unit and enables or disables it,
// checking its state first so a running service is not restarted.
type Service struct {
	Name  string `toml:"name" doc:"The systemd unit."`
	State string `toml:"state" doc:"started or stopped; unset leaves it as it is."` // started, stopped, or "" to leave as is
	// Enabled, when set, makes the unit start (or not) at boot.
	Enabled *bool `toml:"enabled" doc:"Whether the unit starts at boot; unset leaves it as it is."`
}

func (s *Service) Validate() []Problem {
	ps := Require("service", "name", s.Name)
	if s.Name != "" && !unitName.MatchString(s.Name) {
		ps = append(ps, Problem{"name", "service " + s.Name + " is not a systemd unit name (letters, digits, :_.@- and \\, not starting with -)"})
	}
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

// unitName is systemd's character set for unit names (unit_name_is_valid);
// a leading "-" would be an option.
var unitName = regexp.MustCompile(`^[A-Za-z0-9:_.@\\][A-Za-z0-9:_.@\\-]{0,254}$`)

func (s *Service) systemctl(verb string) transport.Cmd {
	return transport.Cmd{Argv: []string{"systemctl", verb, "--", s.Name}}
}

// changes are the commands that make the change; the manual's form has no
// "--" (Validate already refused a name that needs it).
func (s *Service) changes(manual bool) []transport.Cmd {
	var verbs []string
	switch s.State {
	case "started":
		verbs = append(verbs, "start")
	case "stopped":
		verbs = append(verbs, "stop")
	}
	if s.Enabled != nil {
		if *s.Enabled {
			verbs = append(verbs, "enable")
		} else {
			verbs = append(verbs, "disable")
		}
	}
	var c []transport.Cmd
	for _, v := range verbs {
		if manual {
			c = append(c, transport.Cmd{Argv: []string{"systemctl", v, s.Name}})
		} else {
			c = append(c, s.systemctl(v))
		}
	}
	return c
}

func (s *Service) Describe(lang string) Description {
	return Description{
		Notes:  []string{T(lang, "既にその状態であれば作業不要です", "Nothing to do if already in that state")},
		Blocks: []Block{CommandBlock(lang, s.changes(true)...)},
	}
}

func (s *Service) Plan() Plan {
	return Plan{Check: Ops(s.systemctl("is-active"), s.systemctl("is-enabled")), Apply: Ops(s.changes(false)...)}
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
	// The plan's commands, less those whose state already holds.
	for _, op := range s.Plan().Apply {
		c := op.Cmd
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
