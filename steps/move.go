package steps

import (
	"context"
	"fmt"
	"path"
	"strings"

	"tejun/transport"
)

// Move renames a file into place (the checkpoint from /tmp into P4ROOT).
// Done when the source is gone and the destination is there.
type Move struct {
	Src string `toml:"src" tejun:"path" doc:"The file or directory on the host to move."`
	Dst string `toml:"dst" tejun:"path" doc:"Where it goes, on the same host."`
}

func (m *Move) Validate() []Problem {
	ps := Require("move", "src", m.Src, "dst", m.Dst)
	return append(append(ps, Absolute("src", m.Src)...), Absolute("dst", m.Dst)...)
}

// target is the destination file: a destination ending in "/" is a
// directory, as with mv.
func (m *Move) target() string {
	if strings.HasSuffix(m.Dst, "/") {
		return m.Dst + path.Base(m.Src)
	}
	return m.Dst
}

func (m *Move) Describe(lang string) Description {
	return Description{
		Notes:  []string{T(lang, m.target()+" へ移動済みであれば作業不要です", "Nothing to do if already moved to "+m.target())},
		Blocks: []Block{CommandBlock(lang, transport.Cmd{Argv: []string{"mv", m.Src, m.Dst}})},
	}
}

func (m *Move) exists(p string) transport.Cmd { return transport.Cmd{Argv: []string{"test", "-e", p}} }

func (m *Move) mv() transport.Cmd {
	return transport.Cmd{Argv: []string{"mv", "--", m.Src, m.target()}}
}

func (m *Move) Plan() Plan {
	return Plan{Check: Ops(m.exists(m.target()), m.exists(m.Src)), Apply: Ops(m.mv())}
}

func (m *Move) Check(ctx context.Context, env Env) (Status, error) {
	there, err := present(ctx, env, m.exists(m.target()))
	if err != nil {
		return Status{}, err
	}
	src, err := present(ctx, env, m.exists(m.Src))
	if err != nil {
		return Status{}, err
	}
	switch {
	case there && !src:
		return Done("%s is in place", m.target()), nil
	case !src:
		return Status{}, fmt.Errorf("nothing to move: neither %s nor %s exists", m.Src, m.target())
	}
	return NotDone("%s is still at %s", path.Base(m.Src), path.Dir(m.Src)), nil
}

// present runs a test -e command: exit 1 means absent, anything else an error.
func present(ctx context.Context, env Env, test transport.Cmd) (bool, error) {
	_, err := env.Run(ctx, test, nil)
	if err == nil {
		return true, nil
	}
	if exitCode(err) == 1 {
		return false, nil
	}
	return false, err
}

func (m *Move) Apply(ctx context.Context, env Env) error { return ApplyPlan(ctx, env, m) }

func (m *Move) Verify(ctx context.Context, env Env) error { return VerifyByCheck(ctx, env, m) }
