// Package cli is tejun's command line. It is built from the three standard
// streams so tests drive it exactly as a shell does, and holds no package
// state: every option travels in the structs built per invocation.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"tejun/inventory/tomlsrc"
	"tejun/runbook/mask"
	"tejun/transport/ssh"
)

// Exit codes. Scripts and CI branch on them, so they are part of the
// interface and never reused for another meaning.
const (
	ExitOK          = 0
	ExitFailed      = 1 // a step failed
	ExitInvalid     = 2 // bad runbook, inventory or usage; nothing was contacted
	ExitUnreachable = 3 // a host could not be reached
	ExitRefused     = 4 // a destructive step was not confirmed
	ExitLocked      = 5 // another run holds a host
	// ExitChanges is plan --detailed-exitcode's "something would change";
	// with that flag every error is ExitFailed, so 2 is unambiguous.
	ExitChanges     = 2
	ExitInterrupted = 130
)

// App is one tejun invocation's environment.
type App struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	// bundled holds the example runbooks compiled into the binary, so the
	// flagship dry-run works from nothing but the binary.
	bundled fs.FS
	// signals are the process's SIGINT and SIGTERM; nil in tests that
	// drive the app with a context instead.
	signals <-chan os.Signal
	// sigpipe and pipeOut: see WithBrokenPipe.
	sigpipe <-chan os.Signal
	pipeOut *os.File
	exit    func(code int)
	// leftover says, when the process must exit before a command has
	// cleaned up, what may be left half-done; set by the run command.
	mu       sync.Mutex
	leftover func() []string
	// screen, during a run with a live display, writes to stderr above
	// the live lines instead of through them.
	screen io.Writer
	// now is the clock documents are dated by (tests fix it).
	now func() time.Time
}

// Option adjusts an App.
type Option func(*App)

// WithBundled gives the app the runbooks compiled into the binary.
func WithBundled(fsys fs.FS) Option { return func(a *App) { a.bundled = fsys } }

// WithEnv replaces the environment lookup (tests use it for NO_COLOR).
func WithEnv(getenv func(string) string) Option { return func(a *App) { a.getenv = getenv } }

// WithSignals makes the app handle interrupts: the first stops the
// command (no new steps, running commands stopped, cleanup bounded by
// interruptGrace), a second, or the grace running out, exits at once with
// ExitInterrupted, saying what may be left half-done.
func WithSignals(sigs <-chan os.Signal) Option { return func(a *App) { a.signals = sigs } }

// interruptGrace is how long an interrupted command may take to stop.
const interruptGrace = 6 * time.Second

// New builds the app on the given streams.
func New(stdin io.Reader, stdout, stderr io.Writer, opts ...Option) *App {
	a := &App{stdin: stdin, stdout: stdout, stderr: stderr, getenv: os.Getenv, exit: os.Exit, now: time.Now}
	for _, o := range opts {
		o(a)
	}
	return a
}

// exitError carries an exit code out of a command action.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

func invalid(err error) error { return &exitError{ExitInvalid, err} }

// Run parses args (args[0] is the program name) and returns the exit code.
func (a *App) Run(ctx context.Context, args []string) int {
	c := a.cli()
	if a.signals != nil || a.sigpipe != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		stop := make(chan struct{})
		defer close(stop)
		// Interrupts are the process's signals, and a standard output
		// whose reader is gone, once.
		interrupts := make(chan os.Signal, 2)
		go func() {
			for {
				select {
				case s := <-a.signals: // nil: never
					interrupts <- s
				case <-stop:
					return
				}
			}
		}()
		if a.sigpipe != nil {
			go a.watchPipe(interrupts, stop)
		}
		go a.watchSignals(interrupts, cancel, stop)
	}
	// tejun help kinds is the reference of every kind, not the usage of
	// the kinds command; tejun help kinds KIND is that kind's.
	if len(args) >= 3 && args[1] == "help" && args[2] == "kinds" {
		rest := args[3:]
		if len(rest) == 0 {
			rest = []string{"--all"}
		}
		args = append([]string{args[0], "kinds"}, rest...)
	}
	err := c.RunContext(ctx, interspersed(c, args))
	if err == nil {
		return ExitOK
	}
	code := ExitFailed
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
		if ee.err == nil {
			return code // a result, not an error: nothing to say
		}
	}
	code = detailedExitCode(args, code)
	var ps tomlsrc.Problems
	if errors.As(err, &ps) {
		for _, p := range ps {
			fmt.Fprintln(a.stderr, mask.Visible(p.Error()))
		}
		fmt.Fprintf(a.stderr, "%s; nothing was run.\n", count(len(ps), "problem"))
		return code
	}
	fmt.Fprintln(a.stderr, "tejun: "+mask.Visible(err.Error()))
	return code
}

func count(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func (a *App) cli() *cli.App {
	app := &cli.App{
		Name:  "tejun",
		Usage: "run HA build procedures (runbooks) over SSH, the way the manual reads",
		Description: "A runbook is a TOML step graph; an inventory says which hosts play which role.\n" +
			"Every step checks first whether it is already done, so a re-run changes nothing.",
		Reader:               a.stdin,
		Writer:               a.stdout,
		ErrWriter:            a.stderr,
		EnableBashCompletion: true,                         // --generate-bash-completion, for tejun completion's scripts
		Version:              fullVersion(),                // --version, -v; printed as "tejun version ..." like tejun version
		ExitErrHandler:       func(*cli.Context, error) {}, // exit codes are decided in Run
		OnUsageError:         usageError,
		Flags:                []cli.Flag{sshConfigFlag},
		Commands:             []*cli.Command{a.dryRunCommand(), a.planCommand(), a.runCommand(), a.checkCommand(), a.hostsCommand(), a.graphCommand(), a.kindsCommand(), a.reportCommand(), a.initCommand(), a.versionCommand(), a.completionCommand(), a.manCommand()},
		CommandNotFound:      func(c *cli.Context, name string) {},
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				word := c.Args().First()
				var names []string
				for _, cmd := range c.App.Commands {
					names = append(names, cmd.Names()...)
				}
				if near := tomlsrc.Closest(word, names); near != "" {
					return invalid(fmt.Errorf("unknown command %q (did you mean %q?); see tejun --help", word, near))
				}
				return invalid(fmt.Errorf("unknown command %q; see tejun --help", word))
			}
			return cli.ShowAppHelp(c)
		},
	}
	for _, cmd := range app.Commands {
		cmd.OnUsageError = usageError
	}
	return app
}

var sshConfigFlag = &cli.StringFlag{Name: "ssh-config", Aliases: []string{"F"},
	Usage: "read only this ssh client configuration `FILE`, as ssh -F does (default: $TEJUN_SSH_CONFIG, else ~/.ssh/config and /etc/ssh/ssh_config)"}

// userConfig is how hosts are reached: the ssh client configuration of
// -F, else $TEJUN_SSH_CONFIG, else ssh's usual files.
func (a *App) userConfig(c *cli.Context) *ssh.UserConfig {
	file := c.String("ssh-config")
	if file == "" {
		file = a.getenv("TEJUN_SSH_CONFIG")
	}
	return ssh.NewUserConfig(file, a.stderr)
}

func usageError(c *cli.Context, err error, _ bool) error {
	name := "tejun"
	var flags []cli.Flag
	if c.Command != nil && c.Command.Name != "" && c.Command.Name != c.App.Name {
		name += " " + c.Command.Name
		flags = c.Command.Flags
	} else {
		flags = c.App.Flags
	}
	msg := err.Error()
	// "flag provided but not defined: -lmit": name the flag it is
	// closest to, with its dashes, as git and cargo do.
	if word, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		word = strings.TrimLeft(word, "-")
		var names []string
		for _, f := range flags {
			names = append(names, f.Names()...)
		}
		msg = "unknown flag " + dashed(word)
		// Any letter is one edit from any other: no guess for -j.
		if near := tomlsrc.Closest(word, names); near != "" && len(word) > 2 && len(near) > 2 {
			msg += fmt.Sprintf(" (did you mean %s?)", dashed(near))
		}
	}
	return invalid(fmt.Errorf("%s; see %s --help", msg, name))
}

// dashed spells a flag name as it is typed: -i, --limit.
func dashed(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// colorFor decides styling for w: only a terminal gets color, and NO_COLOR
// set to anything but the empty string turns it off, as
// https://no-color.org asks; so does TERM=dumb, a terminal that takes no
// escape sequences (as git and ls decide).
func (a *App) colorFor(w io.Writer) bool {
	if a.getenv("NO_COLOR") != "" || a.getenv("TERM") == "dumb" {
		return false
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func oneOf(name, v string, allowed ...string) error {
	for _, x := range allowed {
		if v == x {
			return nil
		}
	}
	return invalid(fmt.Errorf("--%s %q: want %s", name, v, strings.Join(allowed, " or ")))
}

// watchSignals turns the first interrupt into a cancelled context and a
// second one (or a cleanup that outlasts interruptGrace) into an exit.
func (a *App) watchSignals(signals <-chan os.Signal, cancel context.CancelFunc, stop <-chan struct{}) {
	select {
	case <-signals:
	case <-stop:
		return
	}
	cancel()
	fmt.Fprintf(a.errOut(), "tejun: interrupted: no new steps start, running commands are being stopped (at most %s); interrupt again to exit at once\n", interruptGrace)
	why := "interrupted again"
	select {
	case <-signals:
	case <-time.After(interruptGrace):
		why = "stopping took longer than " + interruptGrace.String()
	case <-stop:
		return
	}
	a.mu.Lock()
	leftover := a.leftover
	a.mu.Unlock()
	fmt.Fprintf(a.errOut(), "tejun: %s: exiting now, without waiting for hosts\n", why)
	if leftover != nil {
		for _, l := range leftover() {
			fmt.Fprintln(a.errOut(), "  may be left half-done: "+mask.Visible(l))
		}
	}
	a.exit(ExitInterrupted)
}

func (a *App) setScreen(w io.Writer) {
	a.mu.Lock()
	a.screen = w
	a.mu.Unlock()
}

// errOut is stderr, through the live display when there is one.
func (a *App) errOut() io.Writer {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.screen != nil {
		return a.screen
	}
	return a.stderr
}

// liveFor returns the live display for w when w is a terminal that can
// redraw (TERM=dumb cannot); nil means plain, timestamped lines.
func (a *App) liveFor(w io.Writer) *liveBlock {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) || a.getenv("TERM") == "dumb" {
		return nil
	}
	return &liveBlock{w: w, size: func() (int, int) {
		// A narrow or short terminal is drawn at its own size: taken for
		// 80x24, its lines would wrap and the erase would leave rows.
		cols, rows, err := term.GetSize(int(f.Fd()))
		if err != nil || cols < 2 || rows < 1 {
			return 80, 24 // unknown
		}
		return cols, rows
	}}
}

func (a *App) setLeftover(f func() []string) {
	a.mu.Lock()
	a.leftover = f
	a.mu.Unlock()
}
