package p4

import (
	"tejun/steps"
	"tejun/transport"
)

// ServerID writes P4ROOT/server.id with p4d -xD. Run it as the OS owner of
// P4ROOT: a root-owned server.id lets replication work but makes a later
// failover stop the old master and then fail to rewrite the file.
type ServerID struct {
	steps.RunAs
	Root     string `toml:"root"`
	ServerID string `toml:"server_id"`
}

func (s *ServerID) Validate() []steps.Problem {
	return steps.Require("p4.server_id", "root", s.Root, "server_id", s.ServerID)
}

func (s *ServerID) cmd(args ...string) transport.Cmd { return p4d(s.Become, s.Root, args...) }

func (s *ServerID) Describe(lang string) steps.Description {
	d := steps.Description{
		Notes:  []string{steps.T(lang, "既に指定されている場合は作業不要です", "Nothing to do if already set")},
		Blocks: []steps.Block{steps.CommandBlock(lang, s.cmd("-xD", s.ServerID))},
	}
	if s.Become != "" {
		d.Notes = append(d.Notes, steps.AsUser(lang, s.Become))
	}
	return d
}

func (s *ServerID) Plan() steps.Plan {
	return steps.Plan{
		Check: steps.Ops(transport.Cmd{Argv: []string{"stat", "-c", "%U %a", "--", s.Root + "/server.id"}}, s.cmd("-xD")),
		Apply: steps.Ops(s.cmd("-xD", s.ServerID)),
	}
}
