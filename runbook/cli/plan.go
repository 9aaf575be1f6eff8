package cli

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"

	"github.com/urfave/cli/v2"

	"tejun/runbook"
	"tejun/runbook/mask"
	"tejun/runbook/msg"
	"tejun/runbook/render"
	"tejun/runbook/run"
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
	render.WritePlan(&out, l.binding, render.PlanOptions{Lang: lang, Markdown: c.String("format") == "markdown",
		Runbook: l.runbookPath, Inventory: l.inventoryPath}, planLines(lang, col.events))
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

// planLines are the walk's events as the plan writer's lines, their
// reasons in lang: the writer (runbook/render) cannot know the walk's
// types, being built without it.
func planLines(lang string, events []run.Event) []render.PlanLine {
	var out []render.PlanLine
	for _, e := range events {
		reason := e.Reason
		if e.Error != "" {
			reason = e.Error
		}
		out = append(out, render.PlanLine{Step: e.Step, Host: e.Host, Verdict: verdict(e.Status), Reason: msg.Translate(lang, reason)})
	}
	return out
}

// verdict is the plan writer's word for a status of the plan operation.
func verdict(s run.Status) render.Verdict {
	return map[run.Status]render.Verdict{
		run.OK: render.Done, run.WillChange: render.WillChange, run.MayChange: render.MayChange,
		run.Failed: render.CouldNotCheck, run.Skipped: render.NotChecked,
	}[s]
}
