package steps

import (
	"context"
	"regexp"

	"tejun/transport"
)

// WaitUntil runs a read-only command until its output matches a pattern
// (replication caught up, a port answers), retrying as the step's retries
// and interval say. It changes nothing.
type WaitUntil struct {
	RunAs
	Argv    []string `toml:"argv" doc:"A read-only command to run until its output matches."`
	Pattern string   `toml:"pattern" doc:"The regular expression the output must match."`
}

func (w *WaitUntil) Validate() []Problem {
	var ps []Problem
	if len(w.Argv) == 0 {
		ps = append(ps, Problem{"argv", "wait_until needs argv"})
	}
	if _, err := regexp.Compile(w.Pattern); err != nil {
		ps = append(ps, Problem{"pattern", "pattern: " + err.Error()})
	}
	return ps
}

func (w *WaitUntil) Waits() {}

func (w *WaitUntil) cmd() transport.Cmd { return w.As(Parsed(transport.Cmd{Argv: w.Argv}))[0] }

func (w *WaitUntil) Describe(lang string) Description {
	return Description{Blocks: []Block{
		CommandBlock(lang, w.cmd()),
		{Heading: T(lang, "確認する内容", "Expected"), Lines: ExpectedLines(lang, "出力", w.Pattern)},
	}}
}

func (w *WaitUntil) Plan() Plan { return Plan{Check: Ops(w.cmd())} }

func (w *WaitUntil) Check(ctx context.Context, env Env) (Status, error) {
	out, err := env.Run(ctx, w.cmd(), nil)
	if err != nil {
		if exitCode(err) >= 0 {
			return NotDone("%v", err), nil
		}
		return Status{}, err
	}
	if regexp.MustCompile(w.Pattern).MatchString(out) {
		return Done("output matches %s", w.Pattern), nil
	}
	return NotDone("output does not match %s yet", w.Pattern), nil
}

// Apply has nothing to change: the executor only waits on Check.
func (w *WaitUntil) Apply(ctx context.Context, env Env) error { return nil }
