package render

import "strings"

// A runbook's prose (a note, a 解説, an example's note) marks a command,
// option or configurable it names with backticks, as Markdown does:
// "`p4 servers -J` shows how far journal copying has got". Markdown
// shows it as a code span (read literally: no emphasis from _ or *, no
// heading from #); text and the terminal show it plainly, without the
// backticks, as the manual prints it. A lone backtick marks nothing and
// is shown as it is.

// Span is a piece of prose: text, or a code span's content.
type Span struct {
	Text string
	Code bool
}

// ProseSpans splits s at its backtick pairs.
func ProseSpans(s string) []Span {
	parts := strings.Split(s, "`")
	if len(parts)%2 == 0 {
		// An odd number of backticks: the last one opens nothing.
		last := len(parts) - 2
		parts = append(parts[:last:last], parts[last]+"`"+parts[last+1])
	}
	var out []Span
	for i, p := range parts {
		code := i%2 == 1
		if p == "" && !code {
			continue
		}
		if code && p == "" {
			out = append(out, Span{Text: "``"}) // an empty pair is two backticks
			continue
		}
		out = append(out, Span{Text: p, Code: code})
	}
	return out
}

// PlainProse is s for text output: code spans without their backticks.
func PlainProse(s string) string {
	if !strings.Contains(s, "`") {
		return s
	}
	var b strings.Builder
	for _, sp := range ProseSpans(s) {
		b.WriteString(sp.Text)
	}
	return b.String()
}

// MarkdownProse is s as GFM: text escaped, code spans kept. A span's
// content cannot hold a backtick (the pair would end there), so one
// backtick fence is enough; a space at either end is padded so GFM does
// not strip it.
func MarkdownProse(s string) string {
	var b strings.Builder
	for _, sp := range ProseSpans(s) {
		if !sp.Code {
			b.WriteString(mdEscape(sp.Text))
			continue
		}
		t := sp.Text
		if strings.HasPrefix(t, " ") && strings.HasSuffix(t, " ") && strings.TrimSpace(t) != "" {
			t = " " + t + " "
		}
		b.WriteString("`" + t + "`")
	}
	return b.String()
}

// proseLines is lines of prose as Markdown, joined by sep (a hard break
// within a paragraph, or a newline).
func proseLines(lines []string, sep string) string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = MarkdownProse(l)
	}
	return strings.Join(out, sep)
}
