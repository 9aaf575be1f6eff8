package cli

import (
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/urfave/cli/v2"

	"tejun/runbook"
	"tejun/runbook/mask"
	"tejun/runbook/msg"
	"tejun/runbook/render"
	"tejun/runbook/run"
	"tejun/steps"
)

func (a *App) planCommand() *cli.Command {
	return &cli.Command{
		Name:      "plan",
		Usage:     "connect and run every step's read-only check: what a run would change, and why; changes nothing",
		ArgsUsage: "RUNBOOK",
		Flags: []cli.Flag{
			inventoryFlag,
			swapRolesFlag,
			langFlag("language of step titles"),
			&cli.StringFlag{Name: "format", Value: "text", Usage: "text, or markdown (GitHub Flavored Markdown) for a change ticket"},
			limitFlag,
			&cli.StringFlag{Name: "section", Usage: "only this `SECTION`"},
			&cli.StringSliceFlag{Name: "secret", Usage: "`NAME=@FILE`: read a secret from a file (checks may log in)"},
			stepTimeoutFlag,
			&cli.BoolFlag{Name: "detailed-exitcode", Usage: "exit 0 when nothing would change, 2 when something would, 1 on any error (as terraform plan)"},
		},
		Action: a.plan,
	}
}

func (a *App) plan(c *cli.Context) error {
	lang, err := a.lang(c)
	if err != nil {
		return err
	}
	if err := oneOf("format", c.String("format"), "text", "markdown"); err != nil {
		return err
	}
	st, err := stepTimeout(c)
	if err != nil {
		return err
	}
	l, err := a.load(c)
	if err != nil {
		return err
	}
	if err := run.CheckSelection(l.binding, run.Options{Limit: limit(c), Section: c.String("section")}); err != nil {
		return invalid(err) // before any secret is asked for
	}
	secrets, err := a.secrets(l.binding, c.StringSlice("secret"))
	if err != nil {
		return err
	}
	userCfg := a.userConfig(c)
	opt := run.Options{Plan: true, StepTimeout: st, Limit: limit(c), Section: c.String("section"), Secrets: secrets,
		Dir: filepath.Dir(l.runbookPath), UserConfig: userCfg}
	if err := run.Check(l.binding, opt); err != nil {
		return invalid(err)
	}
	col := &planCollector{}
	// The checks' progress goes to stderr, the plan itself to stdout: a
	// plan saved to a file, diffed or pasted into a ticket holds the plan
	// only. On a terminal it is one live line per running check and host,
	// gone when the plan is printed; off one (CI), stamped lines.
	prog := newHuman(a.stderr, l.binding, lang, false, a.colorFor(a.stderr))
	prog.plan = true
	prog.live = a.liveFor(a.stderr)
	prog.start()
	defer prog.finish()
	a.setScreen(prog.writer(a.stderr))
	defer a.setScreen(nil)
	res, err := run.Run(c.Context, l.binding, opt, reporters{col, prog})
	prog.finish()
	if err != nil {
		return invalid(err)
	}
	// Plain text, no styling: made visible as a whole (hosts' output is in
	// the reasons).
	var out strings.Builder
	writePlan(&out, l, lang, c.String("format") == "markdown", l.binding.Runbook.Order(), col.events)
	io.WriteString(a.stdout, mask.Visible(out.String()))
	if res.Unreachable() {
		return &exitError{ExitUnreachable, fmt.Errorf("a host could not be reached")}
	}
	if res.Count(run.Failed) > 0 {
		return &exitError{ExitFailed, fmt.Errorf("%s could not be checked", count(res.Count(run.Failed), "step"))}
	}
	if c.Bool("detailed-exitcode") && res.Count(run.WillChange)+res.Count(run.MayChange) > 0 {
		// Not an error: the plan said it all on stdout.
		return &exitError{code: ExitChanges}
	}
	return nil
}

// detailedExitCode maps an exit code for plan --detailed-exitcode, where 2
// means "changes pending" and so can no longer mean a usage error: every
// failure is 1, as terraform plan -detailed-exitcode has it. It is decided
// from the arguments, so a flag error (found before the plan runs) is 1 too.
// An interrupt stays 130, as a shell expects of any command.
func detailedExitCode(args []string, code int) int {
	if code == ExitOK || code == ExitInterrupted || len(args) < 2 || args[1] != "plan" {
		return code
	}
	for _, a := range args[2:] {
		if a == "--" {
			break
		}
		if a == "--detailed-exitcode" || a == "-detailed-exitcode" || a == "--detailed-exitcode=true" || a == "-detailed-exitcode=true" {
			return ExitFailed
		}
	}
	return code
}

type planCollector struct {
	mu     sync.Mutex
	events []run.Event
}

func (p *planCollector) Started(*runbook.Step, string)     {}
func (p *planCollector) Log(*runbook.Step, string, string) {}
func (p *planCollector) Finished(ev run.Event) {
	p.mu.Lock()
	p.events = append(p.events, ev)
	p.mu.Unlock()
}

// planWord is a verdict as a person reads it.
func planWord(lang string, s run.Status) string {
	words := map[run.Status][2]string{
		run.OK:         {"作業不要（完了済み）", "already done"},
		run.WillChange: {"変更あり", "will change"},
		run.MayChange:  {"変更の可能性あり", "may change"},
		run.Failed:     {"確認できず", "could not check"},
		run.Skipped:    {"対象外", "not checked"},
	}
	w := words[s]
	if lang == "en" {
		return w[1]
	}
	return w[0]
}

// writePlan prints the plan in run order, one line per step and host.
func writePlan(w io.Writer, l *loaded, lang string, markdown bool, order []*runbook.Step, events []run.Event) {
	byStep := map[string][]run.Event{}
	for _, e := range events {
		byStep[e.Step.ID] = append(byStep[e.Step.ID], e)
	}
	// Hosts finish in any order; the plan lists them in the inventory's
	// order for the step, so that two plans of one state read the same
	// and diff clean.
	for id, evs := range byStep {
		rank := map[string]int{"": -1}
		for i, in := range l.binding.Instances[id] {
			rank[in.Host.Name] = i
		}
		sort.SliceStable(evs, func(i, j int) bool { return rank[evs[i].Host] < rank[evs[j].Host] })
	}
	title := func(st *runbook.Step) string {
		if ins := l.binding.Instances[st.ID]; len(ins) > 0 {
			return ins[0].Title.In(lang)
		}
		return st.ID
	}
	rb := l.binding.Runbook
	if markdown {
		fmt.Fprintf(w, "# %s: plan\n\n", render.EscapeMarkdownCell(rb.Title.In(lang)))
		// GitHub Flavored Markdown: a table per step and host.
		fmt.Fprintf(w, "%s %s, %s %s\n\n", steps.T(lang, "ランブック", "Runbook"), render.MarkdownCode(l.runbookPath), steps.T(lang, "インベントリ", "inventory"), render.MarkdownCode(l.inventoryPath))
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n|---|---|---|---|---|\n", steps.T(lang, "手順", "Step"), steps.T(lang, "内容", "Title"),
			steps.T(lang, "ホスト", "Host"), steps.T(lang, "判定", "Plan"), steps.T(lang, "理由", "Reason"))
	} else {
		fmt.Fprintf(w, "%s: plan (%s, %s)\n\n", rb.Title.In(lang), l.runbookPath, l.inventoryPath)
	}
	verdictW := 12
	for _, s := range []run.Status{run.OK, run.WillChange, run.MayChange, run.Failed, run.Skipped} {
		verdictW = max(verdictW, render.Width(planWord(lang, s)))
	}
	counts := map[run.Status]int{}
	for _, st := range order {
		for _, e := range byStep[st.ID] {
			counts[e.Status]++
			reason := e.Reason
			if e.Error != "" {
				reason = e.Error
			}
			reason = msg.Translate(lang, reason)
			host := e.Host
			if host == "" {
				host = "-"
			}
			if markdown {
				fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", st.LabelIn(lang), render.EscapeMarkdownCell(title(st)), render.EscapeMarkdownCell(host), planWord(lang, e.Status), render.EscapeMarkdownCell(reason))
			} else {
				// Columns by display width (a Japanese verdict takes two
				// columns a character); a reason of several lines (a diff)
				// goes on under its own column.
				head := render.PadRight(st.LabelIn(lang), 5) + " " + render.PadRight(trim(st.ID, 28), 28) + " " +
					render.PadRight(host, 10) + " " + render.PadRight(planWord(lang, e.Status), verdictW) + " "
				fmt.Fprintln(w, head+strings.ReplaceAll(strings.TrimRight(reason, "\n"), "\n", "\n"+strings.Repeat(" ", render.Width(head))))
			}
		}
	}
	var sum []string
	for _, s := range []run.Status{run.WillChange, run.MayChange, run.OK, run.Failed} {
		if counts[s] > 0 {
			sum = append(sum, fmt.Sprintf("%s %d", planWord(lang, s), counts[s]))
		}
	}
	fmt.Fprintf(w, "\n%s\n", strings.Join(sum, ", "))
}
