package render

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"tejun/runbook"
	"tejun/steps"
)

// Verdict is what a plan says of one step on one host. It is the writer's
// own word, not the walk's status type, so that this package (which must
// not reach the hosts) can print a plan: the plan command translates.
type Verdict int

const (
	Done Verdict = iota
	WillChange
	MayChange
	CouldNotCheck
	NotChecked
)

// PlanLine is one step on one host of a plan (Host "" for a step
// skipped as a whole). Reason is already masked.
type PlanLine struct {
	Step    *runbook.Step
	Host    string
	Verdict Verdict
	Reason  string
}

// PlanOptions say how a plan is printed and what it names.
type PlanOptions struct {
	Lang      string
	Markdown  bool
	Runbook   string // the runbook's path, as the operator gave it
	Inventory string
}

// Word is a verdict as a person reads it (the plan, and its live display).
func (v Verdict) Word(lang string) string {
	words := map[Verdict][2]string{
		Done:          {"作業不要（完了済み）", "already done"},
		WillChange:    {"変更あり", "will change"},
		MayChange:     {"変更の可能性あり", "may change"},
		CouldNotCheck: {"確認できず", "could not check"},
		NotChecked:    {"対象外", "not checked"},
	}
	w := words[v]
	if lang == "en" {
		return w[1]
	}
	return w[0]
}

// WritePlan prints the plan in run order, one line per step and host.
// Hosts finish in any order; the plan lists them in the inventory's order
// for the step, so that two plans of one state read the same and diff
// clean.
func WritePlan(w io.Writer, b *runbook.Binding, o PlanOptions, lines []PlanLine) {
	lang := o.Lang
	byStep := map[string][]PlanLine{}
	for _, e := range lines {
		byStep[e.Step.ID] = append(byStep[e.Step.ID], e)
	}
	for id, evs := range byStep {
		rank := map[string]int{"": -1}
		for i, in := range b.Instances[id] {
			rank[in.Host.Name] = i
		}
		sort.SliceStable(evs, func(i, j int) bool { return rank[evs[i].Host] < rank[evs[j].Host] })
	}
	title := func(st *runbook.Step) string {
		if ins := b.Instances[st.ID]; len(ins) > 0 {
			return ins[0].Title.In(lang)
		}
		return st.ID
	}
	rb := b.Runbook
	if o.Markdown {
		fmt.Fprintf(w, "# %s: plan\n\n", EscapeMarkdownCell(rb.Title.In(lang)))
		// GitHub Flavored Markdown: a table per step and host.
		fmt.Fprintf(w, "%s %s, %s %s\n\n", steps.T(lang, "ランブック", "Runbook"), MarkdownCode(o.Runbook), steps.T(lang, "インベントリ", "inventory"), MarkdownCode(o.Inventory))
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n|---|---|---|---|---|\n", steps.T(lang, "手順", "Step"), steps.T(lang, "内容", "Title"),
			steps.T(lang, "ホスト", "Host"), steps.T(lang, "判定", "Plan"), steps.T(lang, "理由", "Reason"))
	} else {
		fmt.Fprintf(w, "%s: plan (%s, %s)\n\n", rb.Title.In(lang), o.Runbook, o.Inventory)
	}
	verdictW := 12
	for _, v := range []Verdict{Done, WillChange, MayChange, CouldNotCheck, NotChecked} {
		verdictW = max(verdictW, Width(v.Word(lang)))
	}
	counts := map[Verdict]int{}
	for _, st := range rb.Order() {
		for _, e := range byStep[st.ID] {
			counts[e.Verdict]++
			host := e.Host
			if host == "" {
				host = "-"
			}
			if o.Markdown {
				fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", st.LabelIn(lang), EscapeMarkdownCell(title(st)), EscapeMarkdownCell(host), e.Verdict.Word(lang), EscapeMarkdownCell(e.Reason))
			} else {
				// Columns by display width (a Japanese verdict takes two
				// columns a character); a reason of several lines (a diff)
				// goes on under its own column.
				head := PadRight(st.LabelIn(lang), 5) + " " + PadRight(cut(st.ID, 28), 28) + " " +
					PadRight(host, 10) + " " + PadRight(e.Verdict.Word(lang), verdictW) + " "
				fmt.Fprintln(w, head+strings.ReplaceAll(strings.TrimRight(e.Reason, "\n"), "\n", "\n"+strings.Repeat(" ", Width(head))))
			}
		}
	}
	var sum []string
	for _, v := range []Verdict{WillChange, MayChange, Done, CouldNotCheck} {
		if counts[v] > 0 {
			sum = append(sum, fmt.Sprintf("%s %d", v.Word(lang), counts[v]))
		}
	}
	fmt.Fprintf(w, "\n%s\n", strings.Join(sum, ", "))
}

// cut shortens an id to n bytes, ending in an ellipsis.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}
