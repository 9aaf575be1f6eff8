package app

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"tejun/runbook/executor"
	"tejun/transport"
)

func (a *App) run(c *cli.Context) error {
	if err := oneOf("lang", c.String("lang"), "ja", "en"); err != nil {
		return err
	}
	l, err := a.load(c)
	if err != nil {
		return err
	}
	secrets, err := a.secrets(l.binding, c.StringSlice("secret"))
	if err != nil {
		return err
	}
	userCfg, err := transport.DefaultUserConfig()
	if err != nil {
		return invalid(fmt.Errorf("~/.ssh/config: %w", err))
	}
	opt := executor.Options{
		Forks: c.Int("forks"), Yes: c.Bool("yes"), Confirm: a.confirm(),
		Limit: c.String("limit"), From: c.String("from"), Only: c.String("only"), Section: c.String("section"),
		AssumeDone: c.StringSlice("assume-done"), Secrets: secrets,
		Dir: filepath.Dir(l.runbookPath), UserConfig: userCfg,
	}
	if err := executor.Check(l.binding, opt); err != nil {
		return invalid(err)
	}
	rep := newHuman(a.stdout, l.binding, c.String("lang"), c.Bool("verbose"), a.colorFor(a.stdout))
	start := time.Now()
	res, err := executor.Run(c.Context, l.binding, opt, rep)
	if err != nil {
		return invalid(err)
	}
	rep.summary(res, time.Since(start))
	switch {
	case res.Interrupted:
		return &exitError{ExitInterrupted, errors.New("interrupted: no new steps were started, running commands were stopped")}
	case res.Count(executor.Failed) > 0 && res.Unreachable():
		return &exitError{ExitUnreachable, errors.New("a host could not be reached")}
	case res.Count(executor.Failed) > 0:
		return &exitError{ExitFailed, fmt.Errorf("%s failed", count(res.Count(executor.Failed), "step"))}
	case res.Count(executor.Refused) > 0:
		return &exitError{ExitRefused, errors.New("destructive steps were not confirmed; run on a terminal or pass --yes")}
	}
	return nil
}
