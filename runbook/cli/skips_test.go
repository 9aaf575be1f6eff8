package cli

import (
	"reflect"
	"testing"

	"tejun/runbook"
	"tejun/runbook/msg"
	"tejun/runbook/run"
)

// Skips are said once per cause, in the reader's language: the step that
// failed, or tejun's own reason (recorded in English) translated.
func TestSkippedLines(t *testing.T) {
	sec := &runbook.Section{Number: 1}
	breaks, after, next := &runbook.Step{ID: "breaks", Section: sec, Number: 1}, &runbook.Step{ID: "after", Section: sec, Number: 2}, &runbook.Step{ID: "next", Section: sec, Number: 3}
	steps := map[string]*runbook.Step{"breaks": breaks, "after": after, "next": next}
	for lang, want := range map[string][]string{
		"en": {"skipped: 2 steps after 1-1 breaks failed on n1: 1-2 after (n1), 1-3 next (n1)", "skipped: 1 step (interrupted): 1-3 next (n2)"},
		"ja": {"skipped: 2 件（1-① breaks が n1 で失敗したため）: 1-② after (n1), 1-③ next (n1)", "skipped: 1 件（中断されました）: 1-③ next (n2)"},
	} {
		s := newSkipped(lang, func(id string) string { return steps[id].LabelIn(lang) })
		s.add(run.Event{Step: after, Host: "n1", Status: run.Skipped, Reason: msg.En(msg.UpstreamFailedOn, "breaks", "n1")})
		s.add(run.Event{Step: next, Host: "n1", Status: run.Skipped, Reason: msg.En(msg.UpstreamFailedOn, "after", "n1")})
		s.add(run.Event{Step: next, Host: "n2", Status: run.Skipped, Reason: msg.En(msg.Interrupted)})
		if got := s.lines(); !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %q\nwant %q", lang, got, want)
		}
	}
}
