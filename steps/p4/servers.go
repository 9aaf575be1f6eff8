package p4

import (
	"context"
	"fmt"

	"tejun/steps"
)

// Servers compares journal positions with servers -J on the master: the
// standby's must equal the master's, and after the flip the standby's line
// must end in "mandatory".
type Servers struct {
	Conn
	Master    string `toml:"master" doc:"The master's server ID, whose line of servers -J is compared."`
	Standby   string `toml:"standby" doc:"The standby's server ID, whose journal position must equal the master's."`
	Mandatory bool   `toml:"mandatory" doc:"Also requires the standby's line to end in mandatory (after the flip)."`
}

func (s *Servers) Validate() []steps.Problem {
	ps := s.Conn.Validate()
	if s.Master == "" || s.Standby == "" {
		ps = append(ps, steps.Problem{Key: "standby", Msg: "p4.servers needs master and standby server IDs"})
	}
	return ps
}

func (s *Servers) Waits() {}

func (s *Servers) Describe(lang string) steps.Description {
	want := steps.T(lang,
		s.Master+" と "+s.Standby+" のジャーナル位置が一致すること",
		"the journal positions of "+s.Master+" and "+s.Standby+" are equal")
	if s.Mandatory {
		want += steps.T(lang, "、"+s.Standby+" の行末に mandatory と表示されること", "; the "+s.Standby+" line ends in mandatory")
	}
	return steps.Description{
		Notes: s.notes(lang),
		Blocks: []steps.Block{
			steps.CommandBlock(lang, s.manual("servers", "-J")),
			{Heading: steps.T(lang, "確認する内容", "Expected"), Lines: []string{want}},
		},
	}
}

func (s *Servers) Plan() steps.Plan { return s.Conn.learnt(s.plan()) }

func (s *Servers) plan() steps.Plan {
	return steps.Plan{Check: s.checks(s.ztag("servers", "-J"))}
}

func (s *Servers) Check(ctx context.Context, env steps.Env) (steps.Status, error) {
	out, err := s.run(ctx, env, s.ztag("servers", "-J"), "")
	if err != nil {
		return steps.Status{}, err
	}
	var master, standby map[string]string
	for _, r := range ztag(out) {
		switch r["serverid"] {
		case s.Master:
			master = r
		case s.Standby:
			standby = r
		}
	}
	if master == nil {
		return steps.Status{}, fmt.Errorf("servers -J does not show %s", s.Master)
	}
	if standby == nil {
		return steps.NotDone("%s has not reported a journal position yet", s.Standby), nil
	}
	m := master["persistedjnl"] + "/" + master["persistedpos"]
	st := standby["persistedjnl"] + "/" + standby["persistedpos"]
	if m != st {
		return steps.NotDone("%s at %s, %s at %s", s.Standby, st, s.Master, m), nil
	}
	if s.Mandatory && standby["serveroptions"] != "mandatory" {
		return steps.NotDone("%s is not shown as mandatory", s.Standby), nil
	}
	return steps.Done("%s and %s at %s", s.Master, s.Standby, m), nil
}

func (s *Servers) Apply(ctx context.Context, env steps.Env) error { return nil }
