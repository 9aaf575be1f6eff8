// Package render prints a bound runbook as the manual would: numbered
// sections with the host marker, circled step numbers, the exact commands
// with the inventory's values. It is handed only descriptions and plans;
// nothing here can reach a host.
package render

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"tejun/inventory"
	"tejun/runbook"
	"tejun/steps"
)

// Options say how to print.
type Options struct {
	Lang     string // "ja" (default) or "en"
	Markdown bool
	// ShowExec adds the exact commands tejun runs for each step and host,
	// where they differ from what a person types (an editor session becomes
	// "server -o" and "server -i").
	ShowExec bool
	// Color styles terminal output; off for pipes, files and NO_COLOR.
	Color bool
	// Paths as the user gave them, for the header.
	RunbookPath, InventoryPath string
	// RunbookSHA256 and InventorySHA256 identify the files the procedure
	// was printed from; a run's record carries the same digests.
	RunbookSHA256, InventorySHA256 string
	// Version is tejun's, Date when the procedure was printed; both in the
	// header when set.
	Version string
	Date    time.Time
}

// doc is the procedure, ready to print in either format.
type doc struct {
	title    string
	meta     [][2]string
	hosts    [][]string // name, ssh target, roles, jump host
	secrets  [][]string // name, where it comes from, what it is
	sections []section
}

type section struct {
	heading string
	notes   []string
	steps   []step
}

type step struct {
	number string
	title  string
	notes  []string
	parts  []part
	exec   []execPart
}

// part is what a person does on some hosts; a step on a role whose hosts
// all get the same commands has one part for all of them.
type part struct {
	hosts  string // "" when the step runs on one host
	blocks []steps.Block
}

type execPart struct {
	host  string
	lines [][2]string // kind ("check"/"apply"), command
}

func build(b *runbook.Binding, o Options) doc {
	lang := o.Lang
	rb, inv := b.Runbook, b.Inventory
	d := doc{title: rb.Title.In(lang)}
	if d.title == "" {
		d.title = rb.Name
	}
	d.meta = append(d.meta, [2]string{t(lang, "ランブック", "Runbook"), o.RunbookPath + " (" + rb.Name + ")"})
	d.meta = append(d.meta, [2]string{t(lang, "インベントリ", "Inventory"), o.InventoryPath})
	if o.RunbookSHA256 != "" {
		d.meta = append(d.meta, [2]string{t(lang, "ランブック SHA-256", "Runbook SHA-256"), o.RunbookSHA256})
	}
	if o.InventorySHA256 != "" {
		d.meta = append(d.meta, [2]string{t(lang, "インベントリ SHA-256", "Inventory SHA-256"), o.InventorySHA256})
	}
	if rb.Source != "" {
		d.meta = append(d.meta, [2]string{t(lang, "出典", "Source"), rb.Source})
	}
	if o.Version != "" {
		d.meta = append(d.meta, [2]string{t(lang, "tejun バージョン", "tejun version"), o.Version})
	}
	if !o.Date.IsZero() {
		d.meta = append(d.meta, [2]string{t(lang, "作成日時", "Printed"), o.Date.UTC().Format("2006-01-02 15:04:05 UTC")})
	}
	if sw := inv.Swapped; sw[0] != "" {
		d.meta = append(d.meta, [2]string{t(lang, "ロール入替", "Roles swapped"),
			sw[0] + " ⇄ " + sw[1] + t(lang, "（--swap-roles：フェイルバック）", " (--swap-roles: failback)")})
	}
	used := usedHosts(b)
	for _, h := range inv.Hosts {
		if used[h.Name] {
			d.hosts = append(d.hosts, []string{h.Name, sshTarget(h), strings.Join(h.Roles, ", "), h.SSH.Jump})
		}
	}
	for _, s := range rb.Secrets {
		d.secrets = append(d.secrets, []string{s.Name, secretSource(lang, s), s.Description.In(lang)})
	}
	for _, sec := range rb.Sections {
		texts := b.Sections[sec]
		sd := section{heading: heading(lang, sec, texts.Title.In(lang), label(inv, sec.On, lang))}
		sd.notes = lines(texts.Note.In(lang))
		if none := sec.IfNoHosts.In(lang); none != "" && !anyInstance(b, sec) {
			// Aimed at roles this inventory has no host of: the procedure
			// says there is nothing to do instead of showing empty steps.
			sd.notes = append(sd.notes, none)
			d.sections = append(d.sections, sd)
			continue
		}
		skipped := false
		for _, st := range sec.Steps {
			if sec.IfNoHosts.In(lang) != "" && len(b.Instances[st.ID]) == 0 {
				skipped = true // a step for hosts this inventory has none of
				continue
			}
			sd.steps = append(sd.steps, buildStep(b, o, st))
		}
		if skipped {
			sd.notes = append(sd.notes, sec.IfNoHosts.In(lang))
		}
		d.sections = append(d.sections, sd)
	}
	return d
}

func anyInstance(b *runbook.Binding, sec *runbook.Section) bool {
	for _, st := range sec.Steps {
		if len(b.Instances[st.ID]) > 0 {
			return true
		}
	}
	return false
}

func buildStep(b *runbook.Binding, o Options, st *runbook.Step) step {
	lang := o.Lang
	ins := b.Instances[st.ID]
	sd := step{number: st.Mark()}
	if lang == "en" && st.Mark() == runbook.Circled(st.Number) {
		sd.number = fmt.Sprintf("(%d)", st.Number)
	}
	if lang == "en" && st.Sub > 0 && strings.HasPrefix(st.Mark(), runbook.Circled(st.Number)) {
		sd.number = fmt.Sprintf("(%d-%d)", st.Number, st.Sub)
	}
	if len(ins) == 0 {
		return sd
	}
	sd.title = ins[0].Title.In(lang)
	sd.notes = lines(ins[0].Note.In(lang))
	if st.On != st.Section.On {
		sd.notes = append(sd.notes, marker(lang, label(b.Inventory, st.On, lang)))
	}
	if st.DoneWhen != "" {
		if u := b.Runbook.Step(st.DoneWhen); u != nil && len(b.Instances[u.ID]) > 0 {
			label := u.LabelIn(lang)
			title := b.Instances[u.ID][0].Title.In(lang)
			sd.notes = append(sd.notes, t(lang, label+"「"+title+"」が既に成立していれば作業不要です",
				"Nothing to do if "+label+" ("+title+") already holds"))
		}
	}
	if st.Destructive {
		sd.notes = append(sd.notes, t(lang, "削除・停止を伴う手順です。実行前に確認を求めます", "Deletes or stops something: tejun asks before running it"))
	}
	if st.Retries > 0 {
		sd.notes = append(sd.notes, t(lang,
			fmt.Sprintf("条件を満たすまで %s 間隔で最大 %d 回確認します", duration(lang, st.Interval), st.Retries),
			fmt.Sprintf("Checked up to %d times, %s apart, until it holds", st.Retries, duration(lang, st.Interval))))
	}
	if st.Timeout > 0 {
		sd.notes = append(sd.notes, t(lang, "制限時間 ", "Time limit ")+duration(lang, st.Timeout))
	}
	descs := make([]steps.Description, len(ins))
	for i, in := range ins {
		descs[i] = in.Impl.Describe(lang)
	}
	same := true
	for _, d := range descs[1:] {
		same = same && reflect.DeepEqual(d, descs[0])
	}
	if same {
		sd.notes = append(sd.notes, descs[0].Notes...)
		p := part{blocks: descs[0].Blocks}
		if len(ins) > 1 {
			p.hosts = hostList(ins)
		}
		sd.parts = []part{p}
	} else {
		for i, in := range ins {
			sd.parts = append(sd.parts, part{hosts: in.Host.Name, blocks: append(noteBlock(lang, descs[i].Notes), descs[i].Blocks...)})
		}
	}
	if ex := examples(lang, ins[0].Texts); len(ex) > 0 {
		sd.parts = append(sd.parts, part{blocks: ex})
	}
	if o.ShowExec {
		for _, in := range ins {
			// A step that runs nothing on a host (p4.trust for a tcp
			// port) gets no empty "commands tejun runs" block.
			if ep := execFor(lang, b.Inventory, in); len(ep.lines) > 0 {
				sd.exec = append(sd.exec, ep)
			}
		}
	}
	return sd
}

// examples are the manual's sample outputs (under its own headings: 表示
// されるメッセージ例, 実行結果) and its 解説, after the commands as in the
// manual; the reviewer compares a run's real output with them.
func examples(lang string, tx runbook.Texts) []steps.Block {
	var out []steps.Block
	for _, e := range tx.Examples {
		h := e.Heading.In(lang)
		if h == "" {
			h = t(lang, "表示されるメッセージ例", "Example output")
		}
		out = append(out, steps.Block{Heading: h, Lines: lines(e.Output), Code: steps.Literal})
		if n := lines(e.Note.In(lang)); len(n) > 0 {
			out = append(out, steps.Block{Lines: n})
		}
	}
	if n := lines(tx.Explain.In(lang)); len(n) > 0 {
		out = append(out, steps.Block{Heading: t(lang, "解説", "Explanation"), Lines: n})
	}
	return out
}

func noteBlock(lang string, notes []string) []steps.Block {
	if len(notes) == 0 {
		return nil
	}
	out := make([]string, len(notes))
	for i, n := range notes {
		out[i] = bullet(lang, n)
	}
	return []steps.Block{{Lines: out}}
}

func hostList(ins []*runbook.Instance) string {
	names := make([]string, len(ins))
	for i, in := range ins {
		names[i] = in.Host.Name
	}
	return strings.Join(names, ", ")
}

// execFor lists the commands tejun runs for one instance, with the host's
// default run-as user applied by the executor's own transport.Cmd.Sent:
// a reviewer who signs off this list signs off what is sent.
func execFor(lang string, inv *inventory.Inventory, in *runbook.Instance) execPart {
	ep := execPart{host: in.Host.Name}
	plan := in.Impl.Plan()
	add := func(kind string, ops []steps.Op) {
		for _, op := range ops {
			line := op.Action
			if lang == "ja" && op.ActionJa != "" {
				line = op.ActionJa
			}
			if line == "" {
				c := op.Cmd
				if lang == "ja" && c.StdinJa != "" {
					c.Stdin = c.StdinJa
				}
				host := in.Host
				if op.Host != "" {
					if hs, err := inv.Select(op.Host); err == nil && len(hs) == 1 {
						host = hs[0]
					}
				}
				line = c.Sent(host.SSH.Become).String()
			}
			if op.Host != "" {
				line = "[" + op.Host + "] " + line
			}
			ep.lines = append(ep.lines, [2]string{kind, line})
		}
	}
	add("check", plan.Check)
	add("apply", plan.Apply)
	if in.Step.Kind.Caps.Manual {
		ep.lines = append(ep.lines, [2]string{"apply", t(lang, "（作業者の確認を待ちます）", "(waits for the operator to confirm)")})
	}
	return ep
}

func usedHosts(b *runbook.Binding) map[string]bool {
	used := map[string]bool{}
	for _, ins := range b.Instances {
		for _, in := range ins {
			used[in.Host.Name] = true
			if hu, ok := in.Impl.(steps.HostUser); ok {
				for _, target := range hu.HostParams() {
					if hs, err := b.Inventory.Select(target); err == nil {
						for _, h := range hs {
							used[h.Name] = true
						}
					}
				}
			}
		}
	}
	return used
}

func sshTarget(h *inventory.Host) string {
	s := h.Address
	if h.SSH.User != "" {
		s = h.SSH.User + "@" + s
	}
	return fmt.Sprintf("%s:%d", s, h.SSH.Port)
}

func secretSource(lang string, s *runbook.Secret) string {
	var from []string
	if s.Env != "" {
		from = append(from, t(lang, "環境変数 ", "env ")+s.Env)
	}
	if s.File != "" {
		from = append(from, t(lang, "ファイル ", "file ")+s.File)
	}
	if s.Prompt {
		from = append(from, t(lang, "端末で入力", "prompt on a terminal"))
	}
	return strings.Join(from, t(lang, "、なければ", ", else "))
}

func heading(lang string, sec *runbook.Section, title, label string) string {
	num := "■ "
	switch {
	case sec.Numbered != "":
		num = sec.Numbered + ". "
	case sec.Number > 0:
		num = runbook.Fullwidth(sec.Number)
		if lang == "en" {
			num = fmt.Sprintf("%d. ", sec.Number)
		}
	}
	switch {
	case sec.Optional && len(sec.With) > 0:
		title += t(lang, "（--section "+strings.Join(sec.With, "、")+" の後に続けて実行。単独では --section "+sec.ID+"）",
			" (runs after --section "+strings.Join(sec.With, ", ")+"; alone with --section "+sec.ID+")")
	case sec.Optional:
		title += t(lang, "（任意：--section "+sec.ID+" で実行）", " (optional: run with --section "+sec.ID+")")
	}
	if sec.On == "" {
		return num + title
	}
	if lang == "en" {
		return num + title + " — " + marker(lang, label)
	}
	return num + title + marker(lang, label)
}

// label names a target for the host marker: "the master server" in
// English when the inventory gives a label, the bare name otherwise.
func label(inv *inventory.Inventory, target, lang string) string {
	l := inv.Label(target, lang)
	if lang == "en" && l != target && target != inventory.All {
		return "the " + l
	}
	return l
}

func marker(lang, label string) string {
	return t(lang, "【"+label+"で作業します】", "on "+label)
}

func lines(s string) []string {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// duration prints whole seconds and minutes the way each language writes
// them; anything finer keeps Go's notation.
func duration(lang string, d time.Duration) string {
	switch {
	case d == 0:
		return t(lang, "間隔なし", "no wait")
	case d%time.Minute == 0:
		return t(lang, fmt.Sprintf("%d分", d/time.Minute), fmt.Sprintf("%d min", d/time.Minute))
	case d%time.Second == 0:
		return t(lang, fmt.Sprintf("%d秒", d/time.Second), fmt.Sprintf("%d s", d/time.Second))
	}
	return d.String()
}

func t(lang, ja, en string) string { return steps.T(lang, ja, en) }
