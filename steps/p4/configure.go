package p4

import (
	"context"
	"fmt"
	"strings"

	"tejun/steps"
)

// Configure sets one server's configurable on the master with p4 configure
// set "SERVERID#name=value", the admin guide's after-failover change of
// each replica's and edge's P4TARGET when there is no DNS alias (p4
// configure show allservers, then p4 configure set
// "replica-name#P4TARGET=new-master-server:port-number"). The replica's
// own p4d -cset (p4.target) makes it reach the new master now; this makes
// the master's db.config agree, so that the next checkpoint or reseed of
// that replica does not bring the old master back.
//
// Show "show" prints p4 configure show allservers (the guide's look
// first) and only reports what it finds; "set" (default) makes the
// change. With Alias set P4TARGET names a DNS alias and nothing changes.
type Configure struct {
	Conn
	ServerID string `toml:"server_id" doc:"The server whose configurable to set, as in SERVERID#name=value."`
	Name     string `toml:"name" doc:"The configurable's name (P4TARGET), without server# or =."`
	Value    string `toml:"value" doc:"The value it must have."`
	Alias    string `toml:"alias" doc:"A DNS alias the configurable names: then nothing changes, and the step says to move the alias."`
	// OldTarget: as p4.target's.
	OldTarget string `toml:"old_target" doc:"The old master's own P4PORT: an alias equal to it (or to value) is a machine, not an alias, and is refused."`
	Show      string `toml:"show" doc:"set (default) makes the change; show only prints p4 configure show allservers."`
}

func (c *Configure) Validate() []steps.Problem {
	ps := append(c.Conn.Validate(), steps.Require("p4.configure", "port", c.Port, "user", c.User, "server_id", c.ServerID, "name", c.Name, "value", c.Value)...)
	ps = append(ps, steps.NotOption("server_id", c.ServerID)...)
	if strings.ContainsAny(c.Name, "#= \t\n") {
		ps = append(ps, steps.Problem{Key: "name", Msg: fmt.Sprintf("name %q: a configurable's name, without server# or =", c.Name)})
	}
	switch c.Show {
	case "", "set", "show":
	default:
		ps = append(ps, steps.Problem{Key: "show", Msg: "show " + c.Show + ": want set or show"})
	}
	if strings.EqualFold(c.Name, "P4TARGET") && c.Value != "" {
		ps = append(ps, portProblem("value", c.Value)...)
	}
	return append(ps, aliasProblems(c.Alias, c.OldTarget, c.Value)...)
}

func (c *Configure) setting() string { return c.ServerID + "#" + c.Name + "=" + c.value() }

// value is Value, a P4TARGET in Perforce's P4PORT form (tcp6:[addr]:port).
func (c *Configure) value() string {
	if strings.EqualFold(c.Name, "P4TARGET") {
		return P4Port(c.Value)
	}
	return c.Value
}

func (c *Configure) Describe(lang string) steps.Description {
	notes := c.notes(lang)
	if c.Alias != "" {
		return steps.Description{Notes: append(notes, steps.T(lang,
			c.Name+" はDNSエイリアス "+c.Alias+" を指しているため変更不要です（エイリアスを新しいマスターへ向けます）",
			c.Name+" names the DNS alias "+c.Alias+": nothing to change (point the alias at the new master)"))}
	}
	if c.Show == "show" {
		return steps.Description{
			Notes: append(notes, steps.T(lang,
				"各レプリカ・エッジサーバの "+c.Name+" を確認します（"+c.ServerID+": "+c.Name+" = "+c.Value+" となるよう次の手順で変更します）",
				"Shows every replica's and edge's "+c.Name+" ("+c.ServerID+": "+c.Name+" is set to "+c.Value+" next)")),
			Blocks: []steps.Block{steps.CommandBlock(lang, c.manual("configure", "show", "allservers"))},
		}
	}
	return steps.Description{
		Notes:  append(notes, steps.T(lang, "既に "+c.Value+" であれば作業不要です", "Nothing to do if it is "+c.Value+" already")),
		Blocks: []steps.Block{steps.CommandBlock(lang, c.manual("configure", "set", c.setting()))},
	}
}

func (c *Configure) Plan() steps.Plan { return c.Conn.learnt(c.plan()) }

func (c *Configure) plan() steps.Plan {
	if c.Alias != "" {
		return steps.Plan{}
	}
	if c.Show == "show" {
		return steps.Plan{Check: c.checks(c.ztag("configure", "show", "allservers"))}
	}
	return steps.Plan{
		Check: c.checks(c.ztag("configure", "show", "allservers")),
		Apply: steps.Ops(c.exec("configure", "set", c.setting())),
	}
}

func (c *Configure) Check(ctx context.Context, env steps.Env) (steps.Status, error) {
	if c.Alias != "" {
		return steps.Done("%s names the DNS alias %s", c.Name, c.Alias), nil
	}
	cmd := c.ztag("configure", "show", "allservers")
	out, err := c.run(ctx, env, cmd, "")
	if err != nil {
		return steps.Status{}, err
	}
	cur, found := "", false
	for _, r := range ztag(out) {
		server, err := tagField(r, "ServerName", cmd.String(), out)
		if err != nil {
			return steps.Status{}, err
		}
		name, err := tagField(r, "Name", cmd.String(), out)
		if err != nil {
			return steps.Status{}, err
		}
		if server == c.ServerID && name == c.Name {
			cur, found = r["value"], true
		}
	}
	if c.Show == "show" {
		if !found {
			return steps.Done("%s#%s is not set", c.ServerID, c.Name), nil
		}
		return steps.Done("%s#%s is %s", c.ServerID, c.Name, cur), nil
	}
	switch {
	case found && cur == c.value():
		return steps.Done("%s#%s is %s", c.ServerID, c.Name, cur), nil
	case found:
		return steps.NotDone("%s#%s is %s, want %s", c.ServerID, c.Name, cur, c.value()), nil
	}
	return steps.NotDone("%s#%s is not set", c.ServerID, c.Name), nil
}

func (c *Configure) Apply(ctx context.Context, env steps.Env) error {
	if c.Alias != "" || c.Show == "show" {
		return nil
	}
	_, err := c.run(ctx, env, c.exec("configure", "set", c.setting()), "")
	return err
}

func (c *Configure) Verify(ctx context.Context, env steps.Env) error {
	return steps.VerifyByCheck(ctx, env, c)
}
