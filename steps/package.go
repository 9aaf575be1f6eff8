package steps

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"tejun/transport"
)

// Package installs (or removes) a package with the host's own package
// manager: apt on Debian and Ubuntu, dnf or yum on RHEL and its kin.
// Check asks the package database, so an installed package costs one
// query and no download.
type Package struct {
	Name string `toml:"name" doc:"The package to install (or remove)."`
	// Names installs several at once, as the guides' one yum line does.
	Names []string `toml:"names" doc:"Several packages at once, as the guides' one yum line."`
	State string   `toml:"state" doc:"present (default) installs; absent removes."` // present (default) or absent
}

func (p *Package) Validate() []Problem {
	var ps []Problem
	if p.Name == "" && len(p.Names) == 0 {
		ps = append(ps, Problem{"name", "package needs name or names"})
	}
	if p.State != "" && p.State != "present" && p.State != "absent" {
		ps = append(ps, Problem{"state", "state " + p.State + ": want present or absent"})
	}
	for _, n := range p.names() {
		if !packageName.MatchString(n) {
			ps = append(ps, Problem{"name", "package name " + n + " is not a package name (letters, digits and .+_~:-, starting with a letter or digit; no globs)"})
		}
	}
	return ps
}

// packageName is what Debian (policy 5.6.1, plus an :arch qualifier) and
// RPM allow in a package name. dpkg-query and apt-get read names as glob
// patterns and "apt-get install 'x*'" installs every package matching, so
// "*", "?" and "[" are refused along with a leading "-".
var packageName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.+_~-]*(:[a-z0-9-]+)?$`)

func (p *Package) names() []string {
	if p.Name != "" {
		return append([]string{p.Name}, p.Names...)
	}
	return p.Names
}

func (p *Package) want() bool { return p.State != "absent" }

// detectManager finds the package manager; its output is the manager's name.
func detectManager() transport.Cmd {
	return Parsed(transport.Cmd{Argv: []string{"sh", "-c", `for m in apt-get dnf yum; do if command -v "$m" >/dev/null 2>&1; then echo "$m"; exit 0; fi; done; exit 1`}})
}

func (p *Package) query(manager string) transport.Cmd {
	if manager == "apt-get" {
		return Parsed(transport.Cmd{Argv: append([]string{"dpkg-query", "-W", "-f", `${Status}\n`, "--"}, p.names()...)})
	}
	return Parsed(transport.Cmd{Argv: append([]string{"rpm", "-q", "--"}, p.names()...)})
}

func (p *Package) verb() string {
	if !p.want() {
		return "remove"
	}
	return "install"
}

// change ends options before the names; the manual's form (Describe) does
// not, as Validate refused any name that would need it.
func (p *Package) change(manager string) transport.Cmd {
	verb := p.verb()
	if manager == "apt-get" {
		return transport.Cmd{Argv: append([]string{"env", "DEBIAN_FRONTEND=noninteractive", "apt-get", verb, "-y", "-q", "--"}, p.names()...)}
	}
	return transport.Cmd{Argv: append([]string{manager, "-y", verb, "--"}, p.names()...)}
}

func (p *Package) Describe(lang string) Description {
	verb := T(lang, "インストールします", "installed")
	if !p.want() {
		verb = T(lang, "削除します", "removed")
	}
	return Description{
		Notes: []string{T(lang, strings.Join(p.names(), ", ")+" を"+verb+"（既にその状態であれば作業不要です）", strings.Join(p.names(), ", ")+" "+verb+" (nothing to do if already so)")},
		Blocks: []Block{{Heading: T(lang, "実行コマンド（yum / dnf / apt-get のうちホストにあるもの）", "Command (yum, dnf or apt-get, whichever the host has)"), Code: Shell,
			Lines: []string{ManualLine(transport.Cmd{Argv: append([]string{"yum", "-y", p.verb()}, p.names()...)})}}},
	}
}

func (p *Package) Plan() Plan {
	return Plan{
		Check: Ops(detectManager(), p.query("apt-get"), p.query("dnf")),
		Apply: Ops(p.change("apt-get"), p.change("dnf"), p.change("yum")),
	}
}

func (p *Package) manager(ctx context.Context, env Env) (string, error) {
	out, err := env.Run(ctx, detectManager(), nil)
	if err != nil {
		return "", fmt.Errorf("no package manager found (apt-get, dnf, yum): %w", err)
	}
	return strings.TrimSpace(out), nil
}

// installed reports whether every package is installed (want) or none is.
func (p *Package) installed(ctx context.Context, env Env, m string) (bool, error) {
	out, err := env.Run(ctx, p.query(m), nil)
	if err != nil && exitCode(err) <= 0 {
		return false, err
	}
	all := err == nil
	if m == "apt-get" {
		all = all && strings.Count(out, "install ok installed") == len(p.names())
	}
	if p.want() {
		return all, nil
	}
	none := !strings.Contains(out, "install ok installed") && (m == "apt-get" || strings.Count(out, "is not installed") == len(p.names()))
	return !none, nil
}

func (p *Package) Check(ctx context.Context, env Env) (Status, error) {
	m, err := p.manager(ctx, env)
	if err != nil {
		return Status{}, err
	}
	have, err := p.installed(ctx, env, m)
	if err != nil {
		return Status{}, err
	}
	what := map[bool]string{true: "installed", false: "not (all) installed"}[have]
	if have == p.want() {
		return Done("%s: %s", strings.Join(p.names(), ", "), what), nil
	}
	return NotDone("%s: %s", strings.Join(p.names(), ", "), what), nil
}

func (p *Package) Apply(ctx context.Context, env Env) error {
	m, err := p.manager(ctx, env)
	if err != nil {
		return err
	}
	// The plan holds the change for every manager; the host's is run.
	for _, op := range p.Plan().Apply {
		if op.Cmd.Argv[0] == m || op.Cmd.Argv[0] == "env" && m == "apt-get" {
			_, err = env.Run(ctx, op.Cmd, nil)
			return err
		}
	}
	return fmt.Errorf("no change planned for package manager %s", m)
}

func (p *Package) Verify(ctx context.Context, env Env) error { return VerifyByCheck(ctx, env, p) }
