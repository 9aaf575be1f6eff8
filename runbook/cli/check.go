package cli

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

func (a *App) checkCommand() *cli.Command {
	return &cli.Command{
		Name:      "check",
		Usage:     "validate a runbook and its inventory: every problem at once, with file:line; contacts no host",
		ArgsUsage: "RUNBOOK",
		Flags:     []cli.Flag{inventoryFlag, swapRolesFlag},
		Action: func(c *cli.Context) error {
			l, err := a.load(c)
			if err != nil {
				return err
			}
			b := l.binding
			// Warnings are allowed choices that deserve a second look
			// (unquoted shell values); they do not fail the check.
			for _, w := range b.Warnings {
				fmt.Fprintf(a.stderr, "%s:%d: warning: %s\n", w.File, w.Line, w.Msg)
			}
			hosts := map[string]bool{}
			n := 0
			for _, ins := range b.Instances {
				for _, in := range ins {
					hosts[in.Host.Name] = true
					n++
				}
			}
			fmt.Fprintf(a.stdout, "%s: ok (%s, %s on %s)\n", l.runbookPath,
				count(len(b.Runbook.Steps), "step"), count(n, "step run"), count(len(hosts), "host"))
			return nil
		},
	}
}
