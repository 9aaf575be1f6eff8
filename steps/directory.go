package steps

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"tejun/transport"
)

// Directory makes sure a directory exists, optionally with an owner and mode
// (the manual's "mkdir /standby", skipped when it already exists).
type Directory struct {
	RunAs
	Path  string `toml:"path" tejun:"path" doc:"The directory to create on the host (parents included)."`
	Owner string `toml:"owner" doc:"The user to own the directory; unset leaves the owner as it is."`
	Group string `toml:"group" doc:"The group to own the directory; unset leaves the group as it is."`
	Mode  string `toml:"mode" doc:"The permissions in octal (0755); unset leaves them as they are."`
}

func (d *Directory) Validate() []Problem {
	var ps []Problem
	if d.Path == "" {
		ps = append(ps, Problem{"path", "a directory needs a path"})
	}
	ps = append(ps, Absolute("path", d.Path)...)
	if d.Mode != "" && !validMode(d.Mode) {
		ps = append(ps, Problem{"mode", "mode " + d.Mode + " is not an octal mode such as 0755"})
	}
	if d.Group != "" && d.Owner == "" {
		ps = append(ps, Problem{"group", "group needs owner"})
	}
	return ps
}

func validMode(m string) bool {
	if len(m) < 3 || len(m) > 4 {
		return false
	}
	for _, c := range m {
		if c < '0' || c > '7' {
			return false
		}
	}
	return true
}

func (d *Directory) changes() []transport.Cmd {
	cmds := []transport.Cmd{{Argv: []string{"mkdir", d.Path}}}
	if d.Owner != "" {
		cmds = append(cmds, transport.Cmd{Argv: []string{"chown", ownerSpec(d.Owner, d.Group), d.Path}})
	}
	if d.Mode != "" {
		cmds = append(cmds, transport.Cmd{Argv: []string{"chmod", d.Mode, d.Path}})
	}
	return d.As(cmds...)
}

func ownerSpec(owner, group string) string {
	if group == "" {
		return owner
	}
	return owner + ":" + group
}

func (d *Directory) Describe(lang string) Description {
	return Description{
		Notes:  []string{T(lang, "既に作成済みであれば作業不要です", "Nothing to do if it already exists")},
		Blocks: []Block{CommandBlock(lang, d.changes()...)},
	}
}

// Plan chowns before it chmods, always: a chown may clear the setuid and
// setgid bits (the kernel drops them from anything but a directory, and
// other systems from directories too), so a mode such as 2775 is set last.
func (d *Directory) Plan() Plan {
	apply := []transport.Cmd{{Argv: []string{"mkdir", "-p", "--", d.Path}}}
	if d.Owner != "" {
		apply = append(apply, transport.Cmd{Argv: []string{"chown", "--", ownerSpec(d.Owner, d.Group), d.Path}})
	}
	if d.Mode != "" {
		apply = append(apply, transport.Cmd{Argv: []string{"chmod", "--", d.Mode, d.Path}})
	}
	return Plan{
		Check: Ops(d.stat()),
		Apply: Ops(d.As(apply...)...),
	}
}

func (d *Directory) stat() transport.Cmd {
	return d.As(Parsed(transport.Cmd{Argv: []string{"stat", "-c", "%f %U %G %a", "--", d.Path}}))[0]
}

// sIFMT and sIFDIR are the file type bits of stat's %f (the raw mode in
// hex), which unlike %F ("directory", translated) reads the same in every
// locale.
const (
	sIFMT  = 0o170000
	sIFDIR = 0o040000
	sIFREG = 0o100000
)

// isDir reads stat's %f.
func isDir(rawHex string) bool {
	m, err := strconv.ParseUint(rawHex, 16, 32)
	return err == nil && m&sIFMT == sIFDIR
}

func (d *Directory) Check(ctx context.Context, env Env) (Status, error) {
	out, err := env.Run(ctx, d.stat(), nil)
	if exitCode(err) == 1 {
		return NotDone("%s does not exist", d.Path), nil
	}
	if err != nil {
		return Status{}, err
	}
	f := strings.Fields(out)
	if len(f) != 4 {
		return Status{}, fmt.Errorf("stat %s: unexpected %q", d.Path, out)
	}
	if !isDir(f[0]) {
		return Status{}, fmt.Errorf("%s exists and is not a directory", d.Path)
	}
	user, group, mode := f[1], f[2], f[3]
	var diff []string
	if d.Owner != "" && user != d.Owner {
		diff = append(diff, "owner "+user)
	}
	if d.Group != "" && group != d.Group {
		diff = append(diff, "group "+group)
	}
	if d.Mode != "" && !sameMode(mode, d.Mode) {
		diff = append(diff, "mode "+mode)
	}
	if len(diff) > 0 {
		return NotDone("%s has %s", d.Path, strings.Join(diff, ", ")), nil
	}
	return Done("%s exists", d.Path), nil
}

func sameMode(a, b string) bool {
	x, err1 := strconv.ParseUint(a, 8, 32)
	y, err2 := strconv.ParseUint(b, 8, 32)
	return err1 == nil && err2 == nil && x == y
}

func (d *Directory) Apply(ctx context.Context, env Env) error { return ApplyPlan(ctx, env, d) }

func (d *Directory) Verify(ctx context.Context, env Env) error { return VerifyByCheck(ctx, env, d) }
