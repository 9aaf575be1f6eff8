package render

import (
	"strings"
	"testing"

	"tejun/runbook/runbooktest"
	"tejun/steps"
)

const planRunbook = `
[runbook]
name = "p"
title.en = "Plan test"
[[section]]
id = "s"
on = "r"
title.en = "s"
[[section.step]]
id = "first"
kind = "command"
title.en = "first | step"
argv = ["a"]
[[section.step]]
id = "second"
kind = "command"
title.en = "second"
argv = ["b"]
`

// A plan lists steps in run order and, within a step, hosts in the
// inventory's order whatever order they finished in; a reason of several
// lines goes on under its own column; the summary counts each verdict.
// In Markdown, a cell cannot break the table.
func TestWritePlanOrder(t *testing.T) {
	b := runbooktest.Bind(t, planRunbook, runbooktest.TwoHosts, steps.Generic()...)
	rb := b.Runbook
	lines := []PlanLine{
		{Step: rb.Step("second"), Host: "h2", Verdict: CouldNotCheck, Reason: "no answer"},
		{Step: rb.Step("first"), Host: "h2", Verdict: WillChange, Reason: "line one\nline two"},
		{Step: rb.Step("first"), Host: "h1", Verdict: Done, Reason: "a | b"},
		{Step: rb.Step("second"), Host: "h1", Verdict: MayChange, Reason: "depends"},
	}
	var out strings.Builder
	WritePlan(&out, b, PlanOptions{Lang: "en", Runbook: "rb.toml", Inventory: "inv.toml"}, lines)
	want := `Plan test: plan (rb.toml, inv.toml)

1-1   first                        h1         already done    a | b
1-1   first                        h2         will change     line one
                                                              line two
1-2   second                       h1         may change      depends
1-2   second                       h2         could not check no answer

will change 1, may change 1, already done 1, could not check 1
`
	if out.String() != want {
		t.Errorf("text plan:\n%s\nwant:\n%s", out.String(), want)
	}
	out.Reset()
	WritePlan(&out, b, PlanOptions{Lang: "en", Markdown: true, Runbook: "rb.toml", Inventory: "inv.toml"}, lines)
	if !strings.Contains(out.String(), `| 1-1 | first \| step | h1 | already done | a \| b |`) {
		t.Errorf("Markdown plan does not escape its cells:\n%s", out.String())
	}
}
