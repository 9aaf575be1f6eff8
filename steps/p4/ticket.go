package p4

import (
	"strings"

	"tejun/steps"
	"tejun/transport"
)

// Ticket checks the replication ticket file: present, owned by the OS user
// the service runs as, and readable by nobody else. It changes nothing.
type Ticket struct {
	Path  string   `toml:"path"`
	Owner string   `toml:"owner"`
	Modes []string `toml:"modes"`
}

func (t *Ticket) Validate() []steps.Problem {
	return steps.Require("p4.ticket", "path", t.Path, "owner", t.Owner)
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

func (t *Ticket) Plan() steps.Plan {
	return steps.Plan{Check: steps.Ops(transport.Cmd{Argv: []string{"stat", "-c", "%U %a %s", "--", t.Path}})}
}
