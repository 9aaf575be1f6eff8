package p4

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"tejun/steps"
)

// Pull waits until the replica's journal position equals the master's, as
// reported by pull -lj on the replica. A master sequence of -1 means the
// service user's ticket is bad: that fails at once instead of waiting.
type Pull struct {
	Conn

	ticketFailures int // consecutive checks that saw the login problem
}

// ticketPatience is how many checks in a row must see replication failing
// to log in before it is a failure: right after the service login the pull
// thread still reports the error from before, until its next retry.
const ticketPatience = 3

func (p *Pull) Waits() {}

func (p *Pull) Describe(lang string) steps.Description {
	return steps.Description{
		Notes: append(p.notes(lang), steps.T(lang,
			"\"Sequence\"が同じ数値になれば同期完了です",
			"Replication has caught up when both Sequence numbers are equal")),
		Blocks: []steps.Block{steps.CommandBlock(lang, p.manual("pull", "-lj"))},
	}
}

func (p *Pull) Plan() steps.Plan {
	return steps.Plan{Check: p.checks(p.ztag("pull", "-lj"))}
}

// ErrTicket is replication failing to log in to the master: waiting will
// not fix it.
var ErrTicket = errors.New("replication cannot log in to the master: the service user's ticket (P4TICKETS) is missing, unreadable by the server's OS user, or its password is wrong")

func (p *Pull) Check(ctx context.Context, env steps.Env) (steps.Status, error) {
	out, err := p.run(ctx, env, p.ztag("pull", "-lj"), "")
	if err != nil && strings.Contains(stderrOf(err), "P4PASSWD") {
		return p.ticketProblem(fmt.Errorf("%w: %s", ErrTicket, strings.TrimSpace(stderrOf(err))))
	}
	// Only a replica behind its master is worth waiting for; a server that
	// does not answer or is no replica will not become one by waiting.
	if err != nil {
		return steps.Status{}, err
	}
	recs := ztag(out)
	if len(recs) == 0 {
		return steps.Status{}, fmt.Errorf("pull -lj printed no journal state")
	}
	r := recs[0]
	if r["masterjournalsequence"] == "-1" {
		return p.ticketProblem(ErrTicket)
	}
	p.ticketFailures = 0
	replica := r["replicajournalnumber"] + "/" + r["replicajournalsequence"]
	master := r["masterjournalnumber"] + "/" + r["masterjournalsequence"]
	if replica == master {
		return steps.Done("journal %s on both", replica), nil
	}
	return steps.NotDone("replica at %s, master at %s", replica, master), nil
}

func (p *Pull) ticketProblem(err error) (steps.Status, error) {
	if p.ticketFailures++; p.ticketFailures >= ticketPatience {
		return steps.Status{}, err
	}
	return steps.NotDone("replication cannot log in to the master yet; checking again"), nil
}

func (p *Pull) Apply(ctx context.Context, env steps.Env) error { return nil }
