package p4

import "tejun/steps"

// Failover runs p4 failover on the standby: a preview without Yes, the real
// thing with it. MasterID (-s) is for a master that takes no part because it
// is down; tejun refuses it unless the master is provably unreachable and the
// standby is mandatory, since two live masters (split brain) lose data.
type Failover struct {
	Conn
	Yes      bool   `toml:"yes"`
	MasterID string `toml:"master_id"`
}

func (f *Failover) Validate() []steps.Problem { return f.Conn.Validate() }

// Destructive: a real failover stops the old master.
func (f *Failover) Destructive() bool { return f.Yes }

func (f *Failover) args() []string {
	a := []string{"failover"}
	if f.MasterID != "" {
		a = append(a, "-s", f.MasterID)
	}
	if f.Yes {
		a = append(a, "-y")
	}
	return a
}

func (f *Failover) Describe(lang string) steps.Description {
	d := steps.Description{Notes: f.notes(lang), Blocks: []steps.Block{steps.CommandBlock(lang, f.manual(f.args()...))}}
	if f.Yes {
		d.Notes = append(d.Notes, steps.T(lang,
			"自動的にPerforceサーバが再起動され、マスターサーバへと切り替わります",
			"The Perforce server restarts by itself and becomes the master server"))
	} else {
		d.Notes = append(d.Notes, steps.T(lang,
			"プレビューのみで、フェイルオーバーを妨げる問題が報告されないことを確認します",
			"Preview only: confirms nothing that would prevent failover is reported"))
	}
	if f.MasterID != "" {
		d.Notes = append(d.Notes, steps.T(lang,
			"マスターサーバ("+f.MasterID+")が停止していること、スタンバイが mandatory であることを確認してから実行します",
			"Runs only once the master ("+f.MasterID+") is shown to be down and the standby is mandatory"))
	}
	return d
}

func (f *Failover) Plan() steps.Plan {
	preview := &Failover{Conn: f.Conn, MasterID: f.MasterID}
	p := steps.Plan{Check: steps.Ops(f.ztag("info"), f.exec(preview.args()...))}
	if f.Yes {
		p.Apply = steps.Ops(f.exec(f.args()...), f.ztag("info"))
	}
	return p
}
