package report

import (
	"regexp"
	"strings"
	"testing"

	"tejun/runbook"
	"tejun/runbook/runbooktest"
	"tejun/steps"
)

const rbSrc = `
[runbook]
name = "r"
title.en = "Hostile run"
[[section]]
id = "s"
on = "r"
title.en = "Work"
[[section.step]]
id = "a"
kind = "command"
title.en = "print things"
argv = ["show"]
[[section.step]]
id = "b"
kind = "command"
title.en = "after it"
argv = ["next"]
[[section.step]]
id = "c"
kind = "command"
title.en = "never reached"
argv = ["later"]
`

var hostileRecord = strings.Join([]string{
	`{"schema":"tejun.events/v1","event":"run_start","time":"2026-12-01T10:00:00Z","run_id":"R1","runbook":"/rb.toml","runbook_sha256":"aa","inventory":"/inv.toml","inventory_sha256":"bb","user":"op","machine":"m","tejun_version":"v1.2.3"}`,
	`{"schema":"tejun.events/v1","event":"command","time":"2026-12-01T10:00:00.5Z","run_id":"R1","step":"b","host":"h1","command":"next --check","exit_code":1,"duration_ms":3}`,
	`{"schema":"tejun.events/v1","event":"step_start","time":"2026-12-01T10:00:01Z","run_id":"R1","step":"a","host":"h1"}`,
	`{"schema":"tejun.events/v1","event":"step_start","time":"2026-12-01T10:00:01Z","run_id":"R1","step":"a","host":"h2"}`,
	`{"schema":"tejun.events/v1","event":"command","time":"2026-12-01T10:00:02Z","run_id":"R1","step":"a","host":"h1","command":"show","exit_code":0,"stdout":"fine\n","duration_ms":5}`,
	`{"schema":"tejun.events/v1","event":"step_end","time":"2026-12-01T10:00:02Z","run_id":"R1","step":"a","host":"h1","status":"changed","reason":"did it","duration_ms":900}`,
	`{"schema":"tejun.events/v1","event":"command","time":"2026-12-01T10:00:03Z","run_id":"R1","step":"a","host":"h2","command":"show","exit_code":1,"stdout":"` + hostileOut + `","stderr":"boom | x\n","error":"show: exit status 1","duration_ms":7}`,
	`{"schema":"tejun.events/v1","event":"command","time":"2026-12-01T10:00:04Z","run_id":"R1","step":"a","host":"h2","command":"show again","exit_code":-1,"error":"connection lost","duration_ms":7}`,
	`{"schema":"tejun.events/v1","event":"step_end","time":"2026-12-01T10:00:04Z","run_id":"R1","step":"a","host":"h2","status":"failed","error":"show: exit status 1 <b>","duration_ms":2000}`,
	`{"schema":"tejun.events/v1","event":"step_end","time":"2026-12-01T10:00:04Z","run_id":"R1","step":"b","status":"skipped","reason":"a failed on h2"}`,
	`{"schema":"tejun.events/v1","event":"run_end","time":"2026-12-01T10:00:05Z","run_id":"R1","status":"failure","exit_code":1,"counts":{"changed":1,"failed":1,"skipped":1},"duration_ms":5000}`,
}, "\n") + "\n"

const hostileOut = `clear\u001b[2J</pre><script>alert(1)</script>\n| a | b |\n` + "```" + `\n`

func bind(t *testing.T) *runbook.Binding {
	t.Helper()
	return runbooktest.Bind(t, rbSrc, runbooktest.TwoHosts, steps.Generic()...)
}

// What a host prints is data in every format: escape sequences are shown,
// not obeyed; it cannot close a Markdown fence or table cell, or add markup
// to the HTML page. A failure, a step skipped as a whole and a step the run
// never reached each say so.
func TestHostileOutputAndFailures(t *testing.T) {
	rec, err := Read(strings.NewReader(hostileRecord))
	if err != nil {
		t.Fatal(err)
	}
	render := func(format string) string {
		var b strings.Builder
		if err := Write(&b, rec, bind(t), Options{Lang: "en", Format: format}); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	for _, format := range []string{"text", "markdown", "html"} {
		out := render(format)
		if strings.ContainsRune(out, 0x1b) {
			t.Errorf("%s: a raw escape sequence reaches the report", format)
		}
		for _, want := range []string{"failure (exit 1)", "Needs attention", "failed on h2: show: exit status 1", "skipped: 1 (after a failure or a refusal)",
			"Result (on h1, run earlier to check another step", "next --check", "v1.2.3", "failed", "skipped", "a failed on h2", "not run (not part of this run)",
			"exit 1, 0.01 s", "exit none, 0.01 s, ended 10:00:04.000: connection lost", "changed=1 failed=1 skipped=1"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: lacks %q", format, want)
			}
		}
	}
	if out := render("text"); !strings.Contains(out, "clear^[[2J</pre><script>") {
		t.Errorf("text: the escape is not shown as ^[:\n%s", out)
	}
	md := render("markdown")
	if !strings.Contains(md, "\n````console\n") || !strings.Contains(md, "\n````\n") {
		t.Errorf("markdown: the output's ``` can close its fence:\n%s", md)
	}
	if !strings.Contains(md, `| `+"`h2`"+` | **failed** | 10:00:01.000 +2.00 s | show: exit status 1 &lt;b&gt; |`) {
		t.Errorf("markdown: the failed row is not one escaped row:\n%s", md)
	}
	page := render("html")
	if strings.Contains(page, "<script>") || strings.Contains(page, "<b>") || !strings.Contains(page, "&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("html: the host's output is markup:\n%s", page)
	}
	if !strings.Contains(page, `<span class="badge failed">failed</span>`) || !strings.Contains(page, `<span class="badge skipped">skipped</span>`) {
		t.Errorf("html: the steps' badges are missing")
	}
}

// A record that ends in a cut line (a crash) is read up to it; a bad line
// in the middle, or a file of another schema, is refused.
func TestReadRecord(t *testing.T) {
	start := `{"schema":"tejun.events/v1","event":"run_start","time":"2026-12-01T10:00:00Z","run_id":"R1"}`
	if rec, err := Read(strings.NewReader(start + "\n" + `{"schema":"tejun.ev`)); err != nil || rec.RunID != "R1" || rec.Ended {
		t.Errorf("cut record: %v %+v", err, rec)
	}
	if _, err := Read(strings.NewReader(start + "\nnot json\n" + start + "\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("bad middle line: %v", err)
	}
	if _, err := Read(strings.NewReader(`{"schema":"other/v9","event":"run_start"}`)); err == nil {
		t.Error("another schema was read")
	}
	if _, err := Read(strings.NewReader("")); err == nil {
		t.Error("an empty file was read")
	}
}

// A command a note names in backticks is <code> in the HTML report, and
// everything around it escaped.
func TestProseHTML(t *testing.T) {
	got := proseHTML([]string{"run `p4 servers -J` <now>", "a lone ` & <b>"})
	want := []string{"run <code>p4 servers -J</code> &lt;now&gt;", "a lone ` &amp; &lt;b&gt;"}
	for i := range want {
		if string(got[i]) != want[i] {
			t.Errorf("proseHTML: %q, want %q", got[i], want[i])
		}
	}
}

// A code value (an argument, a path, a host name) with a newline in it
// stays in its table cell: a newline in a GFM code span ends the table
// row, and what follows it is Markdown of its own (an image fetched from
// anywhere when the report is viewed).
func TestMarkdownCodeValueStaysInItsCell(t *testing.T) {
	start := `{"schema":"tejun.events/v1","event":"run_start","time":"2026-12-01T10:00:00Z","run_id":"R1","runbook":"/rb.toml","runbook_sha256":"aa",` +
		`"inventory":"/inv.toml\n\n![x](https://evil.example/i.png)","args":["--var=note=one\n| forged | row |\n<img src=https://evil.example/p>"]}`
	end := `{"schema":"tejun.events/v1","event":"step_end","time":"2026-12-01T10:00:02Z","run_id":"R1","step":"a","host":"h1\n\n![y](https://evil.example/h.png)","status":"ok","duration_ms":9}`
	rec, err := Read(strings.NewReader(start + "\n" + end + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := Write(&b, rec, bind(t), Options{Lang: "en", Format: "markdown"}); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, l := range strings.Split(md, "\n") {
		if strings.HasPrefix(l, "![") || strings.HasPrefix(l, "<img") || strings.HasPrefix(l, "| forged") {
			t.Errorf("a code value's newline let %q out of its cell:\n%s", l, md)
		}
	}
	for _, want := range []string{"`/inv.toml↵↵![x](https://evil.example/i.png)`", "`--var=note=one↵\\| forged \\| row \\|↵<img src=https://evil.example/p>`"} {
		if !strings.Contains(md, want) {
			t.Errorf("lacks %s:\n%s", want, md)
		}
	}
}

// The HTML page tells the browser it may fetch and run nothing (a Content
// Security Policy), so a value the escaping somehow missed still cannot
// load an image, a script or a font from elsewhere, or send a form.
func TestHTMLForbidsFetching(t *testing.T) {
	rec, err := Read(strings.NewReader(hostileRecord))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := Write(&b, rec, bind(t), Options{Lang: "en", Format: "html"}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	csp := `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'">`
	head := page[:strings.Index(page, "<title>")]
	if !strings.Contains(head, csp) {
		t.Errorf("no policy before the first value:\n%s", head)
	}
}

// In the text report a reason or error of several lines (a file's diff,
// with the host's old lines) keeps its further lines indented under the
// status line, where none can pass for a heading or a status of its own.
func TestTextMultiLineReasonIndented(t *testing.T) {
	start := `{"schema":"tejun.events/v1","event":"run_start","time":"2026-12-01T10:00:00Z","run_id":"R1","runbook":"/rb.toml"}`
	end := `{"schema":"tejun.events/v1","event":"step_end","time":"2026-12-01T10:00:02Z","run_id":"R1","step":"a","host":"h1","status":"changed","reason":"/f differs:\n-2. Work\n+Status: [h2] ok","duration_ms":9}`
	rec, err := Read(strings.NewReader(start + "\n" + end + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := Write(&b, rec, bind(t), Options{Lang: "en", Format: "text"}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.Contains(out, "/f differs:\n") {
		t.Fatalf("no reason:\n%s", out)
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "-2. Work") || strings.Contains(l, "+Status: [h2]") {
			if !strings.HasPrefix(l, "       ") || strings.HasSuffix(l, " ") {
				t.Errorf("a reason's line is not indented under its status: %q\n%s", l, out)
			}
		}
	}
}

// Every step's anchor in the HTML page is its own: Japanese step ids (手順1,
// 作業1) or ids that differ only in punctuation (a.b, a_b) once made the
// same id="…", and the summary's link to the second led to the first.
func TestHTMLAnchorsAreUnique(t *testing.T) {
	b := runbooktest.Bind(t, `
[runbook]
name = "r"
[[section]]
id = "s"
on = "r"
title.en = "Work"
[[section.step]]
id = "手順1"
kind = "command"
title.en = "first"
argv = ["one"]
[[section.step]]
id = "作業1"
kind = "command"
title.en = "second"
argv = ["two"]
[[section.step]]
id = "a.b"
kind = "command"
title.en = "third"
argv = ["three"]
[[section.step]]
id = "a_b"
kind = "command"
title.en = "fourth"
argv = ["four"]
`, runbooktest.TwoHosts, steps.Generic()...)
	rec, err := Read(strings.NewReader(`{"schema":"tejun.events/v1","event":"run_start","time":"2026-12-01T10:00:00Z","run_id":"R1"}` + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := Write(&out, rec, b, Options{Lang: "en", Format: "html"}); err != nil {
		t.Fatal(err)
	}
	page := out.String()
	links := regexp.MustCompile(`href="#([^"]+)"`).FindAllStringSubmatch(page, -1)
	seen := map[string]bool{}
	for _, l := range links {
		if seen[l[1]] {
			t.Errorf("two steps link to #%s", l[1])
		}
		seen[l[1]] = true
		if n := strings.Count(page, `id="`+l[1]+`"`); n != 1 {
			t.Errorf("#%s is the id of %d elements", l[1], n)
		}
	}
	if len(links) != 4 {
		t.Errorf("%d links for 4 steps", len(links))
	}
}

// A record is one run: a second run_start, or an event of another run (two
// records joined with cat), would lay one run's results over another's.
func TestRecordOfOneRunOnly(t *testing.T) {
	start := func(id string) string {
		return `{"schema":"tejun.events/v1","event":"run_start","time":"2026-12-01T10:00:00Z","run_id":"` + id + `"}`
	}
	end := func(id string) string {
		return `{"schema":"tejun.events/v1","event":"step_end","time":"2026-12-01T10:00:02Z","run_id":"` + id + `","step":"a","host":"h1","status":"ok"}`
	}
	for name, rec := range map[string]string{
		"two records joined":  start("R1") + "\n" + end("R1") + "\n" + start("R2") + "\n" + end("R2") + "\n",
		"another run's event": start("R1") + "\n" + end("R2") + "\n" + end("R1") + "\n",
	} {
		if _, err := Read(strings.NewReader(rec)); err == nil || !strings.Contains(err.Error(), "line 3") && !strings.Contains(err.Error(), "line 2") {
			t.Errorf("%s: read (%v)", name, err)
		}
	}
}

// Every field of a record is data in every format, not only the output:
// a record whose every string holds markup, quotes, Markdown and escape
// sequences adds no element or attribute to the HTML page, no escape to
// the text, and no link, image or raw HTML to the Markdown.
func TestEveryFieldEscaped(t *testing.T) {
	const evil = `x<script>alert(1)</script>"' onload=alert(2) ![i](https://evil.example/i.png) [l](https://evil.example/) <img src=https://evil.example/p> | \u001b[2J`
	q := strings.NewReplacer(`"`, `\"`).Replace(evil)
	lines := []string{
		`{"schema":"tejun.events/v1","event":"run_start","time":"2026-12-01T10:00:00Z","run_id":"R1","runbook":"` + q + `","runbook_sha256":"` + q + `","inventory":"` + q + `","inventory_sha256":"` + q + `","user":"` + q + `","machine":"` + q + `","args":["` + q + `"],"tejun_version":"` + q + `"}`,
		`{"schema":"tejun.events/v1","event":"step_start","time":"2026-12-01T10:00:01Z","run_id":"R1","step":"a","host":"` + q + `"}`,
		`{"schema":"tejun.events/v1","event":"command","time":"2026-12-01T10:00:02Z","run_id":"R1","step":"a","host":"` + q + `","command":"` + q + `","exit_code":1,"error":"` + q + `","stdout":"` + q + `","stderr":"` + q + `","duration_ms":5}`,
		`{"schema":"tejun.events/v1","event":"step_end","time":"2026-12-01T10:00:03Z","run_id":"R1","step":"a","host":"` + q + `","label":"` + q + `","status":"` + q + `","reason":"` + q + `","error":"` + q + `","stderr_tail":"` + q + `","duration_ms":9}`,
		`{"schema":"tejun.events/v1","event":"step_end","time":"2026-12-01T10:00:03Z","run_id":"R1","step":"` + q + `","host":"h1","status":"failed","error":"` + q + `"}`,
		`{"schema":"tejun.events/v1","event":"run_end","time":"2026-12-01T10:00:05Z","run_id":"R1","status":"` + q + `","exit_code":1,"counts":{"` + q + `":1,"failed":1}}`,
	}
	rec, err := Read(strings.NewReader(strings.Join(lines, "\n") + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"text", "markdown", "html"} {
		var b strings.Builder
		if err := Write(&b, rec, bind(t), Options{Lang: "en", Format: format, RecordPath: evil}); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if strings.ContainsRune(out, 0x1b) {
			t.Errorf("%s: a raw escape sequence", format)
		}
		switch format {
		case "html":
			// html/template escapes quotes in attributes: an attribute a
			// value added would follow a real one.
			if m := regexp.MustCompile(`(?i)<script|<img|["']\s+(on[a-z]+|src|href|style)=|href="[^#]`).FindString(out); m != "" {
				t.Errorf("html: %q is markup", m)
			}
			if !regexp.MustCompile(`class="(ok|changed|failed|refused|skipped|not-run|unknown)"`).MatchString(out) || regexp.MustCompile(`class="[^"]*&`).MatchString(out) {
				t.Errorf("html: a class made of the record's status")
			}
		case "markdown":
			// Outside code, nothing may start an image, a link or a tag.
			prose := regexp.MustCompile("(?s)```+.*?```+|`[^`\n]*`").ReplaceAllString(out, "")
			if m := regexp.MustCompile(`!\[|[^\\]\[l\]\(|<img|<script`).FindString(prose); m != "" {
				t.Errorf("markdown: %q outside code:\n%s", m, out)
			}
		}
	}
}

// A code value is shown as it was, in its cell: runs of spaces kept (an
// argument's value is exact in an audit report), a newline shown as ↵.
func TestMarkdownCodeValueExact(t *testing.T) {
	start := `{"schema":"tejun.events/v1","event":"run_start","time":"2026-12-01T10:00:00Z","run_id":"R1","args":["--var=msg=two  spaces\tand a tab\nnext"]}`
	rec, err := Read(strings.NewReader(start + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := Write(&b, rec, bind(t), Options{Lang: "en", Format: "markdown"}); err != nil {
		t.Fatal(err)
	}
	if want := "| Arguments | `--var=msg=two  spaces\tand a tab↵next` |\n"; !strings.Contains(b.String(), want) {
		t.Errorf("lacks %q:\n%s", want, b.String())
	}
}
