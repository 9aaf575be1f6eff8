package run

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"tejun/inventory"
	"tejun/steps"
	"tejun/transport"
)

// hostEnv is a step's view of one host during a run.
type hostEnv struct {
	x    *Executor
	host *inventory.Host
	step string
	// impl is the step's kind, asked for the credentials its commands print.
	impl steps.Step
	// prog counts the step's file transfers for the reporter, under the
	// host the step runs on, even for the other end of a transfer.
	prog *progress
}

func (e *hostEnv) Host() string { return e.host.Name }

func (e *hostEnv) Dir() string { return e.x.opt.Dir }

func (e *hostEnv) conn(ctx context.Context) (transport.Conn, error) {
	c, err := e.x.conns.get(ctx, e.host)
	var locked *LockedError
	if errors.As(err, &locked) {
		return nil, err
	}
	if err != nil && ctx.Err() != nil {
		return nil, err // this step's time ran out while the host was dialled
	}
	if err != nil {
		return nil, &unreachable{err}
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
	cmd = steps.Sudo([]transport.Cmd{cmd}, e.host.SSH.Become)[0]
	e.x.log(e.step, e.host.Name, "$ "+cmd.String())
	cr, _ := e.impl.(steps.Credentialer)
	learn := func(s string) {
		if cr != nil {
			for _, cred := range cr.Credentials(s) {
				e.x.mask.Add(cred)
			}
		}
	}
	outLog := &lineLog{emit: func(l string) { learn(l); e.x.log(e.step, e.host.Name, l) }}
	errLog := &lineLog{emit: func(l string) { e.x.log(e.step, e.host.Name, "stderr: "+l) }}
	// Stdout is the step's to parse, whole; stderr is only recorded.
	var out bytes.Buffer
	errOut := &keptOutput{}
	start := time.Now()
	err = c.Run(ctx, cmd, transport.Stdio{Stdin: stdin, Stdout: io.MultiWriter(&out, outLog), Stderr: io.MultiWriter(errOut, errLog)})
	// Before the last line is logged, and before any error made of the
	// output is.
	learn(out.String())
	outLog.close()
	errLog.close()
	stderr, dropped := errOut.kept()
	e.x.audit(e.step, e.host.Name, cmd, time.Since(start), err, out.String(), stderr, dropped)
	return out.String(), err
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
	hs, err := e.x.b.Inventory.Select(name)
	if err != nil {
		return nil, err
	}
	if len(hs) != 1 {
		return nil, fmt.Errorf("%s names %d hosts", name, len(hs))
	}
	if e.x.hostFailed(hs[0].Name) {
		return nil, &hostDown{hs[0].Name}
	}
	return &hostEnv{x: e.x, host: hs[0], step: e.step, impl: e.impl, prog: e.prog}, nil
}

func (e *hostEnv) Secret(name string) ([]byte, error) {
	v, ok := e.x.opt.Secrets[name]
	if !ok {
		return nil, fmt.Errorf("secret %s was not provided", name)
	}
	return v, nil
}

func (e *hostEnv) Confirm(ctx context.Context, question string) error {
	if e.x.opt.Confirm == nil {
		return steps.ErrNoOperator
	}
	ok, err := e.x.opt.Confirm(ctx, question)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("the operator said no")
	}
	return nil
}

// hostDown is the other host of a step that spans two (a transfer from A
// to B) having failed earlier in the run: the step is skipped, not run
// against a host in an unknown state.
type hostDown struct{ host string }

func (d *hostDown) Error() string { return d.host + " failed earlier in this run" }

// unreachable marks a failure to connect, for the exit code.
type unreachable struct{ err error }

func (u *unreachable) Error() string { return u.err.Error() }
func (u *unreachable) Unwrap() error { return u.err }

// Reconnect waits for the host to go away and come back (a reboot), then
// dials it again; steps after it use the new connection.
func (e *hostEnv) Reconnect(ctx context.Context, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	e.x.conns.forget(e.host.Name)
	var last error
	time.Sleep(3 * time.Second) // let it go down first
	for time.Now().Before(deadline) {
		c, err := e.x.conns.get(ctx, e.host)
		if err == nil {
			if _, err = transport.Output(ctx, c, transport.Cmd{Argv: []string{"true"}}, nil); err == nil {
				return nil
			}
			e.x.conns.forget(e.host.Name)
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

// Reconnect of a plan never happens: Apply never runs in a plan.
func (r *readOnlyEnv) Reconnect(context.Context, time.Duration) error {
	return fmt.Errorf("plan mode: no reboot")
}
