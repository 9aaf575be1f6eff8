package cli

import (
	"strings"

	"tejun/runbook/mask"
	"tejun/runbook/msg"
	"tejun/runbook/run"
)

// skipped gathers the steps a run skipped, by what caused it, so that a
// failure is said once, on its own line, and its dependents once at the
// end ("skipped: 23 steps after 4-⑤ remove-db failed on standby: ..."),
// not in 23 lines each naming the step just before it.
type skipped struct {
	lang   string
	root   map[string]string // "step@host" skipped: its root cause
	causes []string          // in the order first seen
	failed map[string]bool   // causes that name the step that failed
	items  map[string][]string
	label  func(id string) string
}

func newSkipped(lang string, label func(id string) string) *skipped {
	return &skipped{lang: lang, root: map[string]string{}, items: map[string][]string{}, failed: map[string]bool{}, label: label}
}

// add records a skipped event.
func (s *skipped) add(ev run.Event) {
	cause := s.causeOf(ev)
	s.root[ev.Step.ID+"@"+ev.Host] = cause
	if _, ok := s.items[cause]; !ok {
		s.causes = append(s.causes, cause)
	}
	item := s.label(ev.Step.ID) + " " + ev.Step.ID
	if ev.Host != "" {
		item += " (" + ev.Host + ")"
	}
	s.items[cause] = append(s.items[cause], item)
}

// causeOf follows "upstream step X failed" back through steps that were
// themselves skipped, to the step that failed.
func (s *skipped) causeOf(ev run.Event) string {
	rest, ok := strings.CutPrefix(ev.Reason, "upstream step ")
	if !ok {
		return ev.Reason
	}
	id, host, _ := strings.Cut(rest, " failed")
	host = strings.TrimPrefix(host, " on ")
	for _, k := range []string{id + "@" + host, id + "@" + ev.Host, id + "@"} {
		if c, ok := s.root[k]; ok {
			return c
		}
	}
	c := msg.In(s.lang, msg.SkippedAfter, s.label(id), id)
	if host != "" {
		c = msg.In(s.lang, msg.SkippedAfterOn, s.label(id), id, host)
	}
	s.failed[c] = true
	return c
}

// lines are the skips, one line per cause.
func (s *skipped) lines() []string {
	var out []string
	for _, c := range s.causes {
		items := s.items[c]
		what := msg.Count(s.lang, len(items), msg.OneStep, msg.Steps)
		if !s.failed[c] {
			c = msg.In(s.lang, msg.SkippedBecause, msg.Translate(s.lang, c))
		}
		out = append(out, mask.Visible(msg.In(s.lang, msg.SkippedLine, what, c, strings.Join(items, ", "))))
	}
	return out
}
