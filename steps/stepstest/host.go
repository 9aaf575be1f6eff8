package stepstest

import (
	"context"
	"io"

	"tejun/steps"
	"tejun/transport"
)

// HostConn is a real connection that moves files itself, as the SSH and
// local connections do.
type HostConn interface {
	transport.Conn
	transport.Files
}

// HostEnv is a step's view of one real test host (named "adv"), as the
// executor gives it, without an executor: tests that run a kind's Check
// and Apply against an sshd host see exactly what the kind did there. Every
// secret is "pw"; there is no operator to confirm with.
type HostEnv struct {
	Conn  HostConn
	Local string // the runbook's directory: where an upload's source is
}

func (e *HostEnv) Host() string { return "adv" }
func (e *HostEnv) Run(ctx context.Context, cmd transport.Cmd, stdin io.Reader) (string, error) {
	return transport.Output(ctx, e.Conn, cmd, stdin)
}
func (e *HostEnv) Files() (transport.Files, error)       { return e.Conn, nil }
func (e *HostEnv) On(string) (steps.Env, error)          { return e, nil }
func (e *HostEnv) Secret(string) ([]byte, error)         { return []byte("pw"), nil }
func (e *HostEnv) Confirm(context.Context, string) error { return steps.ErrNoOperator }
func (e *HostEnv) Dir() string                           { return e.Local }
