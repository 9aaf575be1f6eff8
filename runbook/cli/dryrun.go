package cli

import (
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"tejun/runbook/render"
	"tejun/runbook/run"
)

func dryRunFlags() []cli.Flag {
	return []cli.Flag{
		inventoryFlag,
		swapRolesFlag,
		langFlag("language of the procedure"),
		&cli.StringFlag{Name: "format", Value: "text", Usage: "text (terminal) or markdown (GitHub Flavored Markdown, for a change ticket)"},
		&cli.BoolFlag{Name: "show-exec", Usage: "also show the exact commands tejun runs on each host"},
	}
}

func (a *App) dryRunCommand() *cli.Command {
	return &cli.Command{
		Name:      "dry-run",
		Usage:     "print the procedure as the manual would, with the inventory's values; contacts no host",
		ArgsUsage: "[RUNBOOK]  (default: the bundled " + DefaultRunbook + ")",
		Flags:     dryRunFlags(),
		Action:    a.dryRun,
	}
}

func (a *App) dryRun(c *cli.Context) error {
	lang, err := a.lang(c)
	if err != nil {
		return err
	}
	if err := oneOf("format", c.String("format"), "text", "markdown"); err != nil {
		return err
	}
	l, err := a.load(c)
	if err != nil {
		return err
	}
	return render.Write(a.stdout, l.binding, render.Options{
		Lang:          lang,
		Markdown:      c.String("format") == "markdown",
		ShowExec:      c.Bool("show-exec"),
		Color:         c.String("format") == "text" && a.colorFor(a.stdout),
		RunbookPath:   l.runbookPath,
		InventoryPath: l.inventoryPath,
		// The header says which files, which tejun and when: a procedure
		// pasted into a ticket is checked against what later runs.
		RunbookSHA256:   a.sourceSHA256(l.runbookPath),
		InventorySHA256: a.sourceSHA256(l.inventoryPath),
		Version:         Version(),
		Date:            a.now(),
	})
}

func (a *App) runCommand() *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "run a runbook against its inventory: each step checks first, and changes only what is not done",
		ArgsUsage: "RUNBOOK",
		Flags: append(dryRunFlags(),
			&cli.BoolFlag{Name: "dry-run", Usage: "print the procedure; contact no host"},
			&cli.BoolFlag{Name: "yes", Aliases: []string{"y"}, Usage: "run destructive steps without asking (required when not on a terminal)"},
			&cli.IntFlag{Name: "forks", Value: 10, Usage: "hosts worked on at once for a step", Action: positiveForks},
			limitFlag,
			&cli.StringFlag{Name: "from", Usage: "start at this `STEP`; the steps before it are taken as done"},
			&cli.StringFlag{Name: "only", Usage: "run this `STEP` alone"},
			&cli.StringFlag{Name: "section", Usage: "run the steps of this `SECTION` only (one failover drill)"},
			&cli.StringSliceFlag{Name: "assume-done", Usage: "take this `STEP` as done (a manual step done by hand)"},
			&cli.StringSliceFlag{Name: "secret", Usage: "`NAME=@FILE`: read a secret from a file"},
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "show each command and its output (secrets masked)"},
			&cli.StringFlag{Name: "output", Value: "text", Usage: "text, or json: one event per line (schema tejun.events/v1)"},
			&cli.StringFlag{Name: "junit", Usage: "write a JUnit XML report (a test case per step and host) to `FILE`"},
			&cli.BoolFlag{Name: "force-unlock", Usage: "take the hosts' run locks even from a run that seems alive"},
			stepTimeoutFlag,
			&cli.BoolFlag{Name: "resume", Usage: "continue the last run of this runbook and inventory (refused if either changed)"},
			&cli.BoolFlag{Name: "fail-fast", Usage: "at the first failure, start no new step on any host (as the runbook's max_fail = 0)"},
		),
		Action: func(c *cli.Context) error {
			if c.Bool("dry-run") {
				return a.dryRun(c)
			}
			return a.run(c)
		},
	}
}

var stepTimeoutFlag = &cli.DurationFlag{Name: "step-timeout", Value: run.DefaultStepTimeout,
	Usage: "stop a step on a host after this `DURATION` (1h, 30m) unless the step sets its own timeout"}

// stepTimeout is --step-timeout, refused when it would mean no limit.
func stepTimeout(c *cli.Context) (time.Duration, error) {
	d := c.Duration("step-timeout")
	if d <= 0 {
		return 0, invalid(fmt.Errorf("--step-timeout %s: want a positive duration such as 1h or 30m (a step without a limit can hang the run)", d))
	}
	return d, nil
}

// positiveForks refuses --forks 0 or less, which would otherwise silently
// mean the default: a number the user typed is what they meant.
func positiveForks(_ *cli.Context, n int) error {
	if n < 1 {
		return invalid(fmt.Errorf("--forks %d: want 1 or more hosts at once; see tejun run --help", n))
	}
	return nil
}
