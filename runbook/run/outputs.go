package run

import (
	"sync"

	"tejun/inventory"
	"tejun/runbook"
	"tejun/steps"
)

// outputs are what the steps of this run found out (the checkpoint's real
// name), and the one place a step is bound with them: every instance the
// run checks or applies is made here, so a step that runs, a done_when
// guard, a manual step's instruction and a producer re-checked for --from
// all see the same values.
type outputs struct {
	b    *runbook.Binding
	mu   sync.Mutex
	real runbook.Outputs
}

func newOutputs(b *runbook.Binding) *outputs { return &outputs{b: b, real: runbook.Outputs{}} }

// bind instantiates st for h with the outputs known now.
func (o *outputs) bind(st *runbook.Step, h *inventory.Host) (*runbook.Instance, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Instantiate(st, h, o.real)
}

// record keeps what a producing step found out for the steps that use it.
// Kinds whose outputs are known before running (a transfer's destination)
// need no Produced.
func (o *outputs) record(st *runbook.Step, step steps.Step) {
	var out map[string]string
	if p, ok := step.(steps.RealProducer); ok {
		out = p.Produced()
	} else if p, ok := step.(steps.Producer); ok {
		out = p.Outputs()
	}
	if out != nil {
		o.mu.Lock()
		o.real[st.ID] = out
		o.mu.Unlock()
	}
}
