package p4

import (
	"context"
	"fmt"
	"path"
	"strings"

	"tejun/steps"
	"tejun/transport"
)

// Checkpoint takes a checkpoint for seeding a replica. The file is
// PREFIX.ckp.N where the server picks N (the journal counter), so the real
// name is read back from the server and handed to later steps as outputs
// "file" and "path".
type Checkpoint struct {
	Conn
	Prefix string `toml:"prefix" doc:"The checkpoint's name before .ckp.N (p4d -jc -Z PREFIX); relative to root unless absolute."`
	// Root is the server's P4ROOT, where a relative prefix lands.
	Root string `toml:"root" tejun:"path" doc:"The server's P4ROOT, where a relative prefix lands."`

	produced map[string]string
	stale    string // a checkpoint of the current journal older than db.config
}

func (c *Checkpoint) Validate() []steps.Problem {
	ps := c.Conn.Validate()
	if c.Prefix == "" {
		ps = append(ps, steps.Problem{Key: "prefix", Msg: "p4.checkpoint needs prefix"})
	}
	ps = append(ps, steps.NotOption("prefix", c.Prefix)...)
	ps = append(ps, steps.Absolute("root", c.Root)...)
	if c.Root == "" && !path.IsAbs(c.Prefix) {
		ps = append(ps, steps.Problem{Key: "root", Msg: "p4.checkpoint needs root (P4ROOT) to find a relative prefix"})
	}
	return ps
}

func (c *Checkpoint) dir() string {
	if path.IsAbs(c.Prefix) {
		return path.Dir(c.Prefix)
	}
	return path.Join(c.Root, path.Dir(c.Prefix))
}

func (c *Checkpoint) outputs(n string) map[string]string {
	f := path.Base(c.Prefix) + ".ckp." + n
	return map[string]string{"file": f, "path": path.Join(c.dir(), f)}
}

// Outputs are what the dry-run shows: the server picks N.
func (c *Checkpoint) Outputs() map[string]string { return c.outputs("N") }

// Produced is the checkpoint that exists, once Check or Apply found it.
func (c *Checkpoint) Produced() map[string]string { return c.produced }

// current finds PREFIX.ckp.J for the journal counter J: the checkpoint
// taken at the last rotation, which is still current.
func (c *Checkpoint) current(ctx context.Context, env steps.Env) (map[string]string, error) {
	out, err := c.run(ctx, env, c.ztag("counter", "journal"), "")
	if err != nil {
		return nil, err
	}
	recs := ztag(out)
	if len(recs) == 0 || recs[0]["value"] == "" || recs[0]["value"] == "0" {
		return nil, nil
	}
	o := c.outputs(recs[0]["value"])
	if _, err := env.Run(ctx, transport.Cmd{Argv: []string{"test", "-f", o["path"]}}, nil); err != nil {
		if _, ok := err.(*transport.ExitError); ok {
			return nil, nil
		}
		return nil, err
	}
	if c.Root != "" {
		// A checkpoint older than db.config lacks a configurable set since
		// (the standby's P4TARGET of a failback, whose seed checkpoint of
		// the first build sits in the new master's root under the current
		// journal's number): seeding from it would point the new standby
		// at the wrong server. p4d writes db.config when a configurable
		// changes, so its mtime says.
		_, err := env.Run(ctx, c.staleCmd(o["path"]), nil)
		if err == nil {
			c.stale = o["file"]
			return nil, nil
		}
		if ee, ok := err.(*transport.ExitError); !ok || ee.Code != 1 {
			return nil, err
		}
	}
	return o, nil
}

// staleCmd exits 0 when db.config is newer than the checkpoint at path.
func (c *Checkpoint) staleCmd(path string) transport.Cmd {
	return transport.Cmd{Argv: []string{"test", c.Root + "/db.config", "-nt", path}}
}

// Check: a checkpoint for the current journal already exists, so taking
// another would only rotate the journal again.
func (c *Checkpoint) Check(ctx context.Context, env steps.Env) (steps.Status, error) {
	c.stale = ""
	o, err := c.current(ctx, env)
	if err == nil && o == nil && c.stale != "" {
		return steps.NotDone("%s predates a configuration change (db.config is newer): a new checkpoint is needed", c.stale), nil
	}
	if err != nil || o == nil {
		return steps.NotDone("no checkpoint of the current journal"), err
	}
	c.produced = o
	return steps.Done("%s is the current checkpoint", o["file"]), nil
}

func (c *Checkpoint) Apply(ctx context.Context, env steps.Env) error {
	if _, err := c.run(ctx, env, c.exec("admin", "checkpoint", c.Prefix), ""); err != nil {
		return err
	}
	o, err := c.current(ctx, env)
	if err != nil {
		return err
	}
	if o == nil {
		return fmt.Errorf("the server reported no checkpoint file for the new journal")
	}
	sum, err := env.Run(ctx, steps.Parsed(transport.Cmd{Argv: []string{"sha256sum", "--", o["path"]}}), nil)
	if err != nil {
		return err
	}
	if f := strings.Fields(sum); len(f) > 0 {
		o["sha256"] = f[0]
	}
	c.produced = o
	return nil
}

func (c *Checkpoint) Describe(lang string) steps.Description {
	out := c.Outputs()["path"]
	return steps.Description{
		Notes: append(c.notes(lang), steps.T(lang,
			"チェックポイントファイル "+out+" が作成されます（N はサーバが決める番号です）",
			"Creates the checkpoint file "+out+" (the server picks N)")),
		Blocks: []steps.Block{steps.CommandBlock(lang, c.manual("admin", "checkpoint", c.Prefix))},
	}
}

// ckpN is the checkpoint's number in a plan: `p4 admin checkpoint [prefix]`
// writes prefix.ckp.N, N being the journal counter the server holds when
// it runs (p4 help admin; Helix Core Server Administrator Guide, "Checkpoint
// files": "The checkpoint file is named ... ckp.n, where n is the
// checkpoint number"), so the commands that look for it name a number only
// the server knows.
var ckpN = steps.Chosen{Word: "ckp.N", Pattern: `ckp\.[0-9]+`}

func (c *Checkpoint) Plan() steps.Plan {
	p := c.Conn.learnt(c.plan())
	p.Check, p.Apply = steps.Choosing(p.Check, ckpN), steps.Choosing(p.Apply, ckpN)
	return p
}

func (c *Checkpoint) plan() steps.Plan {
	current := transport.Cmd{Argv: []string{"test", "-f", c.Outputs()["path"]}}
	checks := []transport.Cmd{c.ztag("counter", "journal"), current}
	if c.Root != "" {
		checks = append(checks, c.staleCmd(c.Outputs()["path"]))
	}
	return steps.Plan{
		Check: c.checks(checks...),
		Apply: steps.Ops(append(append([]transport.Cmd{c.exec("admin", "checkpoint", c.Prefix)}, checks...),
			steps.Parsed(transport.Cmd{Argv: []string{"sha256sum", "--", c.Outputs()["path"]}}))...),
	}
}
