package steps

import (
	"tejun/transport"
)

// Owner gives a file or tree to a user (the manual's chown steps, skipped
// when the owner is already right).
type Owner struct {
	// Dir is where a relative Path is, as when the manual works after
	// changing into $P4ROOT.
	Dir       string `toml:"dir"`
	Path      string `toml:"path"`
	Owner     string `toml:"owner"`
	Group     string `toml:"group"`
	Recursive bool   `toml:"recursive"`
}

func (o *Owner) Validate() []Problem {
	return Require("owner", "path", o.Path, "owner", o.Owner)
}

func (o *Owner) Describe(lang string) Description {
	argv := []string{"chown", ownerSpec(o.Owner, o.Group)}
	if o.Recursive {
		argv = append(argv, "-R") // where the manual writes it
	}
	d := Description{
		Notes:  []string{T(lang, "所有者が "+o.Owner+" であれば作業不要です", "Nothing to do if "+o.Owner+" already owns it")},
		Blocks: []Block{CommandBlock(lang, transport.Cmd{Argv: append(argv, o.Path)})},
	}
	if o.Dir != "" && o.Path != inDir(o.Dir, o.Path) {
		d.Notes = append(d.Notes, InDirNote(lang, o.Dir))
	}
	return d
}

func (o *Owner) Plan() Plan {
	p := inDir(o.Dir, o.Path)
	// find prints the first entry whose owner or group differs; no output
	// means nothing to do.
	match := []string{"!", "-user", o.Owner}
	if o.Group != "" {
		match = []string{"(", "!", "-user", o.Owner, "-o", "!", "-group", o.Group, ")"}
	}
	find := []string{"find", p}
	if !o.Recursive {
		find = append(find, "-maxdepth", "0")
	}
	find = append(append(find, match...), "-print", "-quit")
	apply := []string{"chown"}
	if o.Recursive {
		apply = append(apply, "-R")
	}
	apply = append(apply, "--", ownerSpec(o.Owner, o.Group), p)
	return Plan{
		Check: Ops(transport.Cmd{Argv: find}),
		Apply: Ops(transport.Cmd{Argv: apply}),
	}
}
