// Package stepstest is a fake steps.Env built on transporttest: a kind's
// Check and Apply run against fake hosts that answer by rules and record
// every command, so a test can compare what ran with what the kind's Plan
// (and so --show-exec) says it runs.
package stepstest

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"tejun/steps"
	"tejun/transport"
	"tejun/transport/transporttest"
)

// Env is one fake host of a run; On gives the other hosts of the same run.
type Env struct {
	name string
	fake *transporttest.Fake
	run  *Run
}

// Run is a set of fake hosts sharing secrets and the operator's answers.
type Run struct {
	mu      sync.Mutex
	hosts   map[string]*Env
	Secrets map[string][]byte
	// Confirmed lists the questions the operator was asked (and said yes
	// to).
	Confirmed []string
	// Reconnects counts Reconnect calls (a reboot's wait).
	Reconnects int
	// Dir is where relative local paths start.
	Dir string
}

// NewRun makes a run whose hosts are the given fakes, by name.
func NewRun(hosts map[string]*transporttest.Fake) *Run {
	r := &Run{hosts: map[string]*Env{}, Secrets: map[string][]byte{}, Dir: "."}
	for n, f := range hosts {
		r.hosts[n] = &Env{name: n, fake: f, run: r}
	}
	return r
}

// Host is the Env of the named host.
func (r *Run) Host(name string) *Env { return r.hosts[name] }

func (e *Env) Host() string { return e.name }

// Run sends cmd to the fake as the executor would send it (no default
// run-as user: the fake hosts have none) and returns its stdout.
func (e *Env) Run(ctx context.Context, cmd transport.Cmd, stdin io.Reader) (string, error) {
	var out, errOut writer
	err := e.fake.Run(ctx, cmd, transport.Stdio{Stdin: stdin, Stdout: &out, Stderr: &errOut})
	return out.String(), err
}

func (e *Env) Files() (transport.Files, error) { return e.fake, nil }

func (e *Env) On(host string) (steps.Env, error) {
	h, ok := e.run.hosts[host]
	if !ok {
		return nil, fmt.Errorf("stepstest: no host %s", host)
	}
	return h, nil
}

func (e *Env) Secret(name string) ([]byte, error) {
	v, ok := e.run.Secrets[name]
	if !ok {
		return nil, fmt.Errorf("secret %s was not provided", name)
	}
	return v, nil
}

// Confirm says yes, and records the question.
func (e *Env) Confirm(ctx context.Context, question string) error {
	e.run.mu.Lock()
	defer e.run.mu.Unlock()
	e.run.Confirmed = append(e.run.Confirmed, question)
	return nil
}

func (e *Env) Dir() string { return e.run.Dir }

// Reconnect stands for the host coming back after a reboot.
func (e *Env) Reconnect(context.Context, time.Duration) error {
	e.run.mu.Lock()
	defer e.run.mu.Unlock()
	e.run.Reconnects++
	return nil
}

type writer struct{ b []byte }

func (w *writer) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }
func (w *writer) String() string              { return string(w.b) }
