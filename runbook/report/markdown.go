package report

import (
	"fmt"
	"strings"

	"tejun/runbook/render"
)

// markdown is GitHub Flavored Markdown: tables, fenced code. Every value
// from the record or the inventory is escaped (cells also for '|'), and
// output is fenced with a fence no line of it can close.
func markdown(d doc, lang string) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	esc := func(s string) string { return render.Escape(visible(s)) }
	// A cell is one line in GFM: a reason's lines are kept apart by <br>.
	cell := func(s string) string {
		ls := strings.Split(strings.TrimRight(s, "\n"), "\n")
		for i, l := range ls {
			ls[i] = render.EscapeMarkdownCell(visible(l))
		}
		return strings.Join(ls, "<br>")
	}
	// A code span (paths, arguments, host names) in a table cell, shown
	// as it was: spaces kept (an argument is exact in an audit report);
	// a newline, which would end the row and let what follows be Markdown
	// of its own, shown as ↵.
	code := func(s string) string {
		if s == "" {
			return ""
		}
		s = strings.ReplaceAll(visible(s), "\n", "↵")
		// A fence longer than any backtick run in s.
		n := 1
		for strings.Contains(s, strings.Repeat("`", n)) {
			n++
		}
		f := strings.Repeat("`", n)
		pad := ""
		if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") || strings.HasPrefix(s, " ") && strings.HasSuffix(s, " ") {
			pad = " " // GFM strips one space each side
		}
		return f + pad + strings.ReplaceAll(s, "|", `\|`) + pad + f
	}
	p("# %s\n\n", esc(d.title))
	p("**%s**\n\n", esc(d.subtitle))
	p("| | |\n|---|---|\n")
	for _, m := range d.meta {
		v := cell(m.value)
		if m.code {
			v = code(m.value)
		}
		p("| %s | %s |\n", cell(m.key), v)
	}
	if d.counts != "" {
		p("| %s | %s |\n", t(lang, "件数", "Counts"), cell(d.counts))
	}
	if len(d.attention) > 0 {
		p("\n**%s**\n\n", esc(attentionHeading(lang)))
		for _, a := range d.attention {
			p("- %s\n", esc(a))
		}
	}
	if len(d.hosts) > 0 {
		p("\n| %s | SSH | %s | %s |\n|---|---|---|---|\n", t(lang, "対象ホスト", "Host"), t(lang, "ロール", "Roles"), t(lang, "踏み台", "Jump host"))
		for _, h := range d.hosts {
			p("| %s | %s | %s | %s |\n", code(h[0]), code(h[1]), cell(h[2]), code(h[3]))
		}
	}
	// The procedure as the dry-run writes it; the report adds each step's
	// status, the commands run and their output.
	mw := render.Markdown{B: &b, Lang: lang}
	for _, sec := range d.sections {
		mw.Section(sec.heading, sec.notes)
		for _, st := range sec.steps {
			mw.Step(render.Step{Number: st.number, Title: st.title, Notes: st.notes, Parts: st.parts})
			p("\n| %s | %s | %s | %s |\n|---|---|---|---|\n", t(lang, "ホスト", "Host"), t(lang, "状態", "Status"), t(lang, "開始（UTC）+ 所要時間", "Started (UTC) + time"), t(lang, "理由・エラー", "Reason or error"))
			if len(st.results) == 0 {
				p("| | %s | | |\n", cell(statusText(lang, "not-run")))
			}
			for _, r := range st.results {
				host, dur, why := t(lang, "全ホスト", "all hosts"), "", r.Reason
				if r.Host != "" {
					host = code(r.Host)
				}
				if r.Timed {
					dur = timing(lang, r)
				}
				if r.Error != "" {
					why = r.Error
				}
				status := cell(statusText(lang, r.Status))
				if r.Status == "failed" || r.Status == "refused" {
					status = "**" + status + "**"
				}
				p("| %s | %s | %s | %s |\n", host, status, dur, cell(why))
			}
			for _, r := range st.results {
				if r.StderrTail != "" && len(st.commands) == 0 {
					p("\n**stderr (%s)**\n", esc(r.Host))
					b.WriteString(render.Fenced("text", visibleLines(strings.Split(r.StderrTail, "\n"))))
				}
			}
			for _, hc := range st.commands {
				p("\n**%s**\n", esc(commandsHeading(lang, hc)))
				var ls []string
				for _, c := range hc.commands {
					ls = append(ls, "$ "+c.Line)
					ls = append(ls, outputLines(c)...)
					ls = append(ls, "# "+exitLine(lang, c))
				}
				b.WriteString(render.Fenced("console", visibleLines(ls)))
			}
		}
	}
	return b.String()
}

func visibleLines(ls []string) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = visible(l)
	}
	return out
}
