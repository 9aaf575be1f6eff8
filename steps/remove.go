package steps

import (
	"context"
	"fmt"
	"path"
	"strings"

	"tejun/transport"
)

// Remove deletes files by name pattern in one directory (db.* and
// server.locks/ in P4ROOT). Patterns are matched by find -name, never by a
// shell, so a pattern from a variable cannot reach past Dir.
type Remove struct {
	Dir   string   `toml:"dir" tejun:"path" doc:"The one directory to delete in; nothing outside it is touched."`
	Paths []string `toml:"paths" tejun:"path" doc:"Names or find -name patterns (db.*) of what to delete in dir."`
}

func (r *Remove) Validate() []Problem {
	var ps []Problem
	if r.Dir == "" || !path.IsAbs(r.Dir) {
		ps = append(ps, Problem{"dir", "remove needs an absolute dir"})
	}
	if path.Clean(r.Dir) == "/" {
		ps = append(ps, Problem{"dir", "refusing to remove from /"})
	}
	if len(r.Paths) == 0 {
		ps = append(ps, Problem{"paths", "remove needs paths"})
	}
	for _, p := range r.Paths {
		name := strings.TrimSuffix(p, "/")
		if name == "" || strings.Contains(name, "/") || name == "." || name == ".." {
			ps = append(ps, Problem{"paths", "path " + p + " must be a name or pattern inside dir"})
		}
		if _, err := path.Match(name, ""); err != nil {
			ps = append(ps, Problem{"paths", "pattern " + p + ": " + err.Error()})
		}
	}
	return ps
}

// Destructive: removing a database is what a confirmation is for.
func (r *Remove) Destructive() bool { return true }

func (r *Remove) Describe(lang string) Description {
	b := Block{Heading: T(lang, "実行コマンド", "Command"), Code: Shell}
	for _, p := range r.Paths {
		flags := "rm -f "
		if strings.HasSuffix(p, "/") {
			flags = "rm -fr "
		}
		if strings.HasPrefix(p, "-") {
			flags += "-- " // pasted, "rm -f -rf" would be an option
		}
		b.Lines = append(b.Lines, flags+p)
	}
	return Description{
		Notes:  []string{InDirNote(lang, r.Dir), T(lang, "対象が無ければ作業不要です", "Nothing to do if none are there")},
		Blocks: []Block{b},
	}
}

func (r *Remove) find(p string, action ...string) transport.Cmd {
	argv := []string{"find", r.Dir, "-mindepth", "1", "-maxdepth", "1", "-name", strings.TrimSuffix(p, "/")}
	if strings.HasSuffix(p, "/") {
		argv = append(argv, "-type", "d")
	}
	// The C locale for the removal too, not only for the listing read:
	// -name's "?" and "[...]" match bytes there and characters in a UTF-8
	// locale, and the check and the removal must agree on what matches.
	return Parsed(transport.Cmd{Argv: append(argv, action...)})
}

func (r *Remove) Plan() Plan {
	var p Plan
	for _, pat := range r.Paths {
		p.Check = append(p.Check, Op{Cmd: r.find(pat, "-print")})
		if strings.HasSuffix(pat, "/") {
			p.Apply = append(p.Apply, Op{Cmd: r.find(pat, "-exec", "rm", "-rf", "--", "{}", "+")})
		} else {
			p.Apply = append(p.Apply, Op{Cmd: r.find(pat, "-exec", "rm", "-f", "--", "{}", "+")})
		}
	}
	return p
}

func (r *Remove) Check(ctx context.Context, env Env) (Status, error) {
	var found []string
	for _, op := range r.Plan().Check {
		out, err := env.Run(ctx, op.Cmd, nil)
		if err != nil {
			return Status{}, err
		}
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			if l != "" {
				found = append(found, path.Base(l))
			}
		}
	}
	if len(found) == 0 {
		return Done("nothing to remove"), nil
	}
	if len(found) > 5 {
		found = append(found[:5], fmt.Sprintf("and %d more", len(found)-5))
	}
	return NotDone("would remove %s", strings.Join(found, ", ")), nil
}

func (r *Remove) Apply(ctx context.Context, env Env) error { return ApplyPlan(ctx, env, r) }

func (r *Remove) Verify(ctx context.Context, env Env) error { return VerifyByCheck(ctx, env, r) }
