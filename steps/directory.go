package steps

import (
	"tejun/transport"
)

// Directory makes sure a directory exists, optionally with an owner and mode
// (the manual's "mkdir /standby", skipped when it already exists).
type Directory struct {
	RunAs
	Path  string `toml:"path"`
	Owner string `toml:"owner"`
	Group string `toml:"group"`
	Mode  string `toml:"mode"`
}

func (d *Directory) Validate() []Problem {
	var ps []Problem
	if d.Path == "" {
		ps = append(ps, Problem{"path", "a directory needs a path"})
	}
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

func (d *Directory) Plan() Plan {
	apply := []transport.Cmd{{Argv: []string{"mkdir", "-p", "--", d.Path}}}
	if d.Owner != "" {
		apply = append(apply, transport.Cmd{Argv: []string{"chown", "--", ownerSpec(d.Owner, d.Group), d.Path}})
	}
	if d.Mode != "" {
		apply = append(apply, transport.Cmd{Argv: []string{"chmod", "--", d.Mode, d.Path}})
	}
	return Plan{
		Check: Ops(d.As(transport.Cmd{Argv: []string{"stat", "-c", "%F %U %G %a", "--", d.Path}})...),
		Apply: Ops(d.As(apply...)...),
	}
}
