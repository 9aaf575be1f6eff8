// Package steps holds the kinds of step a runbook is made of. A kind is a Go
// struct whose fields are the step's parameters; it says what a person would
// do (Describe) and which commands tejun runs (Plan). Checking and applying
// are separate interfaces so that code holding only a Describer (the offline
// dry-run) cannot change a host by construction.
package steps

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"tejun/transport"
)

// Step is what every kind implements: enough to print the procedure and the
// exact commands, with no way to run anything.
type Step interface {
	// Describe returns the step as the manual would show it, in lang ("ja"
	// or "en").
	Describe(lang string) Description
	// Plan returns the commands tejun runs for this step: read-only checks
	// first, then the changes. Show-exec prints it, and the executor runs
	// exactly these, so the two cannot drift apart.
	Plan() Plan
}

// Description is the manual's view of a step.
type Description struct {
	// Notes are short remarks under the title: preconditions, "nothing to
	// do if already so", why tejun differs from the manual.
	Notes []string
	// Blocks follow the notes, each under a heading such as 実行コマンド.
	Blocks []Block
}

// Block is a headed group of lines.
type Block struct {
	Heading string
	Lines   []string
	Code    Code
}

// Code says how a block's lines are kept: prose may be reflowed and escaped;
// commands and literal text (spec fields, a protections line) are printed
// verbatim, fenced in Markdown and highlighted on a terminal.
type Code int

const (
	Prose Code = iota
	Shell
	Literal
)

// Plan is the commands of one step on one host.
type Plan struct {
	// Check commands only read; a plan-mode connection refuses anything else.
	Check []Op
	// Apply commands make the change; only the executor runs them.
	Apply []Op
}

// Op is one planned action. Most are a command on the step's host; a few
// (a host-to-host transfer) name another host or are not a command.
type Op struct {
	// Host, when set, is the inventory host the op runs on instead of the
	// step's own host.
	Host string
	// Cmd is the command, unless the op is Action.
	Cmd transport.Cmd
	// Action describes an op that is not a shell command (an SFTP stream).
	Action string
	// Variants are forms of Cmd the kind may send instead, as the host's
	// answer decides (a Perforce command re-sent with -C utf8 once the
	// server says it is Unicode). Plan mode's gate admits them;
	// --show-exec shows Cmd.
	Variants []transport.Cmd
	// Chosen are the words of Cmd (and its Variants) that the host picks
	// as it runs: the plan can only show a placeholder for them. Plan
	// mode's gate admits, in their place and only in this op, what their
	// Pattern matches.
	Chosen []Chosen
	// ActionJa is Action for the Japanese procedure; empty: Action.
	ActionJa string
}

// Chosen is a placeholder a kind declares in its plan for a word the host
// chooses: a checkpoint file's number, which the server takes from its
// journal counter, is shown as ckp.N and sent as ckp.12.
type Chosen struct {
	Word    string // as the plan shows it: "ckp.N"
	Pattern string // a regular expression for what is sent instead: `ckp\.[0-9]+`
}

// Choosing declares c on each op whose command (or a variant of it) shows
// c.Word, so the declaration sits with the commands that need it and no
// other op's gate admits more than it shows.
func Choosing(ops []Op, c Chosen) []Op {
	out := make([]Op, len(ops))
	for i, op := range ops {
		shows := false
		for _, cmd := range append([]transport.Cmd{op.Cmd}, op.Variants...) {
			shows = shows || strings.Contains(strings.Join(cmd.Argv, " "), c.Word)
		}
		if shows {
			op.Chosen = append(append([]Chosen(nil), op.Chosen...), c)
		}
		out[i] = op
	}
	return out
}

// Checker is the read-only half of running a step: it reports whether the
// host is already in the state the step wants.
type Checker interface {
	Check(ctx context.Context, env Env) (Status, error)
}

// Applier is the only call that changes a host.
type Applier interface {
	Apply(ctx context.Context, env Env) error
}

// Env is what a step sees when it runs on one host. Dry-run never builds
// one; the executor does, and plan mode gives one that refuses anything but
// the step's own check commands.
type Env interface {
	// Host is the inventory name of the host.
	Host() string
	// Run runs cmd on the host (with the host's default run-as user when
	// cmd names none) and returns its standard output. A failure keeps the
	// command's stderr (*transport.ExitError).
	Run(ctx context.Context, cmd transport.Cmd, stdin io.Reader) (string, error)
	// Files moves files to and from the host.
	Files() (transport.Files, error)
	// On is the Env of another inventory host (a transfer's destination).
	On(host string) (Env, error)
	// Secret is a declared secret's value, for sending on stdin.
	Secret(name string) ([]byte, error)
	// Confirm asks the operator; ErrNoOperator when nobody can answer.
	Confirm(ctx context.Context, question string) error
	// Dir is the directory relative local paths (an upload's src) start from.
	Dir() string
}

// ErrNoOperator: a step needs a person and the run is unattended.
var ErrNoOperator = errors.New("no operator to confirm (not on a terminal)")

// Skip is returned by Apply when a step decides, rightly, not to act (an
// optional manual step in an unattended run).
type Skip struct{ Reason string }

func (s *Skip) Error() string { return "skipped: " + s.Reason }

// Status is a Check's verdict.
type Status struct {
	Done   bool
	Reason string
}

// Done and NotDone make statuses with a reason for the run's output.
func Done(format string, args ...any) Status {
	return Status{Done: true, Reason: fmt.Sprintf(format, args...)}
}

func NotDone(format string, args ...any) Status {
	return Status{Reason: fmt.Sprintf(format, args...)}
}

// Verifier is implemented by kinds that confirm their Apply took effect.
type Verifier interface {
	Verify(ctx context.Context, env Env) error
}

// Runner is a step the executor can run: every kind meant to run has both
// halves.
type Runner interface {
	Step
	Checker
	Applier
}

// VerifyByCheck is Verify for kinds whose Check states the goal: after
// Apply, Check must find it done.
func VerifyByCheck(ctx context.Context, env Env, c Checker) error {
	st, err := c.Check(ctx, env)
	if err != nil {
		return err
	}
	if !st.Done {
		return fmt.Errorf("still not done after applying: %s", st.Reason)
	}
	return nil
}

// exitCode returns the exit status of a command that ran and failed, or -1.
func exitCode(err error) int {
	var ee *transport.ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	return -1
}

// Problem is a parameter a kind refuses, named by its key so the runbook can
// point at its line.
type Problem struct {
	Key string
	Msg string
}

// Validator is implemented by kinds whose parameters need more than their
// types to be right (one of two fields, a known mode).
type Validator interface {
	Validate() []Problem
}

// Producer is implemented by kinds whose result later steps use, such as the
// checkpoint file name only the server knows. Outputs returns the values a
// dry-run shows in their place.
type Producer interface {
	Outputs() map[string]string
}

// RealProducer is a Producer whose outputs are only known once it has run
// (the server names the checkpoint file): Produced returns them after
// Check or Apply.
type RealProducer interface {
	Producer
	Produced() map[string]string
}

// SecretUser is implemented by kinds that send a secret (on stdin); the
// runbook checks the names are declared and never templates their values.
type SecretUser interface {
	Secrets() []string
}

// HostUser is implemented by kinds with a parameter naming another host
// (a transfer's destination); the runbook checks it against the inventory.
type HostUser interface {
	HostParams() map[string]string
}

// Destroyer is implemented by kinds that can destroy data, so the executor
// asks before running them.
type Destroyer interface {
	Destructive() bool
}

// Waiter marks verify kinds, the only ones whose retries and interval mean
// anything.
type Waiter interface {
	Waits()
}

// ApplyPlan is Apply for kinds whose change is plain commands on their own
// host: it runs the Plan's Apply ops in order, so what --show-exec prints
// is what runs, written once. An op that is something else (an SFTP
// stream, a command on another host, a secret on stdin) is refused: a kind
// with one writes its own Apply and its Plan says so with an Action.
func ApplyPlan(ctx context.Context, env Env, s Step) error {
	for _, op := range s.Plan().Apply {
		if op.Action != "" || op.Host != "" || op.Cmd.Stdin != "" {
			return fmt.Errorf("steps: %s is not a plain command on this host; the kind needs an Apply of its own", op.describe())
		}
		if _, err := env.Run(ctx, op.Cmd, nil); err != nil {
			return err
		}
	}
	return nil
}

func (op Op) describe() string {
	if op.Action != "" {
		return op.Action
	}
	if op.Host != "" {
		return "[" + op.Host + "] " + op.Cmd.String()
	}
	return op.Cmd.String()
}

// Deprecated is implemented by kinds that still read an old key: the
// runbook warns, naming the key and what to write instead (tejun check).
type Deprecated interface {
	Deprecated() map[string]string
}
