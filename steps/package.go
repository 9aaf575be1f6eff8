package steps

import (
	"context"
	"fmt"
	"strings"

	"tejun/transport"
)

// Package installs (or removes) a package with the host's own package
// manager: apt on Debian and Ubuntu, dnf or yum on RHEL and its kin.
// Check asks the package database, so an installed package costs one
// query and no download.
type Package struct {
	Name  string `toml:"name"`
	State string `toml:"state"` // present (default) or absent
}

func (p *Package) Validate() []Problem {
	ps := Require("package", "name", p.Name)
	if p.State != "" && p.State != "present" && p.State != "absent" {
		ps = append(ps, Problem{"state", "state " + p.State + ": want present or absent"})
	}
	if strings.HasPrefix(p.Name, "-") {
		ps = append(ps, Problem{"name", "a package name cannot start with -"})
	}
	return ps
}

func (p *Package) want() bool { return p.State != "absent" }

// detect finds the package manager; its output is the manager's name.
func detectManager() transport.Cmd {
	return transport.Cmd{Argv: []string{"sh", "-c", `for m in apt-get dnf yum; do if command -v "$m" >/dev/null 2>&1; then echo "$m"; exit 0; fi; done; exit 1`}}
}

func (p *Package) query(manager string) transport.Cmd {
	if manager == "apt-get" {
		return transport.Cmd{Argv: []string{"dpkg-query", "-W", "-f", "${Status}", "--", p.Name}}
	}
	return transport.Cmd{Argv: []string{"rpm", "-q", "--", p.Name}}
}

func (p *Package) change(manager string) transport.Cmd {
	verb := "install"
	if !p.want() {
		verb = "remove"
	}
	if manager == "apt-get" {
		return transport.Cmd{Argv: []string{"env", "DEBIAN_FRONTEND=noninteractive", "apt-get", verb, "-y", "-q", "--", p.Name}}
	}
	return transport.Cmd{Argv: []string{manager, verb, "-y", "--", p.Name}}
}

func (p *Package) Describe(lang string) Description {
	verb := T(lang, "インストールします", "installed")
	if !p.want() {
		verb = T(lang, "削除します", "removed")
	}
	return Description{
		Notes: []string{T(lang, p.Name+" を"+verb+"（既にその状態であれば作業不要です）", p.Name+" is "+verb+" (nothing to do if already so)")},
		Blocks: []Block{{Heading: T(lang, "実行コマンド（apt / dnf / yum のうちホストにあるもの）", "Command (apt, dnf or yum, whichever the host has)"), Code: Shell,
			Lines: []string{ManualLine(p.change("dnf")), ManualLine(p.change("apt-get"))}}},
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

func (p *Package) installed(ctx context.Context, env Env, m string) (bool, error) {
	out, err := env.Run(ctx, p.query(m), nil)
	if exitCode(err) > 0 {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if m == "apt-get" {
		return strings.Contains(out, "install ok installed"), nil
	}
	return true, nil
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
	if have == p.want() {
		return Done("%s is %s", p.Name, map[bool]string{true: "installed", false: "not installed"}[have]), nil
	}
	return NotDone("%s is %s", p.Name, map[bool]string{true: "installed", false: "not installed"}[have]), nil
}

func (p *Package) Apply(ctx context.Context, env Env) error {
	m, err := p.manager(ctx, env)
	if err != nil {
		return err
	}
	_, err = env.Run(ctx, p.change(m), nil)
	return err
}

func (p *Package) Verify(ctx context.Context, env Env) error { return VerifyByCheck(ctx, env, p) }
