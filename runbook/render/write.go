package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"tejun/runbook"
	"tejun/runbook/mask"
)

// Write prints the procedure of b.
func Write(w io.Writer, b *runbook.Binding, o Options) error {
	if o.Lang == "" {
		o.Lang = "ja"
	}
	d := build(b, o)
	var out string
	if o.Markdown {
		out = mask.Visible(markdown(d, o.Lang))
	} else {
		out = text(d, o.Lang, newStyles(w, o.Color))
	}
	_, err := io.WriteString(w, out)
	return err
}

type styles struct {
	title, section, step, heading, code, note, exec lipgloss.Style
}

// newStyles picks styles once. Without color every style renders plain
// text, so the same code prints to a pipe or a golden file.
func newStyles(w io.Writer, color bool) styles {
	r := lipgloss.NewRenderer(w)
	if !color {
		r.SetColorProfile(termenv.Ascii)
	}
	return styles{
		title:   r.NewStyle().Bold(true),
		section: r.NewStyle().Bold(true).Foreground(lipgloss.Color("12")),
		step:    r.NewStyle().Bold(true),
		heading: r.NewStyle().Faint(true),
		code:    r.NewStyle().Foreground(lipgloss.Color("6")),
		note:    r.NewStyle().Faint(true),
		exec:    r.NewStyle().Foreground(lipgloss.Color("3")),
	}
}

const indent = "    "

func text(d doc, lang string, s styles) string {
	var b strings.Builder
	line := func(st lipgloss.Style, prefix, text string) {
		// Values from the inventory, made visible before styling adds
		// the only escapes that may reach the terminal.
		b.WriteString(mask.Visible(prefix) + st.Render(mask.Visible(strings.ReplaceAll(text, "\t", indent))) + "\n")
	}
	line(s.title, "", d.title)
	b.WriteString("\n")
	for _, m := range d.meta {
		line(s.note, "", m[0]+": "+m[1])
	}
	if len(d.hosts) > 0 {
		line(s.note, "", t(lang, "対象ホスト:", "Hosts:"))
		width := 0
		for _, h := range d.hosts {
			width = max(width, Width(h[0]))
		}
		for _, h := range d.hosts {
			l := PadRight(h[0], width) + "  " + h[1]
			if h[2] != "" {
				l += t(lang, "  ロール: ", "  roles: ") + h[2]
			}
			if h[3] != "" {
				l += t(lang, "  踏み台: ", "  via ") + h[3]
			}
			line(s.note, indent, l)
		}
	}
	if len(d.secrets) > 0 {
		line(s.note, "", t(lang, "シークレット（値は表示しません）:", "Secrets (values are never shown):"))
		for _, sc := range d.secrets {
			l := sc[0] + "  " + sc[1]
			if sc[2] != "" {
				l += "  (" + sc[2] + ")"
			}
			line(s.note, indent, l+"  ********")
		}
	}
	tw := Text{B: &b, Lang: lang, Styles: TextStyles{Section: s.section, Step: s.step, Heading: s.heading, Code: s.code, Note: s.note}}
	for _, sec := range d.sections {
		tw.Section(sec.heading, sec.notes)
		for _, st := range sec.steps {
			tw.Step(st.exported(""))
			for _, e := range st.exec {
				b.WriteString("\n")
				line(s.heading, "   ", execHeading(lang, e.host))
				for _, l := range e.lines {
					line(s.exec, "   "+indent, execKind(lang, l[0])+"  "+l[1])
				}
			}
		}
	}
	return b.String()
}

// bullet marks a note, unless the runbook's text already did.
func bullet(lang, note string) string {
	if strings.HasPrefix(note, "・") || strings.HasPrefix(note, "- ") {
		return note
	}
	return t(lang, "・", "- ") + note
}

func execHeading(lang, host string) string {
	return t(lang, "tejun が実行するコマンド（"+host+"）", "Commands tejun runs (on "+host+")")
}

func execKind(lang, kind string) string {
	if kind == "check" {
		return t(lang, "確認", "check")
	}
	return t(lang, "変更", "apply")
}

func markdown(d doc, lang string) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# %s\n\n", mdEscape(d.title))
	p("| | |\n|---|---|\n")
	for _, m := range d.meta {
		p("| %s | %s |\n", mdCell(m[0]), mdCell(m[1]))
	}
	if len(d.hosts) > 0 {
		p("\n| %s | SSH | %s | %s |\n|---|---|---|---|\n", t(lang, "対象ホスト", "Host"), t(lang, "ロール", "Roles"), t(lang, "踏み台", "Jump host"))
		for _, h := range d.hosts {
			p("| %s | %s | %s | %s |\n", mdCell(h[0]), MarkdownCode(h[1]), mdCell(h[2]), MarkdownCode(h[3]))
		}
	}
	if len(d.secrets) > 0 {
		p("\n| %s | %s | %s | %s |\n|---|---|---|---|\n", t(lang, "シークレット", "Secret"), t(lang, "取得元", "Source"), t(lang, "説明", "Description"), t(lang, "値", "Value"))
		for _, sc := range d.secrets {
			p("| %s | %s | %s | `********` |\n", mdCell(sc[0]), mdCell(sc[1]), mdCell(sc[2]))
		}
	}
	mw := Markdown{B: &b, Lang: lang}
	for _, sec := range d.sections {
		mw.Section(sec.heading, sec.notes)
		for _, st := range sec.steps {
			mw.Step(st.exported(""))
			for _, e := range st.exec {
				p("\n**%s**\n", mdEscape(execHeading(lang, e.host)))
				var ls []string
				last := ""
				for _, l := range e.lines {
					if l[0] != last {
						ls = append(ls, "# "+execKind(lang, l[0]))
						last = l[0]
					}
					ls = append(ls, l[1])
				}
				fenced(&b, "sh", ls)
			}
		}
	}
	return b.String()
}

// fenced writes a code block whose fence is longer than any backtick run in
// its lines, so no line can close it early.
func fenced(b *strings.Builder, lang string, lines []string) {
	longest := 0
	for _, l := range lines {
		run := 0
		for _, c := range l {
			if c == '`' {
				run++
				longest = max(longest, run)
			} else {
				run = 0
			}
		}
	}
	fence := strings.Repeat("`", max(3, longest+1))
	fmt.Fprintf(b, "\n%s%s\n%s\n%s\n", fence, lang, strings.Join(lines, "\n"), fence)
}

var mdSpecial = strings.NewReplacer(`\`, `\\`, "*", `\*`, "_", `\_`, "`", "\\`", "[", `\[`, "]", `\]`, "<", "&lt;", ">", "&gt;", "#", `\#`)

func mdEscape(s string) string { return mdSpecial.Replace(s) }

// mdCell makes s one GFM table cell: a pipe would end the cell and a
// newline the row (a file diff in a plan's reason broke every later row),
// so pipes are escaped and lines joined with <br>.
func mdCell(s string) string {
	s = strings.ReplaceAll(strings.TrimRight(s, "\n"), "\r\n", "\n")
	return strings.ReplaceAll(strings.ReplaceAll(mdEscape(s), "|", `\|`), "\n", "<br>")
}

// EscapeMarkdownCell makes s safe inside a Markdown table cell.
func EscapeMarkdownCell(s string) string { return mdCell(s) }

// MarkdownCode is s as a GFM code span: commands, paths and user@host
// read literally (no emphasis from _, no mailto: link from @). A span
// cannot hold a newline, so lines are joined with spaces; the fence is
// longer than any run of backticks inside; pipes are escaped for tables
// (GFM removes the backslash inside a table's code span).
func MarkdownCode(s string) string {
	if s == "" {
		return ""
	}
	s = strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
	fence, run := "`", 0
	for _, r := range s {
		if r == '`' {
			run++
			if run >= len(fence) {
				fence += "`"
			}
		} else {
			run = 0
		}
	}
	pad := ""
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		pad = " "
	}
	return fence + pad + strings.ReplaceAll(s, "|", `\|`) + pad + fence
}
