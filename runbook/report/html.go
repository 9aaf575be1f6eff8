package report

import (
	"fmt"
	"html/template"
	"strings"

	"tejun/runbook/render"
	"tejun/steps"
)

// html is one self-contained page a reviewer can attach to a ticket: the
// style is inline, there is no script, no font, image or link to fetch, so
// it reads the same offline, in a mail client or years later.
// html/template escapes every value from the record and the inventory;
// the page's Content Security Policy forbids fetching and running anything
// besides, should a value ever get past the escaping.
func html(d doc, lang string) string {
	type block struct {
		Heading string
		Lines   []string
		Prose   []template.HTML // the lines of a prose block, code spans marked
		Code    bool
	}
	type part struct {
		Hosts  string
		Blocks []block
	}
	type command struct {
		Line   string
		Output []string
		Exit   string
		Failed bool
	}
	type hostCmds struct {
		Heading  string
		Commands []command
	}
	type result struct {
		Host, Status, Class, Time, Why, Stderr string
	}
	type stp struct {
		Anchor, Heading, Status, Class string
		Notes                          []template.HTML
		Parts                          []part
		Results                        []result
		Commands                       []hostCmds
	}
	type sec struct {
		Heading string
		Notes   []template.HTML
		Steps   []stp
	}
	type metaRow struct {
		Key, Value string
		Code       bool
	}
	page := struct {
		Lang, Title, Subtitle, Counts string
		Attention                     []string
		Meta                          []metaRow
		HostHead                      []string
		Hosts                         [][]string
		Sections                      []sec
		L                             map[string]string
	}{Lang: lang, Title: visible(d.title), Subtitle: d.subtitle, Counts: visible(d.counts),
		L: map[string]string{
			"status": t(lang, "状態", "Status"), "host": t(lang, "ホスト", "Host"), "time": t(lang, "開始（UTC）+ 所要時間", "Started (UTC) + time"),
			"why": t(lang, "理由・エラー", "Reason or error"), "counts": t(lang, "件数", "Counts"),
			"summary": t(lang, "手順と状態", "Steps and their status"), "step": t(lang, "手順", "Step"),
		},
		HostHead: []string{t(lang, "対象ホスト", "Host"), "SSH", t(lang, "ロール", "Roles"), t(lang, "踏み台", "Jump host")},
	}
	for _, h := range d.hosts {
		page.Hosts = append(page.Hosts, visibleLines(h)) // inventory values
	}
	page.Attention = visibleLines(d.attention)
	page.L["attention"] = attentionHeading(lang)
	for _, m := range d.meta {
		page.Meta = append(page.Meta, metaRow{visible(m.key), visible(m.value), m.code})
	}
	n := 0
	// Anchors are made of ids' ASCII letters and digits, so two ids can
	// make one (手順1 and 作業1, a.b and a_b): each gets its own.
	used := map[string]bool{}
	anchor := func(id string) string {
		base := "step-" + strings.Map(anchorRune, id)
		a := base
		for i := 2; used[a]; i++ {
			a = fmt.Sprintf("%s-%d", base, i)
		}
		used[a] = true
		return a
	}
	for _, s := range d.sections {
		hs := sec{Heading: visible(s.heading), Notes: proseHTML(s.notes)}
		for _, st := range s.steps {
			n++
			hp := stp{Anchor: anchor(st.id), Heading: visible(strings.TrimSpace(st.number + " " + st.title)),
				Status: visible(statusText(lang, st.status)), Class: statusClass(st.status)}
			for _, no := range st.notes {
				hp.Notes = append(hp.Notes, proseHTML([]string{strings.TrimPrefix(strings.TrimPrefix(no, "・"), "- ")})...)
			}
			for _, p := range st.parts {
				pp := part{Hosts: visible(p.Hosts)}
				for _, bl := range p.Blocks {
					pp.Blocks = append(pp.Blocks, block{visible(bl.Heading), visibleLines(bl.Lines), proseHTML(bl.Lines), bl.Code != steps.Prose})
				}
				hp.Parts = append(hp.Parts, pp)
			}
			if len(st.results) == 0 {
				hp.Results = append(hp.Results, result{Status: statusText(lang, "not-run"), Class: "not-run"})
			}
			for _, r := range st.results {
				hr := result{Host: visible(r.Host), Status: visible(statusText(lang, r.Status)), Class: statusClass(r.Status), Why: visible(r.Reason)}
				if r.Host == "" {
					hr.Host = t(lang, "全ホスト", "all hosts")
				}
				if r.Timed {
					hr.Time = timing(lang, r)
				}
				if r.Error != "" {
					hr.Why = visible(r.Error)
				}
				if len(st.commands) == 0 {
					hr.Stderr = visible(r.StderrTail)
				}
				hp.Results = append(hp.Results, hr)
			}
			for _, hc := range st.commands {
				h := hostCmds{Heading: visible(commandsHeading(lang, hc))}
				for _, c := range hc.commands {
					h.Commands = append(h.Commands, command{Line: visible(c.Line), Output: visibleLines(outputLines(c)), Exit: visible(exitLine(lang, c)), Failed: c.ExitCode != 0})
				}
				hp.Commands = append(hp.Commands, h)
			}
			hs.Steps = append(hs.Steps, hp)
		}
		page.Sections = append(page.Sections, hs)
	}
	var b strings.Builder
	if err := pageTemplate.Execute(&b, page); err != nil {
		// The template is fixed and its data plain strings: an error here
		// is a bug, shown rather than a half page.
		return "<!-- report template failed: " + template.HTMLEscapeString(err.Error()) + " -->\n"
	}
	return b.String()
}

// statusClass is the style of a status: one of the page's own, whatever
// a record says (its text is shown as it is, made visible).
func statusClass(s string) string {
	switch s {
	case "ok", "changed", "failed", "refused", "skipped", "not-run":
		return s
	}
	return "unknown"
}

func anchorRune(r rune) rune {
	if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
		return r
	}
	return '_'
}

var pageTemplate = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} — {{.Subtitle}}</title>
<style>
body { font-family: system-ui, "Noto Sans CJK JP", "Hiragino Sans", "Yu Gothic", sans-serif; margin: 2em auto; max-width: 64em; padding: 0 1em; color: #1f2328; background: #fff; line-height: 1.5; }
h1 { font-size: 1.6em; margin-bottom: 0; }
.subtitle { color: #59636e; margin-top: 0.2em; font-size: 1.1em; }
h2 { font-size: 1.3em; border-bottom: 2px solid #0969da; padding-bottom: 0.2em; margin-top: 2em; }
h3 { font-size: 1.05em; margin: 1.6em 0 0.4em; display: flex; gap: 0.6em; align-items: baseline; }
table { border-collapse: collapse; margin: 0.6em 0; }
th, td { border: 1px solid #d1d9e0; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
table.meta th { white-space: nowrap; }
table.summary th.sec { background: #fff; border-left: 0; border-right: 0; padding-top: 0.8em; }
a { color: #0969da; text-decoration: none; }
.attention { border: 2px solid #cf222e; border-radius: 6px; padding: 0.5em 1em; margin: 1em 0; color: #cf222e; background: #fff5f5; }
code, pre { font-family: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", monospace; font-size: 0.9em; }
pre { background: #f6f8fa; border: 1px solid #d1d9e0; border-radius: 6px; padding: 0.6em 0.8em; overflow-x: auto; white-space: pre-wrap; word-break: break-all; margin: 0.4em 0; }
pre.manual { background: #eef6ff; }
pre.result .cmd { font-weight: bold; color: #0550ae; }
pre.result .exit { color: #59636e; }
pre.result .exit.bad { color: #cf222e; font-weight: bold; }
.step { border-left: 4px solid #d1d9e0; padding-left: 0.9em; }
.step.changed { border-color: #bf8700; } .step.ok { border-color: #1a7f37; }
.step.failed, .step.refused { border-color: #cf222e; } .step.skipped, .step.not-run { border-color: #d1d9e0; }
.badge { font-size: 0.8em; font-weight: normal; border-radius: 1em; padding: 0.05em 0.7em; color: #fff; background: #59636e; white-space: nowrap; }
.badge.ok { background: #1a7f37; } .badge.changed { background: #9a6700; }
.badge.failed, .badge.refused { background: #cf222e; } .badge.skipped, .badge.not-run { background: #818b98; }
td.ok { color: #1a7f37; } td.changed { color: #9a6700; font-weight: bold; } td.failed, td.refused { color: #cf222e; font-weight: bold; } td.skipped, td.not-run { color: #59636e; }
.notes { color: #59636e; margin: 0.3em 0; }
.blockhead, .parthosts { color: #59636e; margin: 0.6em 0 0; font-size: 0.95em; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p class="subtitle">{{.Subtitle}}</p>
<table class="meta">
{{- range .Meta}}
<tr><th>{{.Key}}</th><td>{{if .Code}}<code>{{.Value}}</code>{{else}}{{.Value}}{{end}}</td></tr>
{{- end}}
{{- if .Counts}}
<tr><th>{{index .L "counts"}}</th><td>{{.Counts}}</td></tr>
{{- end}}
</table>
{{- if .Attention}}
<div class="attention"><strong>{{index .L "attention"}}</strong>
<ul>
{{- range .Attention}}
<li>{{.}}</li>
{{- end}}
</ul></div>
{{- end}}
{{- if .Hosts}}
<table class="hosts">
<tr>{{range .HostHead}}<th>{{.}}</th>{{end}}</tr>
{{- range .Hosts}}
<tr><td><code>{{index . 0}}</code></td><td><code>{{index . 1}}</code></td><td>{{index . 2}}</td><td>{{if index . 3}}<code>{{index . 3}}</code>{{end}}</td></tr>
{{- end}}
</table>
{{- end}}
<h2>{{index .L "summary"}}</h2>
<table class="summary">
<tr><th>{{index .L "step"}}</th><th>{{index .L "status"}}</th></tr>
{{- range .Sections}}
<tr><th colspan="2" class="sec">{{.Heading}}</th></tr>
{{- range .Steps}}
<tr><td><a href="#{{.Anchor}}">{{.Heading}}</a></td><td class="{{.Class}}">{{.Status}}</td></tr>
{{- end}}
{{- end}}
</table>
{{- range .Sections}}
<h2>{{.Heading}}</h2>
{{- range .Notes}}
<p class="notes">{{.}}</p>
{{- end}}
{{- range .Steps}}
<div class="step {{.Class}}" id="{{.Anchor}}">
<h3><span>{{.Heading}}</span> <span class="badge {{.Class}}">{{.Status}}</span></h3>
{{- if .Notes}}
<ul class="notes">
{{- range .Notes}}
<li>{{.}}</li>
{{- end}}
</ul>
{{- end}}
{{- range .Parts}}
{{- if .Hosts}}
<p class="parthosts">[{{.Hosts}}]</p>
{{- end}}
{{- range .Blocks}}
{{- if .Heading}}
<p class="blockhead">{{.Heading}}</p>
{{- end}}
{{- if .Code}}
<pre class="manual">{{range $i, $l := .Lines}}{{if $i}}
{{end}}{{$l}}{{end}}</pre>
{{- else}}
<p>{{range $i, $l := .Prose}}{{if $i}}<br>{{end}}{{$l}}{{end}}</p>
{{- end}}
{{- end}}
{{- end}}
<table class="results">
<tr><th>{{index $.L "host"}}</th><th>{{index $.L "status"}}</th><th>{{index $.L "time"}}</th><th>{{index $.L "why"}}</th></tr>
{{- range .Results}}
<tr><td>{{if .Host}}<code>{{.Host}}</code>{{end}}</td><td class="{{.Class}}">{{.Status}}</td><td>{{.Time}}</td><td>{{.Why}}{{if .Stderr}}<pre>{{.Stderr}}</pre>{{end}}</td></tr>
{{- end}}
</table>
{{- range .Commands}}
<p class="blockhead">{{.Heading}}</p>
<pre class="result">
{{- range $i, $c := .Commands}}{{if $i}}
{{end}}<span class="cmd">$ {{$c.Line}}</span>
{{- range $c.Output}}
{{.}}{{end}}
<span class="exit{{if $c.Failed}} bad{{end}}"># {{$c.Exit}}</span>{{end}}</pre>
{{- end}}
</div>
{{- end}}
{{- end}}
</body>
</html>
`))

// proseHTML is lines of a runbook's prose as HTML: each escaped, its
// backtick pairs (a command it names) as <code>.
func proseHTML(lines []string) []template.HTML {
	out := make([]template.HTML, len(lines))
	for i, l := range lines {
		var b strings.Builder
		for _, sp := range render.ProseSpans(visible(l)) {
			if sp.Code {
				b.WriteString("<code>" + template.HTMLEscapeString(sp.Text) + "</code>")
			} else {
				b.WriteString(template.HTMLEscapeString(sp.Text))
			}
		}
		out[i] = template.HTML(b.String())
	}
	return out
}
