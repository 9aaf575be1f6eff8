package p4

import (
	"context"
	"fmt"
	"strings"

	"tejun/steps"
	"tejun/transport"
)

// Target points a replica or edge server at the new master after a
// failover: the HA manual's 参照サーバの変更 changes its P4TARGET with
// p4d -cset on its own root, as the server's OS user, and shows it with
// p4d -cshow. p4d works on db.config directly, so this holds whether or
// not the replica's p4d runs; its pull threads read P4TARGET again when
// they reconnect.
//
// The manual splits the work in three steps on the edge server: look at
// the replication state (pull -lj: "Replica access to P4TARGET server
// failed" means there is no DNS alias), set P4TARGET, show it. Show picks
// which one a step prints; "set" and "show" both ensure the value, so a
// re-run finds either done, and "status" only looks.
//
// With Alias set the replica's P4TARGET names a DNS alias of the master
// (the admin guide recommends one): there is nothing to change on the
// replica, only the alias to move, and the step says so.
type Target struct {
	Conn
	// Root is the replica's P4ROOT; OSUser owns it and runs p4d -c.
	Root     string `toml:"root" tejun:"path" doc:"The replica's P4ROOT, where p4d -cset and -cshow run."`
	OSUser   string `toml:"os_user" doc:"The OS user who owns root and runs p4d -c."`
	ServerID string `toml:"server_id" doc:"The replica whose P4TARGET to set."`
	// NewTarget is the new master's P4PORT.
	NewTarget string `toml:"target" doc:"The new master's P4PORT the replica must pull from."`
	// Alias is the DNS alias the replica's P4TARGET names, HOST:PORT, or
	// "" for none. OldTarget is the old master's own P4PORT (its
	// service_address): an "alias" equal to it names the old master's
	// machine, which does not move, so the replica would be left pulling
	// from a server that is no longer the master.
	Alias     string `toml:"alias" doc:"A DNS alias P4TARGET names: then nothing changes on the replica, and the step says to move the alias."`
	OldTarget string `toml:"old_target" doc:"The old master's own P4PORT: an alias equal to it (or to target) is a machine, not an alias, and is refused."`
	// Show is "status" (pull -lj, ①), "set" (p4d -cset, ②) or "show"
	// (p4d -cshow, ③).
	Show string `toml:"show" doc:"status (pull -lj), set (p4d -cset, the change) or show (p4d -cshow): which of the manual's steps this is."`
}

func (t *Target) Validate() []steps.Problem {
	ps := append(t.Conn.Validate(), steps.Require("p4.target", "root", t.Root, "server_id", t.ServerID, "target", t.NewTarget)...)
	ps = append(ps, steps.Absolute("root", t.Root)...)
	ps = append(ps, steps.NotOption("server_id", t.ServerID)...)
	switch t.Show {
	case "", "set", "show":
	case "status":
		if t.Port == "" || t.User == "" {
			ps = append(ps, steps.Problem{Key: "show", Msg: "show = \"status\" runs p4 pull -lj on the replica: it needs port and user"})
		}
	default:
		ps = append(ps, steps.Problem{Key: "show", Msg: "show " + t.Show + ": want status, set or show"})
	}
	if t.NewTarget != "" {
		ps = append(ps, portProblem("target", t.NewTarget)...)
	}
	return append(ps, aliasProblems(t.Alias, t.OldTarget, t.NewTarget)...)
}

// aliasProblems checks a replica's master_alias: a P4PORT, and not the
// old or new master's own P4PORT, which are machines, not an alias that
// follows the master.
func aliasProblems(alias, oldTarget, newTarget string) []steps.Problem {
	if alias == "" {
		return nil
	}
	if ps := portProblem("alias", alias); ps != nil {
		return ps
	}
	for _, own := range []string{oldTarget, newTarget} {
		if own != "" && P4Port(alias) == P4Port(own) {
			return []steps.Problem{{Key: "alias", Msg: fmt.Sprintf("alias %s is the P4PORT of a machine of the pair (%s), not a DNS alias that follows the master: set master_alias = \"\" so that the replica is repointed", alias, own)}}
		}
	}
	return nil
}

func (t *Target) setting() string { return t.ServerID + "#P4TARGET=" + P4Port(t.NewTarget) }

// cset is the manual's command: -cset and its argument as one word, as
// the manual quotes it ("-cset edge1#P4TARGET=host:port").
func (t *Target) cset() transport.Cmd  { return p4d(t.OSUser, t.Root, "-cset "+t.setting()) }
func (t *Target) cshow() transport.Cmd { return p4d(t.OSUser, t.Root, "-cshow") }

func (t *Target) Describe(lang string) steps.Description {
	if t.Alias != "" {
		return steps.Description{Notes: []string{steps.T(lang,
			"P4TARGET はDNSエイリアス "+t.Alias+" を指しているため、"+t.ServerID+" での対応は不要です（エイリアスを新しいマスター "+t.NewTarget+" へ向けてください）",
			"P4TARGET names the DNS alias "+t.Alias+": nothing to change on "+t.ServerID+" (point the alias at the new master "+t.NewTarget+")")}}
	}
	switch t.Show {
	case "status":
		return steps.Description{
			Notes: append(t.notes(lang), steps.T(lang,
				"\"Replica access to P4TARGET server failed.\" が表示される場合は、DNSのエイリアス設定がされていません（次の手順で P4TARGET を変更します）",
				"\"Replica access to P4TARGET server failed.\" means there is no DNS alias (the next steps change P4TARGET)")),
			Blocks: []steps.Block{steps.CommandBlock(lang, t.manual("pull", "-lj"))},
		}
	case "show":
		d := steps.Description{Blocks: []steps.Block{
			steps.CommandBlock(lang, t.cshow()),
			{Heading: steps.T(lang, "実行結果", "Result"), Lines: []string{t.ServerID + ": P4TARGET = " + P4Port(t.NewTarget)}, Code: steps.Literal},
		}}
		if t.OSUser != "" {
			d.Notes = append(d.Notes, steps.AsUser(lang, t.OSUser))
		}
		return d
	}
	d := steps.Description{
		Notes:  []string{steps.T(lang, "既に "+P4Port(t.NewTarget)+" であれば作業不要です", "Nothing to do if it is "+P4Port(t.NewTarget)+" already")},
		Blocks: []steps.Block{steps.CommandBlock(lang, t.cset())},
	}
	if t.OSUser != "" {
		d.Notes = append(d.Notes, steps.AsUser(lang, t.OSUser))
	}
	return d
}

func (t *Target) Plan() steps.Plan { return t.Conn.learnt(t.plan()) }

func (t *Target) plan() steps.Plan {
	switch {
	case t.Alias != "":
		return steps.Plan{}
	case t.Show == "status":
		return steps.Plan{Check: t.checks(t.ztag("pull", "-lj"))}
	}
	return steps.Plan{Check: steps.Ops(t.cshow()), Apply: steps.Ops(t.cset())}
}

// current is the replica's own P4TARGET as db.config holds it: its
// server's entry, else the any# one.
func (t *Target) current(ctx context.Context, env steps.Env) (string, error) {
	out, err := env.Run(ctx, t.cshow(), nil)
	if err != nil {
		return "", fmt.Errorf("p4d -cshow on %s: %s", t.Root, strings.TrimSpace(stderrOf(err)))
	}
	own, any := "", ""
	for _, line := range strings.Split(out, "\n") {
		server, rest, ok := strings.Cut(strings.TrimSpace(line), ": ")
		if !ok {
			continue
		}
		name, val, ok := strings.Cut(rest, " = ")
		if !ok || name != "P4TARGET" {
			continue
		}
		switch server {
		case t.ServerID:
			own = val
		case "any":
			any = val
		}
	}
	if own == "" {
		return any, nil
	}
	return own, nil
}

func (t *Target) Check(ctx context.Context, env steps.Env) (steps.Status, error) {
	if t.Alias != "" {
		return steps.Done("P4TARGET of %s is the DNS alias %s: move the alias to %s", t.ServerID, t.Alias, t.NewTarget), nil
	}
	if t.Show == "status" {
		return t.status(ctx, env)
	}
	cur, err := t.current(ctx, env)
	if err != nil {
		return steps.Status{}, err
	}
	switch want := P4Port(t.NewTarget); {
	case cur == want:
		return steps.Done("P4TARGET of %s is %s", t.ServerID, cur), nil
	case cur == "":
		return steps.NotDone("%s has no P4TARGET; setting %s", t.ServerID, want), nil
	default:
		return steps.NotDone("P4TARGET of %s is %s, the new master is %s", t.ServerID, cur, want), nil
	}
}

// status reads the replica's journal state and its pull thread's error,
// as the manual's first step shows them; it changes nothing, and fails
// only when the replica cannot say (not a replica, not answering).
func (t *Target) status(ctx context.Context, env steps.Env) (steps.Status, error) {
	out, err := t.run(ctx, env, t.ztag("pull", "-lj"), "")
	if err != nil {
		return steps.Status{}, fmt.Errorf("the replication state of %s cannot be read: %s", t.ServerID, strings.TrimSpace(stderrOf(err)))
	}
	recs := ztag(out)
	if len(recs) == 0 {
		return steps.Status{}, fmt.Errorf("pull -lj printed no journal state:\n%s", out)
	}
	seq, err := tagField(recs[0], "masterJournalSequence", "p4 -ztag pull -lj", out)
	if err != nil {
		return steps.Status{}, err
	}
	rj, _ := tagField(recs[0], "replicaJournalNumber", "", "")
	rs, _ := tagField(recs[0], "replicaJournalSequence", "", "")
	if seq == "-1" {
		return steps.Done("%s at journal %s/%s cannot reach its P4TARGET (no DNS alias): P4TARGET must change", t.ServerID, rj, rs), nil
	}
	return steps.Done("%s at journal %s/%s reaches its P4TARGET", t.ServerID, rj, rs), nil
}

func (t *Target) Apply(ctx context.Context, env steps.Env) error {
	if t.Alias != "" || t.Show == "status" {
		return nil
	}
	_, err := env.Run(ctx, t.cset(), nil)
	return err
}

func (t *Target) Verify(ctx context.Context, env steps.Env) error {
	if t.Alias != "" || t.Show == "status" {
		return nil
	}
	return steps.VerifyByCheck(ctx, env, t)
}
