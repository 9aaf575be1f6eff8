package p4

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"tejun/steps"
	"tejun/transport"
)

// Pull waits until the replica is replicating from its master, which the
// manual checks with pull -lj on the replica ("Sequence" the same on both
// lines). That alone proves nothing right after a restore: the checkpoint
// leaves both at the journal it rotated to, before the standby has copied
// a byte. So with Master set, the check also asks the master: it reads the
// master's own journal position from servers -J once, at its first check,
// and then waits until the master's servers -J shows this standby's
// journalcopy (persisted) and pull -L (applied) positions at or past it,
// and the standby's own pull -lj has applied it too. servers -J lists only
// a server that "has sent a p4 pull or p4 journalcopy request" (P4 Command
// Reference, p4 servers -J), so its line is the master's word that the
// standby is pulling from it.
//
// A master sequence of -1 in pull -lj means the replica cannot pull from
// its master (its service user's ticket, or the master out of reach): that
// fails after a short patience instead of waiting out every retry.
//
// As a done_when guard it must tell "not replicating" it is sure of from
// "cannot tell": Settled reports a "not done" on positive evidence (the
// server answers and is no replica; nothing answers and Root holds no
// database of ServerID), on which the rebuild it guards may go ahead.
type Pull struct {
	Conn
	// Root and ServerID are the replica's P4ROOT and server ID, looked at
	// when no server answers on the port.
	Root     string `toml:"root" doc:"The replica's P4ROOT, looked at when no server answers on port."`
	ServerID string `toml:"server_id" doc:"The replica's server ID, looked at when no server answers on port."`
	// Master is the inventory host of the master, where servers -J runs
	// against MasterPort; MasterID is the master's server ID, whose line
	// of servers -J is its own journal position. All three or none.
	Master     string `toml:"master" doc:"The master's inventory host, where servers -J proves the replica pulls from it."`
	MasterPort string `toml:"master_port" doc:"The master's P4PORT, for servers -J."`
	MasterID   string `toml:"master_server_id" doc:"The master's server ID, whose servers -J line is its own journal position."`

	target         *jpos // the master's position at the first check
	ticketFailures int   // consecutive checks that saw the login problem
	settled        bool
}

// jpos is a journal position: the journal's number and the byte offset in
// it, compared in that order.
type jpos struct{ jnl, seq int64 }

func (a jpos) less(b jpos) bool {
	return a.jnl < b.jnl || (a.jnl == b.jnl && a.seq < b.seq)
}

func (a jpos) String() string { return fmt.Sprintf("journal %d, sequence %d", a.jnl, a.seq) }

func parsePos(jnl, seq, what string) (jpos, error) {
	j, err1 := strconv.ParseInt(jnl, 10, 64)
	s, err2 := strconv.ParseInt(seq, 10, 64)
	if err1 != nil || err2 != nil {
		return jpos{}, fmt.Errorf("%s: journal position %q/%q is not a number", what, jnl, seq)
	}
	return jpos{j, s}, nil
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
	ps := append(p.Conn.Validate(), steps.Absolute("root", p.Root)...)
	if set := p.Master != "" || p.MasterPort != "" || p.MasterID != ""; set && (p.Master == "" || p.MasterPort == "" || p.MasterID == "" || p.ServerID == "") {
		ps = append(ps, steps.Problem{Key: "master", Msg: "master, master_port and master_server_id go together, with server_id: the master's servers -J is read for the standby's line"})
	}
	return ps
}

func (p *Pull) HostParams() map[string]string {
	if p.Master == "" {
		return nil
	}
	return map[string]string{"master": p.Master}
}

// masterConn reaches the master the way the step reaches the standby: the
// same user, ticket file and secret, on the master's host and port.
func (p *Pull) masterConn() Conn {
	c := p.Conn
	c.Port, c.EnvInManual = p.MasterPort, false
	return c
}

func (p *Pull) Describe(lang string) steps.Description {
	d := steps.Description{
		Notes: append(p.notes(lang), steps.T(lang,
			"\"Sequence\"が同じ数値になれば同期完了です",
			"Replication has caught up when both Sequence numbers are equal")),
		Blocks: []steps.Block{steps.CommandBlock(lang, p.manual("pull", "-lj"))},
	}
	if p.Master == "" {
		return d
	}
	d.Notes = append(d.Notes, steps.T(lang,
		"チェックポイント直後は両方の Sequence が同じでも同期の証明になりません。tejun は確認開始時のマスターのジャーナル位置を記録し、マスターの p4 servers -J に "+p.ServerID+" の journalcopy（persisted）と pull -L（applied）の位置がそこまで進んだと表示されるまで待ちます",
		"Right after the checkpoint both Sequence numbers are equal without proving anything: tejun records the master's journal position when the check begins, and waits until the master's p4 servers -J shows "+p.ServerID+"'s journalcopy (persisted) and pull -L (applied) positions at or past it"))
	d.Blocks = append(d.Blocks,
		onHost(lang, p.Master, steps.CommandBlock(lang, p.masterConn().manual("servers", "-J"))),
		steps.Block{Heading: steps.T(lang, "確認する内容", "Expected"), Lines: []string{
			steps.T(lang,
				"マスターの p4 servers -J に "+p.ServerID+" の行があり、その persisted と applied の位置が確認開始時の "+p.MasterID+" の位置以上であること",
				"the master's p4 servers -J has a line for "+p.ServerID+" whose persisted and applied positions are at or past "+p.MasterID+"'s position when the check began"),
			steps.T(lang,
				"pull -lj の replica の位置も同じ位置以上であること",
				"pull -lj's replica position is at or past it too"),
		}})
	return d
}

func (p *Pull) Plan() steps.Plan { return p.Conn.learnt(p.plan()) }

func (p *Pull) plan() steps.Plan {
	cmds := []transport.Cmd{p.ztag("pull", "-lj")}
	if p.Root != "" {
		cmds = append(cmds, p.findDB(), p.catID())
	}
	ops := p.checks(cmds...)
	if p.Master != "" {
		for _, op := range p.masterConn().checks(p.masterConn().ztag("servers", "-J")) {
			op.Host = p.Master
			ops = append(ops, op)
		}
	}
	return steps.Plan{Check: ops}
}

func (p *Pull) findDB() transport.Cmd {
	return steps.Parsed(transport.Cmd{Argv: []string{"find", steps.FindPath(p.Root), "-maxdepth", "1", "-name", "db.*", "-print", "-quit"}})
}

func (p *Pull) catID() transport.Cmd {
	return steps.Parsed(transport.Cmd{Argv: []string{"cat", "--", p.Root + "/server.id"}})
}

// errReplicationLogin is replication failing to log in to the master:
// waiting will not fix it. It is the service user's credential, on the
// standby, that fails, not tejun's.
func errReplicationLogin(relayed string) error {
	msg := "replication cannot log in to the master: the service user's ticket (P4TICKETS) is missing, expired, unreadable by the server's OS user, or its password is wrong (or the standby cannot reach the master at all)"
	if relayed = strings.TrimSpace(relayed); relayed != "" {
		msg += "; pull -lj reports: " + relayed
	}
	msg += ". Log the service user in again on the standby, into the P4TICKETS file of its server spec (in the HA runbook: --from service-login)"
	return errors.New(msg)
}

// pullState is the record of pull -lj's tagged output that holds the
// journal state, nil when there is none.
func pullState(out string) map[string]string {
	for _, r := range ztag(out) {
		if _, ok := r["masterjournalsequence"]; ok {
			return r
		}
	}
	return nil
}

func (p *Pull) Check(ctx context.Context, env steps.Env) (steps.Status, error) {
	p.settled = false
	cmd := p.ztag("pull", "-lj")
	out, err := p.run(ctx, env, cmd, "")
	r := pullState(out)
	// A pull -lj that prints its journal state ran: an error beside it is
	// the replication's own, relayed from the master (the service user's
	// ticket refused there: p4prometheus's comments show "Perforce
	// password (P4PASSWD) invalid or unset." above a full tagged record
	// with masterJournalSequence -1). Only a refusal with no state is
	// this step's own credential, tejun's ticket for User on the standby.
	switch {
	case r != nil:
	case err != nil && ticketRefused(err):
		// p.run has already logged in again (or had no password to do it with).
		return steps.Status{}, fmt.Errorf("%s's own ticket on %s (tejun's ticket file %s on this host) is refused, so replication cannot be checked; this is not the service user's replication ticket: %s",
			p.User, p.Port, p.Tickets, strings.TrimSpace(stderrOf(err)))
	case err != nil && strings.Contains(stderrOf(err), "only valid on a replica"):
		p.settled = true
		return steps.NotDone("the server on %s answers and is not a replica", p.Port), nil
	case err != nil && refused(err):
		return p.nothingAnswers(ctx, env, err)
	case err != nil:
		// Only a replica behind its master is worth waiting for; a server
		// that does not answer properly will not become one by waiting.
		return steps.Status{}, err
	default:
		return steps.Status{}, fmt.Errorf("pull -lj printed no journal state:\n%s", out)
	}
	relayed := ""
	if err != nil {
		relayed = stderrOf(err)
	}
	var f [4]string
	for i, name := range []string{"replicaJournalNumber", "replicaJournalSequence", "masterJournalNumber", "masterJournalSequence"} {
		if f[i], err = tagField(r, name, cmd.String(), out); err != nil {
			return steps.Status{}, err
		}
	}
	if f[3] == "-1" {
		return p.ticketProblem(errReplicationLogin(relayed))
	}
	p.ticketFailures = 0
	replica, err := parsePos(f[0], f[1], cmd.String())
	if err != nil {
		return steps.Status{}, err
	}
	master, err := parsePos(f[2], f[3], cmd.String())
	if err != nil {
		return steps.Status{}, err
	}
	if p.Master == "" {
		if replica == master {
			return steps.Done("%s on both", replica), nil
		}
		return steps.NotDone("replica at %s, master at %s", replica, master), nil
	}
	return p.masterSays(ctx, env, replica)
}

// masterSays is the master's side of the proof: its journal position when
// the check began, and this standby's persisted and applied positions as
// the master last heard them.
func (p *Pull) masterSays(ctx context.Context, env steps.Env, replica jpos) (steps.Status, error) {
	menv, err := env.On(p.Master)
	if err != nil {
		return steps.Status{}, err
	}
	mc := p.masterConn()
	cmd := mc.ztag("servers", "-J")
	out, err := mc.run(ctx, menv, cmd, "")
	if err != nil {
		// The master not answering says nothing about the standby.
		return steps.Status{}, fmt.Errorf("cannot read the master's journal position on %s: %w", p.MasterPort, err)
	}
	var own, standby map[string]string
	for _, r := range ztag(out) {
		switch r["serverid"] {
		case p.MasterID:
			own = r
		case p.ServerID:
			standby = r
		}
	}
	if own == nil {
		return steps.Status{}, fmt.Errorf("%s: no line for the master %s:\n%s", cmd, p.MasterID, strings.TrimSpace(out))
	}
	field := func(r map[string]string, jn, sn string) (jpos, error) {
		j, err := tagField(r, jn, cmd.String(), out)
		if err != nil {
			return jpos{}, err
		}
		s, err := tagField(r, sn, cmd.String(), out)
		if err != nil {
			return jpos{}, err
		}
		return parsePos(j, s, cmd.String())
	}
	if p.target == nil {
		t, err := field(own, "persistedJnl", "persistedPos")
		if err != nil {
			return steps.Status{}, err
		}
		p.target = &t
	}
	if standby == nil {
		return steps.NotDone("the master %s has not heard from %s yet (no line in servers -J: no journalcopy or pull request from it); waiting for it to reach the master's %s", p.MasterID, p.ServerID, p.target), nil
	}
	copied, err := field(standby, "persistedJnl", "persistedPos")
	if err != nil {
		return steps.Status{}, err
	}
	applied, err := field(standby, "appliedJnl", "appliedPos")
	if err != nil {
		return steps.Status{}, err
	}
	if copied.less(*p.target) || applied.less(*p.target) || replica.less(*p.target) {
		return steps.NotDone("%s has not reached the master's %s (read from %s when the check began): the master shows its journalcopy at %s and pull -L at %s; pull -lj on %s shows %s applied",
			p.ServerID, p.target, p.MasterID, copied, applied, p.ServerID, replica), nil
	}
	return steps.Done("%s replicates from %s: journalcopy at %s, pull -L at %s, past the master's %s when the check began", p.ServerID, p.MasterID, copied, applied, p.target), nil
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
