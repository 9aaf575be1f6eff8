package render

import (
	"strings"

	"tejun/runbook"
	"tejun/steps"
)

// Procedure is the manual as the dry-run prints it, for renderers that
// print the same document filled in (the run report): sharing the one
// builder keeps the report's sections, numbers and markers identical to
// the procedure the reviewer approved.
type Procedure struct {
	Title string
	// Hosts lists the hosts the procedure works on: name, SSH target,
	// roles, jump host.
	Hosts    [][]string
	Sections []Section
}

// Section is one heading of the manual with its host marker.
type Section struct {
	Heading string
	Notes   []string
	Steps   []Step
}

// Step is one numbered step: what a person does, per host group.
type Step struct {
	ID     string
	Number string // ① or (1) in English
	Title  string
	Notes  []string
	Parts  []Part
}

// Part is what a person does on some hosts ("" when on the step's one
// host or on all of its hosts alike).
type Part struct {
	Hosts  string
	Blocks []steps.Block
}

// Build returns the procedure of b as Write would print it.
func Build(b *runbook.Binding, o Options) Procedure {
	if o.Lang == "" {
		o.Lang = "ja"
	}
	d := build(b, o)
	p := Procedure{Title: d.title, Hosts: d.hosts}
	// build walks the runbook's sections and steps in order, so the i-th
	// built step is the runbook's i-th.
	for i, sec := range d.sections {
		ps := Section{Heading: sec.heading, Notes: sec.notes}
		for j, st := range sec.steps {
			ps.Steps = append(ps.Steps, st.exported(b.Runbook.Sections[i].Steps[j].ID))
		}
		p.Sections = append(p.Sections, ps)
	}
	return p
}

// Fenced is a Markdown code block no line of lines can close early.
func Fenced(lang string, lines []string) string {
	var b strings.Builder
	fenced(&b, lang, lines)
	return b.String()
}

// Escape makes s plain text in Markdown (GFM).
func Escape(s string) string { return mdEscape(s) }
