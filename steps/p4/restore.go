package p4

import (
	"tejun/steps"
	"tejun/transport"
)

// Restore loads a checkpoint into an empty P4ROOT (p4d -jr) as the OS owner,
// so the db.* files it creates belong to the user the service runs as.
type Restore struct {
	steps.RunAs
	Root       string `toml:"root"`
	Checkpoint string `toml:"checkpoint"`
}

func (r *Restore) Validate() []steps.Problem {
	var ps []steps.Problem
	if r.Root == "" {
		ps = append(ps, steps.Problem{Key: "root", Msg: "p4.restore needs root"})
	}
	if r.Checkpoint == "" {
		ps = append(ps, steps.Problem{Key: "checkpoint", Msg: "p4.restore needs checkpoint"})
	}
	return ps
}

func (r *Restore) cmd(args ...string) transport.Cmd {
	return transport.Cmd{Argv: append([]string{"p4d", "-r", r.Root}, args...), User: r.Become}
}

func (r *Restore) Describe(lang string) steps.Description {
	d := steps.Description{
		Notes: []string{steps.T(lang,
			"コマンド実行後、db.ファイルが作成されたことを確認します",
			"Afterwards, confirm that db. files were created")},
		Blocks: []steps.Block{steps.CommandBlock(lang, r.cmd("-jr", r.Checkpoint))},
	}
	if r.Become != "" {
		d.Notes = append(d.Notes, steps.AsUser(lang, r.Become))
	}
	return d
}

func (r *Restore) Plan() steps.Plan {
	return steps.Plan{
		Check: steps.Ops(transport.Cmd{Argv: []string{"find", r.Root, "-mindepth", "1", "-maxdepth", "1", "-name", "db.*", "-printf", "%u %f\n"}}),
		Apply: steps.Ops(r.cmd("-jr", r.Checkpoint)),
	}
}
