package render

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/lipgloss"

	"tejun/runbook/mask"
	"tejun/steps"
)

// The manual's sections and steps are written here once, for every
// document that shows them: the dry-run (write.go) adds the commands tejun
// runs, the run report (runbook/report) each step's status, the commands
// run and their output. One writer keeps the report the procedure the
// reviewer approved, line for line.

// TextStyles style the manual's parts in text; without color each
// renders plain text.
type TextStyles struct {
	Section, Step, Heading, Code, Note lipgloss.Style
}

// Text writes the manual as text into B.
type Text struct {
	B      *strings.Builder
	Lang   string
	Styles TextStyles
}

// Line writes one line: values from the inventory and the hosts are made
// visible before styling adds the only escapes that may reach the
// terminal.
func (w Text) Line(st lipgloss.Style, prefix, text string) {
	w.B.WriteString(mask.Visible(prefix) + st.Render(mask.Visible(strings.ReplaceAll(text, "\t", indent))) + "\n")
}

// Section writes a section's heading and notes, after a blank line.
func (w Text) Section(heading string, notes []string) {
	w.B.WriteString("\n")
	w.Line(w.Styles.Section, "", heading)
	for _, n := range notes {
		w.Line(w.Styles.Note, "", PlainProse(n))
	}
}

// Step writes a step's number and title, its notes, and what a person
// does on each group of its hosts, after a blank line.
func (w Text) Step(st Step) {
	s := w.Styles
	w.B.WriteString("\n")
	w.Line(s.Step, "", strings.TrimSpace(st.Number+" "+st.Title))
	for _, n := range st.Notes {
		w.Line(s.Note, "   ", bullet(w.Lang, PlainProse(n)))
	}
	for _, p := range st.Parts {
		if p.Hosts != "" {
			w.B.WriteString("\n")
			w.Line(s.Heading, "   ", "["+p.Hosts+"]")
		}
		for _, bl := range p.Blocks {
			w.B.WriteString("\n")
			if bl.Heading != "" {
				w.Line(s.Heading, "   ", bl.Heading)
			}
			for _, l := range bl.Lines {
				if bl.Code != steps.Prose {
					w.Line(s.Code, "   "+indent, l)
				} else {
					w.Line(lipgloss.Style{}, "   "+indent, PlainProse(l))
				}
			}
		}
	}
}

// Markdown writes the manual as GitHub Flavored Markdown into B. Every
// value is made visible and escaped; code is fenced with a fence no line
// of it can close.
type Markdown struct {
	B    *strings.Builder
	Lang string
}

func (w Markdown) p(format string, args ...any) { fmt.Fprintf(w.B, format, args...) }

// Section writes a section's heading and notes.
func (w Markdown) Section(heading string, notes []string) {
	w.p("\n## %s\n", mdEscape(mask.Visible(heading)))
	if len(notes) > 0 {
		w.p("\n%s\n", proseLines(visibleLines(notes), "\n"))
	}
}

// Step writes a step's number and title, its notes, and what a person
// does on each group of its hosts.
func (w Markdown) Step(st Step) {
	w.p("\n### %s\n", mdEscape(mask.Visible(strings.TrimSpace(st.Number+" "+st.Title))))
	if len(st.Notes) > 0 {
		w.B.WriteString("\n")
		for _, n := range st.Notes {
			n = strings.TrimPrefix(strings.TrimPrefix(n, "・"), "- ")
			w.p("- %s\n", MarkdownProse(mask.Visible(n)))
		}
	}
	for _, pt := range st.Parts {
		if pt.Hosts != "" {
			// Brackets escaped: the marker is never a link reference.
			w.p("\n**\\[%s\\]**\n", mdEscape(mask.Visible(pt.Hosts)))
		}
		for _, bl := range pt.Blocks {
			if bl.Heading != "" {
				w.p("\n**%s**\n", mdEscape(mask.Visible(bl.Heading)))
			}
			switch bl.Code {
			case steps.Shell:
				fenced(w.B, "sh", visibleLines(bl.Lines))
			case steps.Literal:
				fenced(w.B, "text", visibleLines(bl.Lines))
			default:
				w.p("\n%s\n", proseLines(visibleLines(bl.Lines), "  \n"))
			}
		}
	}
}

func visibleLines(ls []string) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = mask.Visible(l)
	}
	return out
}

// exported is a built step as the writers take it.
func (st step) exported(id string) Step {
	s := Step{ID: id, Number: st.number, Title: st.title, Notes: st.notes}
	for _, pt := range st.parts {
		s.Parts = append(s.Parts, Part{Hosts: pt.hosts, Blocks: pt.blocks})
	}
	return s
}
