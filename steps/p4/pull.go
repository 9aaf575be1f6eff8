package p4

import "tejun/steps"

// Pull waits until the replica's journal position equals the master's, as
// reported by pull -lj on the replica. A master sequence of -1 means the
// service user's ticket is bad: that fails at once instead of waiting.
type Pull struct {
	Conn
}

func (p *Pull) Waits() {}

func (p *Pull) Describe(lang string) steps.Description {
	return steps.Description{
		Notes: append(p.notes(lang), steps.T(lang,
			"\"Sequence\"が同じ数値になれば同期完了です",
			"Replication has caught up when both Sequence numbers are equal")),
		Blocks: []steps.Block{steps.CommandBlock(lang, p.manual("pull", "-lj"))},
	}
}

func (p *Pull) Plan() steps.Plan {
	return steps.Plan{Check: steps.Ops(p.ztag("pull", "-lj"))}
}
