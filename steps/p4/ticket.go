package p4

import (
	"context"
	"fmt"
	"strings"

	"tejun/steps"
	"tejun/transport"
)

// Ticket checks the replication ticket file: present, owned by the OS user
// the service runs as, and readable by nobody else. It changes nothing.
type Ticket struct {
	Path  string   `toml:"path" tejun:"path" doc:"The ticket file (P4TICKETS) to check."`
	Owner string   `toml:"owner" doc:"The OS user who must own it: the one the service runs as."`
	Modes []string `toml:"modes" doc:"The permissions accepted, in octal (default 600 and 400)."`
}

func (t *Ticket) Validate() []steps.Problem {
	return append(steps.Require("p4.ticket", "path", t.Path, "owner", t.Owner), steps.Absolute("path", t.Path)...)
}

func (t *Ticket) Waits() {}

func (t *Ticket) modes() []string {
	if len(t.Modes) == 0 {
		return []string{"600", "400"}
	}
	return t.Modes
}

func (t *Ticket) Describe(lang string) steps.Description {
	return steps.Description{
		Blocks: []steps.Block{
			steps.CommandBlock(lang, transport.Cmd{Argv: []string{"ls", "-la", t.Path}}),
			{Heading: steps.T(lang, "確認する内容", "Expected"), Lines: []string{steps.T(lang,
				"所有者 "+t.Owner+"、モード "+strings.Join(t.modes(), " または "),
				"owner "+t.Owner+", mode "+strings.Join(t.modes(), " or "))}},
		},
	}
}

func (t *Ticket) stat() transport.Cmd {
	return steps.Parsed(transport.Cmd{Argv: []string{"stat", "-c", "%U %a %s", "--", t.Path}})
}

func (t *Ticket) Plan() steps.Plan { return steps.Plan{Check: steps.Ops(t.stat())} }

func (t *Ticket) Check(ctx context.Context, env steps.Env) (steps.Status, error) {
	out, err := env.Run(ctx, t.stat(), nil)
	if err != nil {
		if _, ok := err.(*transport.ExitError); ok {
			return steps.NotDone("%s does not exist", t.Path), nil
		}
		return steps.Status{}, err
	}
	f := strings.Fields(out)
	if len(f) != 3 {
		return steps.Status{}, fmt.Errorf("stat %s: %q", t.Path, out)
	}
	if f[0] != t.Owner {
		return steps.NotDone("%s is owned by %s: the replication threads run as %s and cannot read it", t.Path, f[0], t.Owner), nil
	}
	for _, m := range t.modes() {
		if f[1] == m {
			return steps.Done("%s: owner %s, mode %s", t.Path, f[0], f[1]), nil
		}
	}
	return steps.NotDone("%s has mode %s", t.Path, f[1]), nil
}

// Apply has nothing to do: the login step makes the file; this one checks.
func (t *Ticket) Apply(ctx context.Context, env steps.Env) error { return nil }
