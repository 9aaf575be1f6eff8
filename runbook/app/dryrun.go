package app

import (
	"github.com/urfave/cli/v2"

	"tejun/runbook/dryrun"
)

func dryRunFlags() []cli.Flag {
	return []cli.Flag{
		inventoryFlag,
		&cli.StringFlag{Name: "lang", Value: "ja", Usage: "language of the procedure: ja or en"},
		&cli.StringFlag{Name: "format", Value: "text", Usage: "text (terminal) or markdown (for a change ticket)"},
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
	if err := oneOf("lang", c.String("lang"), "ja", "en"); err != nil {
		return err
	}
	if err := oneOf("format", c.String("format"), "text", "markdown"); err != nil {
		return err
	}
	l, err := a.load(c)
	if err != nil {
		return err
	}
	return dryrun.Write(a.stdout, l.binding, dryrun.Options{
		Lang:          c.String("lang"),
		Markdown:      c.String("format") == "markdown",
		ShowExec:      c.Bool("show-exec"),
		Color:         c.String("format") == "text" && a.colorFor(a.stdout),
		RunbookPath:   l.runbookPath,
		InventoryPath: l.inventoryPath,
	})
}

func (a *App) runCommand() *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "run a runbook against its inventory (with --dry-run: print it instead)",
		ArgsUsage: "RUNBOOK",
		Flags:     append(dryRunFlags(), &cli.BoolFlag{Name: "dry-run", Usage: "print the procedure; contact no host"}),
		Action: func(c *cli.Context) error {
			if c.Bool("dry-run") {
				return a.dryRun(c)
			}
			if _, err := a.load(c); err != nil {
				return err
			}
			return invalid(errNoExecutor)
		},
	}
}
