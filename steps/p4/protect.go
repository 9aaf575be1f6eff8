package p4

import (
	"context"
	"strings"

	"tejun/steps"
)

// Protect adds one line to the protections table if it is not there. The
// table is edited, never written fresh: replacing it is how a runbook locks
// every other user out.
type Protect struct {
	Conn
	Line string `toml:"line" doc:"The protections line that must be in the table: MODE user|group NAME HOST PATH."`
}

func (p *Protect) Validate() []steps.Problem {
	ps := p.Conn.Validate()
	if len(strings.Fields(p.Line)) < 4 {
		ps = append(ps, steps.Problem{Key: "line", Msg: "protections line " + p.Line + ": want MODE user|group NAME HOST PATH"})
	}
	return ps
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

func (p *Protect) Plan() steps.Plan { return p.Conn.learnt(p.plan()) }

func (p *Protect) plan() steps.Plan {
	in := p.exec("protect", "-i")
	in.Stdin = "protections table (from protect -o, line above appended)"
	in.StdinJa = "保護テーブル（protect -o の出力に上の行を追加したもの）"
	return steps.Plan{Check: p.checks(p.exec("protect", "-o")), Apply: steps.Ops(p.exec("protect", "-o"), in)}
}

func normalize(line string) string { return strings.Join(strings.Fields(line), " ") }

func (p *Protect) has(table string) bool {
	for _, l := range parseForm(table).list("Protections") {
		if normalize(l) == normalize(p.Line) {
			return true
		}
	}
	return false
}

func (p *Protect) Check(ctx context.Context, env steps.Env) (steps.Status, error) {
	out, err := p.run(ctx, env, p.exec("protect", "-o"), "")
	if err != nil {
		return steps.Status{}, err
	}
	if p.has(out) {
		return steps.Done("the protections table has %q", p.Line), nil
	}
	return steps.NotDone("%q is not in the protections table", p.Line), nil
}

// Apply appends the line to the table as it is: never a fresh table.
func (p *Protect) Apply(ctx context.Context, env steps.Env) error {
	out, err := p.run(ctx, env, p.exec("protect", "-o"), "")
	if err != nil {
		return err
	}
	f := parseForm(out)
	fl := f.get("Protections")
	if fl == nil {
		f.fields = append(f.fields, field{name: "Protections", multi: true})
		fl = &f.fields[len(f.fields)-1]
	}
	fl.list = append(fl.list, p.Line)
	fl.multi = true
	_, err = p.run(ctx, env, p.exec("protect", "-i"), f.String())
	return err
}

func (p *Protect) Verify(ctx context.Context, env steps.Env) error {
	return steps.VerifyByCheck(ctx, env, p)
}
