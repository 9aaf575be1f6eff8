package report

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"tejun/runbook"
	"tejun/runbook/mask"
	"tejun/runbook/msg"
	"tejun/runbook/render"
	"tejun/steps"
)

// Options say how to print.
type Options struct {
	Lang   string // "ja" (default) or "en"
	Format string // "text" (default), "markdown" (GFM) or "html"
	// Color styles text output; off for pipes, files and NO_COLOR.
	Color bool
	// RecordPath is the audit record's path, for the header.
	RecordPath string
}

// doc is the filled-in manual, ready for any of the formats.
type doc struct {
	title, subtitle string
	meta            []metaRow
	hosts           [][]string
	counts          string
	// attention lists what did not go as planned (failed, refused), one
	// line per step and host, so the reviewer sees it before the detail.
	attention []string
	sections  []section
}

// metaRow is a header line; code values (paths, digests, arguments) are
// code spans in Markdown and HTML.
type metaRow struct {
	key, value string
	code       bool
}

type section struct {
	heading string
	notes   []string
	steps   []step
}

type step struct {
	number, title, id string
	notes             []string
	parts             []render.Part
	status            string // the step's overall status, for a badge
	results           []Result
	commands          []hostCommands
}

// hostCommands are the commands a step ran on one host, in order.
type hostCommands struct {
	host     string
	early    bool // run before the step's turn, as another step's done_when
	commands []Command
}

// Write prints rec as the procedure of b filled in with what happened.
// b must be the runbook and inventory the run used (the caller checks
// their SHA-256 against the record's).
func Write(w io.Writer, rec *Record, b *runbook.Binding, o Options) error {
	if o.Lang == "" {
		o.Lang = "ja"
	}
	d := build(rec, b, o)
	var out string
	switch o.Format {
	case "markdown":
		out = markdown(d, o.Lang)
	case "html":
		out = html(d, o.Lang)
	default:
		out = text(d, o.Lang, o.Color)
	}
	_, err := io.WriteString(w, out)
	return err
}

func build(rec *Record, b *runbook.Binding, o Options) doc {
	lang := o.Lang
	p := render.Build(b, render.Options{Lang: lang})
	d := doc{title: p.Title, subtitle: t(lang, "実行記録", "Run report"), hosts: p.Hosts}
	add := func(ja, en, v string) { d.meta = append(d.meta, metaRow{key: t(lang, ja, en), value: v}) }
	addCode := func(ja, en, v string) { d.meta = append(d.meta, metaRow{key: t(lang, ja, en), value: v, code: true}) }
	addCode("実行 ID", "Run ID", rec.RunID)
	addCode("ランブック", "Runbook", rec.Runbook)
	addCode("ランブック SHA-256", "Runbook SHA-256", rec.RunbookSHA256)
	addCode("インベントリ", "Inventory", rec.Inventory)
	addCode("インベントリ SHA-256", "Inventory SHA-256", rec.InvSHA256)
	version := rec.Version
	if version == "" {
		version = t(lang, "記録なし", "not recorded")
	}
	add("tejun バージョン", "tejun version", version)
	add("実行者", "User", rec.User)
	add("マシン", "Machine", rec.Machine)
	add("開始", "Started", stamp(rec.Start))
	if rec.Ended {
		add("終了", "Ended", stamp(rec.End)+" ("+seconds(lang, rec.Duration)+")")
		add("結果", "Outcome", fmt.Sprintf("%s (exit %d)", rec.Status, rec.ExitCode))
	} else if rec.Running {
		add("終了", "Ended", t(lang, "未終了（実行はまだ続いています：ここまでの記録です）",
			"not yet (the run is still running: this is the record so far)"))
	} else {
		add("終了", "Ended", t(lang, "記録なし（tejun が途中で終了しました：記録はそこまでです）",
			"not recorded (tejun stopped part way: the record ends there)"))
	}
	if len(rec.Args) > 0 {
		addCode("引数", "Arguments", strings.Join(rec.Args, " "))
	}
	if rec.SwappedRoles != "" {
		addCode("ロール入れ替え", "Swapped roles", rec.SwappedRoles)
	}
	if o.RecordPath != "" {
		addCode("監査記録", "Audit record", o.RecordPath)
	}
	d.counts = counts(rec.Counts)
	seen := map[string]bool{}
	for _, sec := range p.Sections {
		sd := section{heading: sec.Heading, notes: sec.Notes}
		for _, st := range sec.Steps {
			seen[st.ID] = true
			sd.steps = append(sd.steps, fill(rec, lang, step{number: st.Number, title: st.Title, id: st.ID, notes: st.Notes, parts: st.Parts}))
		}
		d.sections = append(d.sections, sd)
	}
	// A record of another version of the runbook is refused by the
	// caller; should one still name a step the runbook lacks, it is shown
	// rather than dropped.
	var extra section
	for _, id := range rec.stepOrder {
		if !seen[id] {
			extra.steps = append(extra.steps, fill(rec, lang, step{id: id, title: id}))
		}
	}
	for _, sec := range d.sections {
		for _, st := range sec.steps {
			for _, r := range st.results {
				if r.Status != "failed" && r.Status != "refused" {
					continue
				}
				why := r.Error
				if why == "" {
					why = r.Reason
				}
				// The number from the runbook, not the record: the record's
				// label is in the run's language, the report in its own.
				num := r.Label
				if rs := b.Runbook.Step(st.id); rs != nil {
					num = rs.Label()
				}
				l := strings.TrimSpace(label(lang, num) + " " + st.title + ": " + statusText(lang, r.Status))
				if r.Host != "" {
					l += t(lang, "（"+r.Host+"）", " on "+r.Host)
				}
				if why != "" {
					l += ": " + strings.SplitN(why, "\n", 2)[0]
				}
				d.attention = append(d.attention, l)
			}
		}
	}
	if n := rec.Counts["skipped"]; n > 0 {
		d.attention = append(d.attention, msg.In(lang, msg.ReportSkipCount, n))
	}
	if len(extra.steps) > 0 {
		extra.heading = t(lang, "ランブックにない手順（記録のみ）", "Steps in the record but not in the runbook")
		d.sections = append(d.sections, extra)
	}
	return d
}

func fill(rec *Record, lang string, s step) step {
	s.results = rec.Results(s.id)
	// The record keeps tejun's own reasons in English, for programs; the
	// reviewer reads them in the report's language.
	for i := range s.results {
		s.results[i].Reason = msg.Translate(lang, s.results[i].Reason)
		s.results[i].Error = msg.Translate(lang, s.results[i].Error)
	}
	// A verify step named by another step's done_when is checked when
	// that step comes up, before its own turn: those commands ended before
	// the step first started (or the step never started), and are shown
	// apart, so they are not read as the step's own run. (A step's
	// commands on another host, a transfer's or a parity check's, come
	// after its start.)
	var first time.Time
	for _, r := range s.results {
		if !r.Start.IsZero() && (first.IsZero() || r.Start.Before(first)) {
			first = r.Start
		}
	}
	idx := map[string]int{}
	for _, c := range rec.Commands(s.id) {
		early := first.IsZero() || c.End.Before(first)
		key := fmt.Sprintf("%s\x00%v", c.Host, early)
		i, ok := idx[key]
		if !ok {
			i = len(s.commands)
			idx[key] = i
			s.commands = append(s.commands, hostCommands{host: c.Host, early: early})
		}
		s.commands[i].commands = append(s.commands[i].commands, c)
	}
	s.status = overall(s.results)
	return s
}

// overall is the worst status of a step's hosts: the one a reviewer must
// look at first.
func overall(rs []Result) string {
	if len(rs) == 0 {
		return "not-run"
	}
	rank := map[string]int{"ok": 1, "changed": 2, "skipped": 3, "refused": 4, "failed": 5}
	worst := ""
	for _, r := range rs {
		if rank[r.Status] > rank[worst] || worst == "" {
			worst = r.Status
		}
	}
	return worst
}

// statusText is a status as the reviewer reads it: the word tejun prints
// (scripts and the JSON events use it) and, in Japanese, what it means.
func statusText(lang, s string) string {
	ja := map[string]string{"ok": "ok（作業済み・変更なし）", "changed": "changed（実施）", "failed": "failed（失敗）",
		"skipped": "skipped（未実施）", "refused": "refused（拒否・未実施）", "not-run": "未実行（この実行の対象外）"}
	en := map[string]string{"not-run": "not run (not part of this run)"}
	if lang == "ja" {
		if v, ok := ja[s]; ok {
			return v
		}
	} else if v, ok := en[s]; ok {
		return v
	}
	return s
}

func counts(c map[string]int) string {
	var out []string
	for _, s := range []string{"ok", "changed", "failed", "refused", "skipped"} {
		if c[s] > 0 {
			out = append(out, fmt.Sprintf("%s=%d", s, c[s]))
		}
	}
	var rest []string
	for s, n := range c {
		if !strings.Contains(" ok changed failed refused skipped ", " "+s+" ") && n > 0 {
			rest = append(rest, fmt.Sprintf("%s=%d", s, n))
		}
	}
	sort.Strings(rest)
	return strings.Join(append(out, rest...), " ")
}

func stamp(tm time.Time) string {
	if tm.IsZero() {
		return "-"
	}
	return tm.UTC().Format("2006-01-02 15:04:05.000 UTC")
}

func seconds(lang string, d time.Duration) string {
	return t(lang, fmt.Sprintf("%.2f 秒", d.Seconds()), fmt.Sprintf("%.2f s", d.Seconds()))
}

// timing is when a step ran on a host and how long it took: the time of
// day (UTC; the header has the date) lets a reviewer line the report up
// with the hosts' own logs.
func timing(lang string, r Result) string {
	if r.Start.IsZero() {
		return seconds(lang, r.Duration)
	}
	return r.Start.UTC().Format("15:04:05.000") + " +" + seconds(lang, r.Duration)
}

// resultLine says how a step ended on one host.
func resultLine(lang string, r Result) string {
	host := r.Host
	if host == "" {
		host = t(lang, "全ホスト", "all hosts")
	}
	l := "[" + host + "] " + statusText(lang, r.Status)
	if r.Timed {
		l += "  " + timing(lang, r)
	}
	switch {
	case r.Error != "":
		l += "  " + r.Error
	case r.Reason != "":
		l += "  " + r.Reason
	}
	return l
}

// exitLine says how a command ended.
func exitLine(lang string, c Command) string {
	code := fmt.Sprint(c.ExitCode)
	if c.ExitCode < 0 {
		code = t(lang, "なし", "none")
	}
	l := t(lang, "終了コード ", "exit ") + code + t(lang, "、", ", ") + seconds(lang, c.Duration)
	// When it ended: a step's check can run inside another's (a done_when
	// guard), so its commands are not always where the step's time is.
	if !c.End.IsZero() {
		l += t(lang, "、", ", ") + t(lang, "終了 ", "ended ") + c.End.UTC().Format("15:04:05.000")
	}
	// A command that exited has said why in its output; one that did not
	// (a lost connection, a timeout) has only the error.
	if c.Error != "" && c.ExitCode < 0 {
		l += ": " + c.Error
	}
	return l
}

func commandsHeading(lang string, hc hostCommands) string {
	if hc.early {
		return t(lang, "実行結果（"+hc.host+"、この手順の前に done_when の確認として実行）",
			"Result (on "+hc.host+", run earlier to check another step's done_when)")
	}
	return t(lang, "実行結果（"+hc.host+"）", "Result (on "+hc.host+")")
}

// outputLines are a command's output as lines, stderr marked.
func outputLines(c Command) []string {
	var out []string
	if s := strings.TrimRight(c.Stdout, "\n"); s != "" {
		out = append(out, strings.Split(s, "\n")...)
	}
	if s := strings.TrimRight(c.Stderr, "\n"); s != "" {
		for _, l := range strings.Split(s, "\n") {
			out = append(out, "stderr: "+l)
		}
	}
	return out
}

// visible makes remote text safe to show: escape sequences and control
// characters a host printed are shown, not obeyed.
func visible(s string) string { return mask.Visible(s) }

func t(lang, ja, en string) string { return steps.T(lang, ja, en) }

func attentionHeading(lang string) string { return t(lang, "要確認", "Needs attention") }

// label is the manual's step number as the language writes it: ① in
// Japanese, (1) in English, as the procedure's own headings.
func label(lang, l string) string {
	if lang == "ja" {
		return l
	}
	var b strings.Builder
	for _, r := range l {
		if r >= '①' && r <= '⑳' {
			fmt.Fprintf(&b, "(%d)", r-'①'+1)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
