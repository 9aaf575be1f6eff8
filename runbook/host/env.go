package host

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"tejun/inventory"
	"tejun/runbook/mask"
	"tejun/steps"
	"tejun/transport"
)

// Hosts is what the Envs of one run share: the pool, the operator's
// answers and secrets, the mask, and where what a step does is told. The
// walk builds one and asks it for each step's Env; nothing here refers back
// to the walk.
type Hosts struct {
	Pool      *Pool
	Inventory *inventory.Inventory
	// Dir is the runbook's directory, where relative local paths start.
	Dir     string
	Secrets map[string][]byte
	// Confirm asks the operator; nil when no one is there.
	Confirm func(ctx context.Context, question string) (bool, error)
	// Mask hides every secret, and learns the credentials a kind says
	// its commands print.
	Mask *mask.Masker
	Sink Sink
	// Audit, when set, is told every command run, for the audit record.
	Audit func(Command)
	// Failed reports whether a step failed on host earlier in the run: a
	// step that also works on it (a transfer to it) is skipped there.
	Failed func(host string) bool
}

// Sink is told what a step does on a host: the -v lines (masked) and the
// progress of its file transfers (bytes; total -1 while unknown).
type Sink interface {
	Log(step, host, line string)
	Progress(step, host string, done, total int64)
}

// Command is one command run on a host, for the audit record. The line
// is masked; so is everything else that reaches a reporter.
type Command struct {
	Step     string
	Host     string
	Line     string
	ExitCode int // -1 when the command did not run to an exit status
	Duration time.Duration
	Error    string
	// Stdout and Stderr are what the command printed, masked, at most
	// OutputLimit bytes each: the reviewer's report shows them as the
	// step's result.
	Stdout, Stderr string
}

// OutputLimit bounds each output stream of a command in the audit record,
// so one verbose command cannot make a record line too long to read back
// (resume and report read it line by line); its head and tail are kept.
const OutputLimit = 32 << 10

// Env is the step's view of h during a run, running whatever it sends:
// the apply operation's. impl is the step's kind, asked for the
// credentials its commands print.
func (hs *Hosts) Env(step string, h *inventory.Host, impl steps.Step) steps.Env {
	return hs.env(step, h, impl)
}

func (hs *Hosts) env(step string, h *inventory.Host, impl steps.Step) *hostEnv {
	prog := &progress{sink: hs.Sink, step: step, host: h.Name}
	prog.total.Store(-1)
	return &hostEnv{hs: hs, host: h, step: step, impl: impl, prog: prog}
}

// hostEnv is a step's view of one host during a run.
type hostEnv struct {
	hs   *Hosts
	host *inventory.Host
	step string
	// impl is the step's kind, asked for the credentials its commands print.
	impl steps.Step
	// prog counts the step's file transfers for the reporter, under the
	// host the step runs on, even for the other end of a transfer.
	prog *progress
}

func (e *hostEnv) Host() string { return e.host.Name }

func (e *hostEnv) Dir() string { return e.hs.Dir }

func (e *hostEnv) conn(ctx context.Context) (transport.Conn, error) {
	c, err := e.hs.Pool.Get(ctx, e.host)
	var locked *LockedError
	if errors.As(err, &locked) {
		return nil, err
	}
	if err != nil && ctx.Err() != nil {
		return nil, err // this step's time ran out while the host was dialled
	}
	if err != nil {
		return nil, &UnreachableError{err}
	}
	return c, nil
}

// Run applies the host's default run-as user, logs the command and its
// output at -v (secrets masked), and runs it. Output is logged line by
// line as it arrives, each line masked on its own: a kind that prints
// credentials is asked about each line before it is logged, and about
// the whole output after, as before.
func (e *hostEnv) Run(ctx context.Context, cmd transport.Cmd, stdin io.Reader) (string, error) {
	c, err := e.conn(ctx)
	if err != nil {
		return "", err
	}
	cmd = cmd.Sent(e.host.SSH.Become)
	e.log("$ " + cmd.String())
	cr, _ := e.impl.(steps.Credentialer)
	learn := func(s string) {
		if cr != nil {
			for _, cred := range cr.Credentials(s) {
				e.hs.Mask.Add(cred)
			}
		}
	}
	outLog := &lineLog{emit: func(l string) { learn(l); e.log(l) }}
	errLog := &lineLog{emit: func(l string) { e.log("stderr: " + l) }}
	// Stdout is the step's to parse, whole; stderr is only recorded.
	var out bytes.Buffer
	errOut := &keptOutput{}
	start := time.Now()
	err = c.Run(ctx, cmd, transport.Stdio{Stdin: stdin, Stdout: io.MultiWriter(&out, outLog), Stderr: io.MultiWriter(errOut, errLog)})
	// One copy of the output for the step, the record and the check for
	// credentials: it may be large.
	stdout := out.String()
	out = bytes.Buffer{}
	// Before the last line is logged, and before any error made of the
	// output is.
	learn(stdout)
	outLog.close()
	errLog.close()
	stderr, dropped := errOut.kept()
	e.audit(cmd, time.Since(start), err, stdout, stderr, dropped)
	return stdout, err
}

func (e *hostEnv) Files() (transport.Files, error) {
	c, err := e.conn(context.Background())
	if err != nil {
		return nil, err
	}
	f, ok := c.(transport.Files)
	if !ok {
		return nil, fmt.Errorf("%s: this connection cannot transfer files", e.host.Name)
	}
	if e.prog != nil {
		f = progressFiles{Files: f, p: e.prog}
	}
	return f, nil
}

func (e *hostEnv) On(name string) (steps.Env, error) {
	hs, err := e.hs.Inventory.Select(name)
	if err != nil {
		return nil, err
	}
	if len(hs) != 1 {
		return nil, fmt.Errorf("%s names %d hosts", name, len(hs))
	}
	if e.hs.Failed != nil && e.hs.Failed(hs[0].Name) {
		return nil, &DownError{hs[0].Name}
	}
	return &hostEnv{hs: e.hs, host: hs[0], step: e.step, impl: e.impl, prog: e.prog}, nil
}

func (e *hostEnv) Secret(name string) ([]byte, error) {
	v, ok := e.hs.Secrets[name]
	if !ok {
		return nil, fmt.Errorf("secret %s was not provided", name)
	}
	return v, nil
}

func (e *hostEnv) Confirm(ctx context.Context, question string) error {
	if e.hs.Confirm == nil {
		return steps.ErrNoOperator
	}
	ok, err := e.hs.Confirm(ctx, question)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("the operator said no")
	}
	return nil
}

// DownError is the other host of a step that spans two (a transfer from A
// to B) having failed earlier in the run: the step is skipped, not run
// against a host in an unknown state.
type DownError struct{ Host string }

func (d *DownError) Error() string { return d.Host + " failed earlier in this run" }

// UnreachableError marks a failure to connect, for the exit code.
type UnreachableError struct{ Err error }

func (u *UnreachableError) Error() string { return u.Err.Error() }
func (u *UnreachableError) Unwrap() error { return u.Err }

// Reconnect waits for the host to go away and come back (a reboot), then
// dials it again; steps after it use the new connection.
func (e *hostEnv) Reconnect(ctx context.Context, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	e.hs.Pool.Forget(e.host.Name)
	var last error
	time.Sleep(3 * time.Second) // let it go down first
	for time.Now().Before(deadline) {
		c, err := e.hs.Pool.Get(ctx, e.host)
		if err == nil {
			if _, err = transport.Output(ctx, c, transport.Cmd{Argv: []string{"true"}}, nil); err == nil {
				return nil
			}
			e.hs.Pool.Forget(e.host.Name)
		}
		last = err
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
	return fmt.Errorf("%s did not come back within %s: %v", e.host.Name, wait, last)
}

func (e *hostEnv) log(line string) {
	e.hs.Sink.Log(e.step, e.host.Name, e.hs.Mask.Replace(line))
}

// audit records a command; stderrDropped is what was not kept of the
// middle of its stderr (keptOutput).
func (e *hostEnv) audit(cmd transport.Cmd, d time.Duration, err error, stdout, stderr string, stderrDropped int) {
	if e.hs.Audit == nil {
		return
	}
	m := e.hs.Mask
	c := Command{Step: e.step, Host: e.host.Name, Line: m.Replace(cmd.String()), Duration: d,
		Stdout: bounded(m.Replace(stdout), 0), Stderr: bounded(m.Replace(stderr), stderrDropped)}
	var ee *transport.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		c.ExitCode = ee.Code
		c.Error = m.Replace(err.Error())
	default:
		c.ExitCode = -1
		c.Error = m.Replace(err.Error())
	}
	e.hs.Audit(c)
}

// bounded keeps the head and tail of s within OutputLimit bytes, cut at
// line ends where it can, saying how much was left out: what it cuts, and
// dropped, bytes already left out of s's middle (keptOutput). It is given
// text already masked: masking the whole output first means no cut can
// split a secret into parts that no longer look like it.
func bounded(s string, dropped int) string {
	if len(s) <= OutputLimit && dropped == 0 {
		return s
	}
	h := min(OutputLimit/2, len(s))
	head, tail := s[:h], s[len(s)-min(OutputLimit/2, len(s)-h):]
	if i := strings.LastIndexByte(head, '\n'); i > 0 {
		head = head[:i+1]
	}
	if i := strings.IndexByte(tail, '\n'); i >= 0 && i < len(tail)-1 {
		tail = tail[i+1:]
	}
	return head + fmt.Sprintf("[... %d bytes not recorded ...]\n", len(s)-len(head)-len(tail)+dropped) + tail
}
