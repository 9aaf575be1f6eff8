package p4

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"tejun/steps"
	"tejun/transport"
)

// Parity checks, before building, what the HA manual and the failover
// chapter require of a master and its standby: the same p4d release and
// the same time zone, and monitoring enabled on the master (p4 failover
// needs it on whichever server is the standby afterwards). It changes
// nothing.
type Parity struct {
	Conn
	// Standby is the inventory host of the standby, whose p4d binary and
	// clock are compared with the running master's.
	Standby string `toml:"standby" doc:"The standby's inventory host, whose p4d binary and clock are compared with the master's."`
	// MasterServerID is the server ID the inventory gives the master
	// role. With it the check proves, before anything changes, that the
	// server on port IS that master (p4 -ztag info: ServerID and a
	// master's services), and that the standby role's server
	// (StandbyPort) is not it: after a failover the pair is the other way
	// round, and a build that forgot --swap-roles would otherwise take the
	// new master for the standby to rebuild.
	MasterServerID string `toml:"master_server_id" doc:"The server ID the inventory gives the master role: the server on port must be that master before anything changes."`
	// StandbyPort is the standby role's server, read with p4 info (no
	// login needed): nothing listening there is a standby not yet built,
	// another server ID one to be rebuilt, the master's ID refused.
	StandbyPort string `toml:"standby_port" doc:"The standby role's P4PORT, read with p4 info: it must not be the master (a failback that forgot --swap-roles)."`

	produced map[string]string
}

// Outputs: the client charset the servers want, "none" until the master's
// p4 -ztag info says it runs in unicode mode ("utf8" then). p4 info needs
// no charset, so it can ask before anything else is sent.
func (p *Parity) Outputs() map[string]string { return map[string]string{"charset": "none"} }

func (p *Parity) Produced() map[string]string { return p.produced }

func (p *Parity) Validate() []steps.Problem {
	ps := append(p.Conn.Validate(), steps.Require("p4.parity", "port", p.Port, "standby", p.Standby)...)
	if p.StandbyPort != "" && p.MasterServerID == "" {
		ps = append(ps, steps.Problem{Key: "standby_port", Msg: "standby_port needs master_server_id: it is read to tell a standby from the master"})
	}
	return ps
}

// swapHint is what an operator who forgot the failback's role swap reads.
const swapHint = "if the pair failed over, the roles are now the other way round: run with --swap-roles master,standby (failback); otherwise fix the inventory"

// masterServices are the services of a server that is a master (the
// Command Reference's p4 server, Services: standard or commit-server);
// a standby, replica or edge is none.
func masterServices(s string) bool { return s == "standard" || s == "commit-server" }

// infoOn reads p4 -ztag info on port: ServerID and serverServices.
// p4 info needs no login, so no ticket is made for it.
func (p *Parity) infoOn(ctx context.Context, env steps.Env, port string) (id, services string, err error) {
	c := p.standbyInfo()
	c.Port = port
	cmd := c.ztag("info")
	out, err := c.run(ctx, env, cmd, "")
	if err != nil {
		return "", "", err
	}
	recs := ztag(out)
	if len(recs) == 0 {
		return "", "", fmt.Errorf("p4 info on %s printed nothing", port)
	}
	if id, err = tagField(recs[0], "ServerID", cmd.String(), out); err != nil {
		return "", "", err
	}
	services, err = tagField(recs[0], "serverServices", cmd.String(), out)
	return id, services, err
}

// roles proves the master role's server is the master and the standby
// role's is not (error otherwise, naming --swap-roles). master is the
// master port's p4 -ztag info record, nil when nothing listens there.
func (p *Parity) roles(ctx context.Context, env steps.Env, master map[string]string, cause error) error {
	if p.MasterServerID == "" {
		return cause
	}
	if master != nil {
		id, svc := tagValue(master, "ServerID"), tagValue(master, "serverServices")
		if id != p.MasterServerID || !masterServices(svc) {
			return fmt.Errorf("the server on %s (role master) is ServerID %s with services %s, not the master %s: %s", p.Port, id, svc, p.MasterServerID, swapHint)
		}
	}
	if p.StandbyPort == "" {
		return cause
	}
	id, svc, err := p.infoOn(ctx, env, p.StandbyPort)
	switch {
	case err != nil && refused(err):
		// Not built yet, or stopped: the build makes it.
	case err != nil:
		if cause != nil {
			return cause
		}
		return fmt.Errorf("cannot tell what the standby role's server on %s is (p4 info: %s), so the build does not start", p.StandbyPort, strings.TrimSpace(stderrOf(err)))
	case id == p.MasterServerID:
		what := "is the master"
		if master == nil {
			what = "is the master, and nothing answers on " + p.Port + " (role master)"
		}
		return fmt.Errorf("the server on %s (role standby) is ServerID %s with services %s: it %s: %s", p.StandbyPort, id, svc, what, swapHint)
	}
	return cause
}

// tagValue reads a tagged field case-insensitively ("" when absent).
func tagValue(rec map[string]string, name string) string {
	v, _ := tagField(rec, name, "", "")
	return v
}

func (p *Parity) HostParams() map[string]string { return map[string]string{"standby": p.Standby} }

func (p *Parity) Waits() {}

func (p *Parity) Describe(lang string) steps.Description {
	d := steps.Description{
		Notes: append(p.notes(lang), steps.T(lang,
			"p4 info の unicode が enabled なら、以降の p4 コマンドは -C utf8 を付けて実行します（unicode サーバは文字セットの無いクライアントを拒否します）",
			"If p4 info shows unicode enabled, later p4 commands run with -C utf8 (a unicode server refuses clients without a charset)")),
		Blocks: []steps.Block{
			steps.CommandBlock(lang, p.manual("-ztag", "info")),
			onHost(lang, p.Standby, steps.CommandBlock(lang, transport.Cmd{Argv: []string{"p4d", "-V"}}, transport.Cmd{Argv: []string{"date", "+%z"}})),
			{Heading: steps.T(lang, "確認する内容", "Expected"), Lines: []string{
				steps.T(lang, "マスターと "+p.Standby+" の p4d のリリースが同じであること", "the master's and "+p.Standby+"'s p4d releases are the same"),
				steps.T(lang, "マスターと "+p.Standby+" のタイムゾーンが同じであること", "the master and "+p.Standby+" are in the same time zone"),
				steps.T(lang, "マスターで monitor が有効であること", "monitoring is enabled on the master"),
			}},
		},
	}
	if p.MasterServerID != "" {
		exp := &d.Blocks[len(d.Blocks)-1]
		exp.Lines = append([]string{steps.T(lang,
			p.Port+" のサーバが ServerID "+p.MasterServerID+"（services が commit-server か standard）のマスターであること",
			"the server on "+p.Port+" is the master, ServerID "+p.MasterServerID+" (services commit-server or standard)")}, exp.Lines...)
		if p.StandbyPort != "" {
			exp.Lines = append(exp.Lines, steps.T(lang,
				p.StandbyPort+" のサーバ（スタンバイ）がマスター "+p.MasterServerID+" ではないこと（未構築で応答しないのは可）。フェイルオーバー後で役割が逆になっていれば --swap-roles master,standby を指定するよう求めて止まります",
				"the server on "+p.StandbyPort+" (the standby) is not the master "+p.MasterServerID+" (none answering, not built yet, is fine); after a failover, with the roles the other way round, the run stops and asks for --swap-roles master,standby"))
		}
	}
	return d
}

func (p *Parity) Plan() steps.Plan { return p.Conn.learnt(p.plan()) }

func (p *Parity) plan() steps.Plan {
	// The login the info may need, as every p4 check lists it (plan
	// mode's gate refused it before, and --show-exec did not show it).
	check := p.checks(p.ztag("info"))
	if p.StandbyPort != "" && p.MasterServerID != "" {
		check = append(check, steps.Op{Cmd: p.standbyInfo().ztag("info")})
	}
	return steps.Plan{Check: append(check,
		steps.Op{Host: p.Standby, Cmd: version()},
		steps.Op{Host: p.Standby, Cmd: zone()},
	)}
}

// standbyInfo reaches the standby role's server, without tejun's ticket
// file: p4 info needs no login.
func (p *Parity) standbyInfo() Conn {
	return Conn{RunAs: p.RunAs, Port: p.StandbyPort, User: p.User, Charset: p.Charset}
}

// version and zone are read on the standby; both outputs are parsed.
func version() transport.Cmd { return steps.Parsed(transport.Cmd{Argv: []string{"p4d", "-V"}}) }
func zone() transport.Cmd    { return steps.Parsed(transport.Cmd{Argv: []string{"date", "+%z"}}) }

var release = regexp.MustCompile(`P4D/[^/]+/([0-9]+\.[0-9]+)/`)

// tzSeconds reads date +%z ("+0900").
func tzSeconds(z string) (int, error) {
	z = strings.TrimSpace(z)
	if len(z) != 5 {
		return 0, fmt.Errorf("unexpected time zone %q", z)
	}
	h, err1 := strconv.Atoi(z[1:3])
	m, err2 := strconv.Atoi(z[3:5])
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("unexpected time zone %q", z)
	}
	s := h*3600 + m*60
	if z[0] == '-' {
		s = -s
	}
	return s, nil
}

func (p *Parity) Check(ctx context.Context, env steps.Env) (steps.Status, error) {
	out, err := p.run(ctx, env, p.ztag("info"), "")
	if err != nil {
		if refused(err) {
			return steps.Status{}, p.roles(ctx, env, nil, err)
		}
		return steps.Status{}, err
	}
	recs := ztag(out)
	if len(recs) == 0 {
		return steps.Status{}, fmt.Errorf("p4 info printed nothing")
	}
	info := recs[0]
	if err := p.roles(ctx, env, info, nil); err != nil {
		return steps.Status{}, err
	}
	p.produced = map[string]string{"charset": "none"}
	if info["unicode"] == "enabled" {
		p.produced["charset"] = "utf8"
	}
	standby, err := env.On(p.Standby)
	if err != nil {
		return steps.Status{}, err
	}
	v, err := standby.Run(ctx, version(), nil)
	if err != nil {
		return steps.Status{}, err
	}
	z, err := standby.Run(ctx, zone(), nil)
	if err != nil {
		return steps.Status{}, err
	}
	var problems []string
	mr, sr := release.FindStringSubmatch(info["serverversion"]), release.FindStringSubmatch(v)
	switch {
	case mr == nil || sr == nil:
		problems = append(problems, fmt.Sprintf("cannot read the p4d releases (%q, %q)", info["serverversion"], strings.TrimSpace(v)))
	case mr[1] != sr[1]:
		problems = append(problems, fmt.Sprintf("p4d %s on the master, %s on %s", mr[1], sr[1], p.Standby))
	}
	tz, err := tzSeconds(z)
	if err != nil {
		return steps.Status{}, err
	}
	if info["tzoffset"] != strconv.Itoa(tz) {
		problems = append(problems, fmt.Sprintf("time zone offset %ss on the master, %ds on %s", info["tzoffset"], tz, p.Standby))
	}
	if info["monitor"] != "enabled" {
		problems = append(problems, "monitoring is not enabled on the master (p4 configure set monitor=1): p4 failover needs it once the master becomes the standby")
	}
	if len(problems) > 0 {
		return steps.Status{}, fmt.Errorf("the servers do not meet the failover preconditions: %s", strings.Join(problems, "; "))
	}
	return steps.Done("same p4d %s and time zone; monitor enabled", mr[1]), nil
}

func (p *Parity) Apply(ctx context.Context, env steps.Env) error { return nil }

// onHost marks a block whose commands run on another host than the step's.
func onHost(lang, host string, b steps.Block) steps.Block {
	b.Heading += steps.T(lang, "（"+host+" で実行）", " (on "+host+")")
	return b
}
