package steps

import (
	"context"
	"strings"

	"tejun/transport"
)

// Owner gives a file or tree to a user (the manual's chown steps, skipped
// when the owner is already right).
type Owner struct {
	// Dir is where a relative Path is, as when the manual works after
	// changing into $P4ROOT.
	Dir       string `toml:"dir" tejun:"path" doc:"The directory a relative path is in, as when the manual works after cd $P4ROOT."`
	Path      string `toml:"path" tejun:"path" doc:"The file or directory whose owner to set (relative to dir, if given)."`
	Owner     string `toml:"owner" doc:"The user to own it."`
	Group     string `toml:"group" doc:"The group to own it; unset leaves the group as it is."`
	Recursive bool   `toml:"recursive" doc:"Gives everything under path too, as chown -R."`
}

// Validate refuses a path that is neither absolute nor under an absolute
// dir: the check is a find, and find takes "-delete" for an action.
func (o *Owner) Validate() []Problem {
	ps := Require("owner", "path", o.Path, "owner", o.Owner)
	ps = append(ps, Absolute("dir", o.Dir)...)
	if o.Dir == "" {
		ps = append(ps, Absolute("path", o.Path)...)
	}
	return ps
}

func (o *Owner) Describe(lang string) Description {
	argv := []string{"chown", ownerSpec(o.Owner, o.Group)}
	if o.Recursive {
		argv = append(argv, "-R") // where the manual writes it
	}
	if strings.HasPrefix(o.Path, "-") {
		argv = append(argv, "--")
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

// find prints the first entry whose owner or group differs; no output
// means nothing to do.
func (o *Owner) find() transport.Cmd {
	match := []string{"!", "-user", o.Owner}
	if o.Group != "" {
		match = []string{"(", "!", "-user", o.Owner, "-o", "!", "-group", o.Group, ")"}
	}
	argv := []string{"find", FindPath(inDir(o.Dir, o.Path))}
	if !o.Recursive {
		argv = append(argv, "-maxdepth", "0")
	}
	return Parsed(transport.Cmd{Argv: append(append(argv, match...), "-print", "-quit")})
}

func (o *Owner) chown() transport.Cmd {
	argv := []string{"chown"}
	if o.Recursive {
		argv = append(argv, "-R")
	}
	return transport.Cmd{Argv: append(argv, "--", ownerSpec(o.Owner, o.Group), inDir(o.Dir, o.Path))}
}

func (o *Owner) Plan() Plan {
	return Plan{Check: Ops(o.find()), Apply: Ops(o.chown())}
}

func (o *Owner) Check(ctx context.Context, env Env) (Status, error) {
	out, err := env.Run(ctx, o.find(), nil)
	if err != nil {
		return Status{}, err
	}
	if first := strings.TrimSpace(out); first != "" {
		return NotDone("%s is not owned by %s", first, ownerSpec(o.Owner, o.Group)), nil
	}
	return Done("owned by %s", ownerSpec(o.Owner, o.Group)), nil
}

func (o *Owner) Apply(ctx context.Context, env Env) error { return ApplyPlan(ctx, env, o) }

func (o *Owner) Verify(ctx context.Context, env Env) error { return VerifyByCheck(ctx, env, o) }
