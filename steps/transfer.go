package steps

import (
	"context"
	"fmt"
	"io"
	"path"
	"strings"

	"tejun/transport"
)

// Transfer copies a file from the step's host to another host, streamed
// through tejun (no copy on the machine running tejun) and checked by
// SHA-256 on both ends. The manual does this with "an FTP tool of your
// choice"; a checkpoint that arrives truncated restores a broken standby.
type Transfer struct {
	Src string `toml:"src" tejun:"path" doc:"The file on the step's host to send."`
	To  string `toml:"to" doc:"The inventory host (or role) to send it to."`
	Dst string `toml:"dst" tejun:"path" doc:"Where it goes on that host."`
	// MovedTo is where a later step moves the file on the destination
	// (the manual sends the checkpoint to /tmp, then moves it into
	// P4ROOT): a file with the same SHA-256 there means the transfer is
	// done, and a re-run does not send it again.
	MovedTo string `toml:"moved_to" tejun:"path" doc:"Where a later step moves it on that host: the same file there means the transfer is done."`

	sent string // SHA-256 of what Apply streamed
}

func (t *Transfer) Validate() []Problem {
	var ps []Problem
	if t.Src == "" || !path.IsAbs(t.Src) {
		ps = append(ps, Problem{"src", "transfer needs an absolute src"})
	}
	if t.To == "" {
		ps = append(ps, Problem{"to", "transfer needs the destination host (to)"})
	}
	if t.Dst == "" || !path.IsAbs(t.Dst) {
		ps = append(ps, Problem{"dst", "transfer needs an absolute dst"})
	}
	return append(ps, Absolute("moved_to", t.MovedTo)...)
}

func (t *Transfer) HostParams() map[string]string { return map[string]string{"to": t.To} }

// target is the file on the destination; a dst ending in "/" is a directory.
func (t *Transfer) target() string {
	if strings.HasSuffix(t.Dst, "/") {
		return t.Dst + path.Base(t.Src)
	}
	return t.Dst
}

func (t *Transfer) Outputs() map[string]string {
	return map[string]string{"path": t.target(), "file": path.Base(t.target())}
}

func (t *Transfer) Describe(lang string) Description {
	done := T(lang, "転送済みで内容(SHA-256)が一致していれば作業不要です", "Nothing to do if already there with the same SHA-256")
	if t.MovedTo != "" {
		done = T(lang, "転送先または移動先 "+t.MovedTo+" に同じ内容(SHA-256)のファイルがあれば作業不要です",
			"Nothing to do if the file is already there, or at "+t.MovedTo+", with the same SHA-256")
	}
	return Description{
		Notes: []string{done},
		Blocks: []Block{{
			Heading: T(lang, "転送", "Transfer"),
			Lines:   []string{t.Src + " → " + t.To + ":" + t.target()},
			Code:    Literal,
		}},
	}
}

func (t *Transfer) Plan() Plan {
	return Plan{
		Check: t.checks(),
		Apply: []Op{
			{Action: "sftp " + t.Src + " → " + t.To + ":" + t.target() + " (streamed, SHA-256 compared)",
				ActionJa: "sftp " + t.Src + " → " + t.To + ":" + t.target() + "（ストリーム転送、SHA-256 で照合）"},
			{Host: t.To, Cmd: sha256Cmd(t.target())},
		},
	}
}

// sumScript hashes $1 only when it is a regular file: sha256sum on a FIFO
// waits forever. Exit 1 means nothing is there and nothing else: a file
// sha256sum cannot read exits 4, so it is an error, not "not sent yet".
const sumScript = `if [ ! -e "$1" ] && [ ! -L "$1" ]; then exit 1; fi
if [ ! -f "$1" ]; then echo "not a regular file" >&2; exit 3; fi
sha256sum -- "$1" || exit 4`

func sha256Cmd(p string) transport.Cmd {
	return Parsed(transport.Cmd{Argv: []string{"sh", "-c", sumScript, "tejun-sum", p}})
}

// remoteSum returns the file's SHA-256, or "" when it does not exist.
func remoteSum(ctx context.Context, env Env, p string) (string, error) {
	out, err := env.Run(ctx, sha256Cmd(p), nil)
	if exitCode(err) == 1 {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	f := strings.Fields(out)
	if len(f) == 0 {
		return "", fmt.Errorf("sha256sum %s: no output", p)
	}
	if len(f[0]) != 64 {
		return "", fmt.Errorf("sha256sum %s: unexpected %q", p, f[0])
	}
	return f[0], nil
}

func (t *Transfer) checks() []Op {
	ops := []Op{{Host: t.To, Cmd: sha256Cmd(t.target())}}
	if t.MovedTo != "" {
		ops = append(ops, Op{Host: t.To, Cmd: sha256Cmd(t.MovedTo)})
	}
	return append(ops, Op{Cmd: sha256Cmd(t.Src)}, Op{Cmd: t.srcExists()})
}

func (t *Transfer) srcExists() transport.Cmd {
	return transport.Cmd{Argv: []string{"test", "-f", t.Src}}
}

// Check hashes the source only when the destination holds something to
// compare it with: hashing a large checkpoint costs as much as sending it.
func (t *Transfer) Check(ctx context.Context, env Env) (Status, error) {
	dstEnv, err := env.On(t.To)
	if err != nil {
		return Status{}, err
	}
	there, err := remoteSum(ctx, dstEnv, t.target())
	if err != nil {
		return Status{}, err
	}
	where := t.target()
	if there == "" && t.MovedTo != "" {
		if there, err = remoteSum(ctx, dstEnv, t.MovedTo); err != nil {
			return Status{}, err
		}
		where = t.MovedTo
	}
	if there == "" {
		ok, err := present(ctx, env, t.srcExists())
		if err != nil {
			return Status{}, err
		}
		if !ok {
			return Status{}, fmt.Errorf("%s does not exist on %s", t.Src, env.Host())
		}
		return NotDone("not on %s yet", t.To), nil
	}
	src, err := remoteSum(ctx, env, t.Src)
	if err != nil {
		return Status{}, err
	}
	switch {
	case src == "":
		return Done("%s is already on %s at %s (the source is gone)", path.Base(t.Src), t.To, where), nil
	case src == there:
		return Done("%s:%s has the same SHA-256", t.To, where), nil
	case where != t.target():
		return NotDone("%s:%s differs", t.To, where), nil
	}
	return NotDone("%s:%s differs", t.To, t.target()), nil
}

// Apply streams the file through tejun: nothing is stored on the machine
// running tejun, and both ends' SHA-256 must match what passed through.
func (t *Transfer) Apply(ctx context.Context, env Env) error {
	dstEnv, err := env.On(t.To)
	if err != nil {
		return err
	}
	from, err := env.Files()
	if err != nil {
		return err
	}
	to, err := dstEnv.Files()
	if err != nil {
		return err
	}
	pr, pw := io.Pipe()
	readSum := make(chan string, 1)
	go func() {
		sum, err := from.ReadFile(ctx, t.Src, pw, "")
		readSum <- sum
		pw.CloseWithError(err)
	}()
	_, err = to.WriteFile(ctx, t.target(), pr, transport.WriteOptions{Mode: 0o644})
	pr.CloseWithError(err)
	t.sent = <-readSum
	return err
}

// Verify compares the destination's own SHA-256 with what was streamed.
func (t *Transfer) Verify(ctx context.Context, env Env) error {
	dstEnv, err := env.On(t.To)
	if err != nil {
		return err
	}
	got, err := remoteSum(ctx, dstEnv, t.target())
	if err != nil {
		return err
	}
	if got != t.sent {
		return fmt.Errorf("%s:%s has SHA-256 %s, but %s was sent", t.To, t.target(), got, t.sent)
	}
	return nil
}
