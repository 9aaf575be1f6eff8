package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"tejun/runbook/render"
)

const indent = "    "

type styles struct {
	title, section, step, heading, code, note, out lipgloss.Style
	status                                         map[string]lipgloss.Style
}

// newStyles picks styles once; without color every style prints plain
// text, so the same code writes a pipe, a file or a golden file.
func newStyles(color bool) styles {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.Ascii)
	if color {
		r.SetColorProfile(termenv.ANSI)
	}
	return styles{
		title:   r.NewStyle().Bold(true),
		section: r.NewStyle().Bold(true).Foreground(lipgloss.Color("12")),
		step:    r.NewStyle().Bold(true),
		heading: r.NewStyle().Faint(true),
		code:    r.NewStyle().Foreground(lipgloss.Color("6")),
		note:    r.NewStyle().Faint(true),
		out:     r.NewStyle(),
		status: map[string]lipgloss.Style{
			"ok":      r.NewStyle().Foreground(lipgloss.Color("2")),
			"changed": r.NewStyle().Foreground(lipgloss.Color("3")).Bold(true),
			"failed":  r.NewStyle().Foreground(lipgloss.Color("1")).Bold(true),
			"refused": r.NewStyle().Foreground(lipgloss.Color("1")).Bold(true),
			"skipped": r.NewStyle().Faint(true),
			"not-run": r.NewStyle().Faint(true),
		},
	}
}

func text(d doc, lang string, color bool) string {
	s := newStyles(color)
	var b strings.Builder
	line := func(st lipgloss.Style, prefix, text string) {
		// Remote output and inventory values are made visible before
		// styling adds the only escapes that may reach the terminal. A
		// text of several lines (a reason's diff, with the host's old
		// lines) keeps the further ones indented under the first, where
		// none can pass for a heading or a status of its own.
		for i, row := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
			p := prefix
			if i > 0 {
				p += indent
			}
			b.WriteString(p + st.Render(visible(strings.ReplaceAll(row, "\t", indent))) + "\n")
		}
	}
	line(s.title, "", d.title)
	line(s.title, "", d.subtitle)
	b.WriteString("\n")
	width := 0
	for _, m := range d.meta {
		width = max(width, lipgloss.Width(m.key))
	}
	for _, m := range d.meta {
		line(s.note, "", m.key+":"+strings.Repeat(" ", width-lipgloss.Width(m.key)+1)+m.value)
	}
	if d.counts != "" {
		line(s.note, "", t(lang, "件数", "Counts")+":"+strings.Repeat(" ", width-lipgloss.Width(t(lang, "件数", "Counts"))+1)+d.counts)
	}
	if len(d.attention) > 0 {
		line(s.status["failed"], "", attentionHeading(lang)+":")
		for _, a := range d.attention {
			line(s.status["failed"], indent, a)
		}
	}
	if len(d.hosts) > 0 {
		line(s.note, "", t(lang, "対象ホスト:", "Hosts:"))
		w := 0
		for _, h := range d.hosts {
			w = max(w, lipgloss.Width(h[0]))
		}
		for _, h := range d.hosts {
			l := h[0] + strings.Repeat(" ", w-lipgloss.Width(h[0])) + "  " + h[1]
			if h[2] != "" {
				l += t(lang, "  ロール: ", "  roles: ") + h[2]
			}
			if h[3] != "" {
				l += t(lang, "  踏み台: ", "  via ") + h[3]
			}
			line(s.note, indent, l)
		}
	}
	// The procedure as the dry-run writes it; the report adds each step's
	// status, the commands run and their output.
	tw := render.Text{B: &b, Lang: lang, Styles: render.TextStyles{Section: s.section, Step: s.step, Heading: s.heading, Code: s.code, Note: s.note}}
	for _, sec := range d.sections {
		tw.Section(sec.heading, sec.notes)
		for _, st := range sec.steps {
			tw.Step(render.Step{Number: st.number, Title: st.title, Notes: st.notes, Parts: st.parts})
			b.WriteString("\n")
			label := t(lang, "状態: ", "Status: ")
			if len(st.results) == 0 {
				line(s.status["not-run"], "   ", label+statusText(lang, "not-run"))
			}
			for _, r := range st.results {
				line(s.status[r.Status], "   ", label+resultLine(lang, r))
				if r.StderrTail != "" && len(st.commands) == 0 {
					for _, l := range strings.Split(r.StderrTail, "\n") {
						line(s.note, "   "+indent, "stderr: "+l)
					}
				}
			}
			for _, hc := range st.commands {
				b.WriteString("\n")
				line(s.heading, "   ", commandsHeading(lang, hc)+":")
				for _, c := range hc.commands {
					line(s.code, "   "+indent, "$ "+c.Line)
					for _, l := range outputLines(c) {
						line(s.out, "   "+indent+"  ", l)
					}
					line(s.note, "   "+indent+"  ", fmt.Sprintf("(%s)", exitLine(lang, c)))
				}
			}
		}
	}
	return b.String()
}
