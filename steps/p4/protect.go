package p4

import "tejun/steps"

// Protect adds one line to the protections table if it is not there. The
// table is edited, never written fresh: replacing it is how a runbook locks
// every other user out.
type Protect struct {
	Conn
	Line string `toml:"line"`
}

func (p *Protect) Validate() []steps.Problem {
	ps := p.Conn.Validate()
	if len(splitFields(p.Line)) < 4 {
		ps = append(ps, steps.Problem{Key: "line", Msg: "protections line " + p.Line + ": want MODE user|group NAME HOST PATH"})
	}
	return ps
}

func splitFields(s string) []string {
	var out []string
	cur := ""
	for _, r := range s {
		if r == ' ' || r == '\t' {
			if cur != "" {
				out = append(out, cur)
			}
			cur = ""
			continue
		}
		cur += string(r)
	}
	if cur != "" {
		out = append(out, cur)
	}
	return out
}

func (p *Protect) Describe(lang string) steps.Description {
	return steps.Description{
		Notes: append(p.notes(lang), steps.T(lang,
			"既にある行と順序はそのままに、この行が無ければ末尾に追加します",
			"Appended if absent; every existing line and its order stay")),
		Blocks: []steps.Block{
			steps.CommandBlock(lang, p.manual("protect")),
			{Heading: steps.T(lang, "追加する行", "Line added"), Lines: []string{p.Line}, Code: steps.Literal},
		},
	}
}

func (p *Protect) Plan() steps.Plan {
	in := p.exec("protect", "-i")
	in.Stdin = "protections table (from protect -o, line above appended)"
	return steps.Plan{Check: steps.Ops(p.exec("protect", "-o")), Apply: steps.Ops(in)}
}
