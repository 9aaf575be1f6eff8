package p4

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"tejun/steps"
	"tejun/transport"
)

// Pull waits until the replica's journal position equals the master's, as
// reported by pull -lj on the replica. A master sequence of -1 means the
// replica cannot pull from its master (its service user's ticket, or the
// master out of reach): that fails after a short patience instead of
// waiting out every retry.
//
// As a done_when guard it must tell "not replicating" it is sure of from
// "cannot tell": Settled reports a "not done" on positive evidence (the
// server answers and is no replica; nothing answers and Root holds no
// database of ServerID), on which the rebuild it guards may go ahead.
type Pull struct {
	Conn
	// Root and ServerID are the replica's P4ROOT and server ID, looked at
	// when no server answers on the port.
	Root     string `toml:"root"`
	ServerID string `toml:"server_id"`

	ticketFailures int // consecutive checks that saw the login problem
	settled        bool
}

// ticketPatience is how many checks in a row must see replication failing
// to log in before it is a failure: right after the service login the pull
// thread still reports the error from before, until its next retry.
const ticketPatience = 3

// Settled: the last "not done" rests on positive evidence.
func (p *Pull) Settled() bool { return p.settled }

func (p *Pull) Waits() {}

// Validate: root reaches find, which takes a starting point such as
// "-delete" for its expression, so it must be absolute.
func (p *Pull) Validate() []steps.Problem {
	return append(p.Conn.Validate(), steps.Absolute("root", p.Root)...)
}

func (p *Pull) Describe(lang string) steps.Description {
	return steps.Description{
		Notes: append(p.notes(lang), steps.T(lang,
			"\"Sequence\"が同じ数値になれば同期完了です",
			"Replication has caught up when both Sequence numbers are equal")),
		Blocks: []steps.Block{steps.CommandBlock(lang, p.manual("pull", "-lj"))},
	}
}

func (p *Pull) Plan() steps.Plan { return p.Conn.learnt(p.plan()) }

func (p *Pull) plan() steps.Plan {
	cmds := []transport.Cmd{p.ztag("pull", "-lj")}
	if p.Root != "" {
		cmds = append(cmds, p.findDB(), p.catID())
	}
	return steps.Plan{Check: p.checks(cmds...)}
}

func (p *Pull) findDB() transport.Cmd {
	return steps.Parsed(transport.Cmd{Argv: []string{"find", steps.FindPath(p.Root), "-maxdepth", "1", "-name", "db.*", "-print", "-quit"}})
}

func (p *Pull) catID() transport.Cmd {
	return steps.Parsed(transport.Cmd{Argv: []string{"cat", "--", p.Root + "/server.id"}})
}

// ErrTicket is replication failing to log in to the master: waiting will
// not fix it.
var ErrTicket = errors.New("replication cannot log in to the master: the service user's ticket (P4TICKETS) is missing, unreadable by the server's OS user, or its password is wrong (or the standby cannot reach the master at all)")

func (p *Pull) Check(ctx context.Context, env steps.Env) (steps.Status, error) {
	p.settled = false
	cmd := p.ztag("pull", "-lj")
	out, err := p.run(ctx, env, cmd, "")
	switch {
	case err != nil && ticketRefused(err):
		// tejun's own credential, not the replication's: p.run has
		// already logged in again (or had no password to do it with).
		return steps.Status{}, fmt.Errorf("%s's own ticket (%s) is refused by %s, so replication cannot be checked: %s",
			p.User, p.Tickets, p.Port, strings.TrimSpace(stderrOf(err)))
	case err != nil && strings.Contains(stderrOf(err), "only valid on a replica"):
		p.settled = true
		return steps.NotDone("the server on %s answers and is not a replica", p.Port), nil
	case err != nil && refused(err):
		return p.nothingAnswers(ctx, env, err)
	case err != nil:
		// Only a replica behind its master is worth waiting for; a server
		// that does not answer properly will not become one by waiting.
		return steps.Status{}, err
	}
	recs := ztag(out)
	if len(recs) == 0 {
		return steps.Status{}, fmt.Errorf("pull -lj printed no journal state:\n%s", out)
	}
	r := recs[0]
	var pos [4]string
	for i, name := range []string{"replicaJournalNumber", "replicaJournalSequence", "masterJournalNumber", "masterJournalSequence"} {
		if pos[i], err = tagField(r, name, cmd.String(), out); err != nil {
			return steps.Status{}, err
		}
	}
	if pos[3] == "-1" {
		return p.ticketProblem(ErrTicket)
	}
	p.ticketFailures = 0
	replica, master := pos[0]+"/"+pos[1], pos[2]+"/"+pos[3]
	if replica == master {
		return steps.Done("journal %s on both", replica), nil
	}
	return steps.NotDone("replica at %s, master at %s", replica, master), nil
}

// refused: nothing listens on the port (p4's "Connect to server failed"
// with the system's "Connection refused").
func refused(err error) bool {
	return strings.Contains(stderrOf(err), "Connection refused")
}

// nothingAnswers looks at the replica's root: no root, no database, or a
// database of another server is positive evidence that nothing replicates
// here; this server's database with its p4d silent (stopped, restarting)
// cannot be told from a healthy standby, so it is an error.
func (p *Pull) nothingAnswers(ctx context.Context, env steps.Env, cause error) (steps.Status, error) {
	if p.Root == "" {
		return steps.Status{}, cause
	}
	out, err := env.Run(ctx, p.findDB(), nil)
	if err != nil {
		if strings.Contains(stderrOf(err), "No such file or directory") {
			p.settled = true
			return steps.NotDone("no server answers on %s and %s does not exist", p.Port, p.Root), nil
		}
		return steps.Status{}, err
	}
	if strings.TrimSpace(out) == "" {
		p.settled = true
		return steps.NotDone("no server answers on %s and %s holds no database", p.Port, p.Root), nil
	}
	id, err := env.Run(ctx, p.catID(), nil)
	if err != nil && !strings.Contains(stderrOf(err), "No such file or directory") {
		return steps.Status{}, err
	}
	if id = strings.TrimSpace(id); p.ServerID != "" && id != p.ServerID {
		p.settled = true
		return steps.NotDone("no server answers on %s and the database in %s is not %s's (server.id %q)", p.Port, p.Root, p.ServerID, id), nil
	}
	return steps.Status{}, fmt.Errorf("no server answers on %s, but %s holds %s's database: a stopped or restarting standby cannot be told from a broken one. Start it (p4dctl start) and run again; to rebuild it anyway, stop it and remove its db.* yourself", p.Port, p.Root, p.ServerID)
}

func (p *Pull) ticketProblem(err error) (steps.Status, error) {
	if p.ticketFailures++; p.ticketFailures >= ticketPatience {
		return steps.Status{}, err
	}
	return steps.NotDone("replication cannot log in to the master yet; checking again"), nil
}

func (p *Pull) Apply(ctx context.Context, env steps.Env) error { return nil }
