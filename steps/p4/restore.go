package p4

import (
	"context"
	"fmt"
	"strings"

	"tejun/steps"
	"tejun/transport"
)

// Restore loads a checkpoint into an empty P4ROOT (p4d -jr) as the OS owner,
// so the db.* files it creates belong to the user the service runs as.
type Restore struct {
	steps.RunAs
	Root       string `toml:"root" tejun:"path" doc:"The empty P4ROOT to restore into."`
	Checkpoint string `toml:"checkpoint" tejun:"path" doc:"The checkpoint file to load with p4d -jr."`
}

func (r *Restore) Validate() []steps.Problem {
	ps := steps.Require("p4.restore", "root", r.Root, "checkpoint", r.Checkpoint)
	ps = append(ps, steps.Absolute("root", r.Root)...)
	return append(ps, steps.NotOption("checkpoint", r.Checkpoint)...)
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

func (r *Restore) find() transport.Cmd {
	return steps.Parsed(transport.Cmd{Argv: []string{"find", steps.FindPath(r.Root), "-mindepth", "1", "-maxdepth", "1", "-name", "db.*", "-printf", "%u %f\n"}})
}

func (r *Restore) Plan() steps.Plan {
	return steps.Plan{Check: steps.Ops(r.find()), Apply: steps.Ops(r.cmd("-jr", r.Checkpoint))}
}

// Check: database files present means restored (the restore group's
// earlier steps removed any old ones); files owned by anyone but the
// service's user are a broken restore the service cannot write to.
func (r *Restore) Check(ctx context.Context, env steps.Env) (steps.Status, error) {
	out, err := env.Run(ctx, r.find(), nil)
	if err != nil {
		return steps.Status{}, err
	}
	lines := strings.Fields(strings.TrimSpace(out))
	if len(lines) == 0 {
		return steps.NotDone("no database in %s", r.Root), nil
	}
	for i := 0; i+1 < len(lines); i += 2 {
		if r.Become != "" && lines[i] != r.Become {
			return steps.Status{}, fmt.Errorf("%s/%s is owned by %s: the server (running as %s) cannot write it; remove db.* and restore again", r.Root, lines[i+1], lines[i], r.Become)
		}
	}
	return steps.Done("the database is in %s", r.Root), nil
}

func (r *Restore) Apply(ctx context.Context, env steps.Env) error {
	return steps.ApplyPlan(ctx, env, r)
}

func (r *Restore) Verify(ctx context.Context, env steps.Env) error {
	return steps.VerifyByCheck(ctx, env, r)
}
