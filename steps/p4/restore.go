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
	return steps.Require("p4.restore", "root", r.Root, "checkpoint", r.Checkpoint)
}

func (r *Restore) cmd(args ...string) transport.Cmd { return p4d(r.Become, r.Root, args...) }

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
