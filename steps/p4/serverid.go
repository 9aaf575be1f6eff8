package p4

import (
	"context"
	"strings"

	"tejun/steps"
	"tejun/transport"
)

// ServerID writes P4ROOT/server.id with p4d -xD. Run it as the OS owner of
// P4ROOT: a root-owned server.id lets replication work but makes a later
// failover stop the old master and then fail to rewrite the file.
type ServerID struct {
	steps.RunAs
	Root     string `toml:"root" tejun:"path" doc:"The P4ROOT whose server.id to write."`
	ServerID string `toml:"server_id" doc:"The server ID the file must hold."`
}

func (s *ServerID) Validate() []steps.Problem {
	ps := steps.Require("p4.server_id", "root", s.Root, "server_id", s.ServerID)
	ps = append(ps, steps.Absolute("root", s.Root)...)
	return append(ps, steps.NotOption("server_id", s.ServerID)...)
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

func (s *ServerID) stat() transport.Cmd {
	return steps.Parsed(transport.Cmd{Argv: []string{"stat", "-c", "%U", "--", s.Root + "/server.id"}})
}

// remove clears a server.id someone else owns: the owner of P4ROOT may
// delete it, not rewrite it.
func (s *ServerID) remove() transport.Cmd {
	return transport.Cmd{Argv: []string{"rm", "-f", "--", s.Root + "/server.id"}, User: s.Become}
}

func (s *ServerID) Plan() steps.Plan {
	return steps.Plan{
		Check: steps.Ops(s.stat(), s.cmd("-xD")),
		Apply: steps.Ops(s.remove(), s.cmd("-xD", s.ServerID)),
	}
}

// Check wants the right ID in a file the server's owner owns: a root-owned
// server.id replicates fine and breaks the failover later.
func (s *ServerID) Check(ctx context.Context, env steps.Env) (steps.Status, error) {
	owner, err := env.Run(ctx, s.stat(), nil)
	if err != nil {
		if _, ok := err.(*transport.ExitError); ok {
			return steps.NotDone("no server.id"), nil
		}
		return steps.Status{}, err
	}
	out, err := env.Run(ctx, s.cmd("-xD"), nil)
	if err != nil {
		return steps.NotDone("server ID not readable: %v", err), nil
	}
	id := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(out), "Server ID:"))
	switch {
	case id != s.ServerID:
		return steps.NotDone("server ID is %q", id), nil
	case s.Become != "" && strings.TrimSpace(owner) != s.Become:
		return steps.NotDone("server.id is owned by %s, not %s", strings.TrimSpace(owner), s.Become), nil
	}
	return steps.Done("server ID is %s", id), nil
}

func (s *ServerID) Apply(ctx context.Context, env steps.Env) error {
	return steps.ApplyPlan(ctx, env, s)
}

func (s *ServerID) Verify(ctx context.Context, env steps.Env) error {
	return steps.VerifyByCheck(ctx, env, s)
}
