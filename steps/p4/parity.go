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

	produced map[string]string
}

// Outputs: the client charset the servers want, "none" until the master's
// p4 -ztag info says it runs in unicode mode ("utf8" then). p4 info needs
// no charset, so it can ask before anything else is sent.
func (p *Parity) Outputs() map[string]string { return map[string]string{"charset": "none"} }

func (p *Parity) Produced() map[string]string { return p.produced }

func (p *Parity) Validate() []steps.Problem {
	return append(p.Conn.Validate(), steps.Require("p4.parity", "port", p.Port, "standby", p.Standby)...)
}

func (p *Parity) HostParams() map[string]string { return map[string]string{"standby": p.Standby} }

func (p *Parity) Waits() {}

func (p *Parity) Describe(lang string) steps.Description {
	return steps.Description{
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
}

func (p *Parity) Plan() steps.Plan { return p.Conn.learnt(p.plan()) }

func (p *Parity) plan() steps.Plan {
	// The login the info may need, as every p4 check lists it (plan
	// mode's gate refused it before, and --show-exec did not show it).
	return steps.Plan{Check: append(p.checks(p.ztag("info")),
		steps.Op{Host: p.Standby, Cmd: version()},
		steps.Op{Host: p.Standby, Cmd: zone()},
	)}
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
		return steps.Status{}, err
	}
	recs := ztag(out)
	if len(recs) == 0 {
		return steps.Status{}, fmt.Errorf("p4 info printed nothing")
	}
	info := recs[0]
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
