package p4

import (
	"path"

	"tejun/steps"
)

// Checkpoint takes a checkpoint for seeding a replica. The file is
// PREFIX.ckp.N where the server picks N (the journal counter), so the real
// name is read back from the server and handed to later steps as outputs
// "file" and "path".
type Checkpoint struct {
	Conn
	Prefix string `toml:"prefix"`
	// Root is the server's P4ROOT, where a relative prefix lands.
	Root string `toml:"root"`
}

func (c *Checkpoint) Validate() []steps.Problem {
	ps := c.Conn.Validate()
	if c.Prefix == "" {
		ps = append(ps, steps.Problem{Key: "prefix", Msg: "p4.checkpoint needs prefix"})
	}
	if c.Root == "" && !path.IsAbs(c.Prefix) {
		ps = append(ps, steps.Problem{Key: "root", Msg: "p4.checkpoint needs root (P4ROOT) to find a relative prefix"})
	}
	return ps
}

func (c *Checkpoint) file() string { return path.Base(c.Prefix) + ".ckp.N" }

func (c *Checkpoint) Outputs() map[string]string {
	dir := path.Dir(c.Prefix)
	if !path.IsAbs(c.Prefix) {
		dir = path.Join(c.Root, dir)
	}
	return map[string]string{"file": c.file(), "path": path.Join(dir, c.file())}
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

func (c *Checkpoint) Plan() steps.Plan {
	return steps.Plan{
		Check: steps.Ops(c.ztag("counter", "journal")),
		Apply: steps.Ops(c.exec("admin", "checkpoint", c.Prefix), c.ztag("counter", "journal")),
	}
}
