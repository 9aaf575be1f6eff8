package p4

import (
	"context"
	"fmt"
	"strings"

	"tejun/steps"
	"tejun/transport"
)

// P4dctl starts or stops a server managed by p4dctl, checking its status
// first so a running service is not restarted for nothing.
//
// A failover without the master fences the old master's machine: its
// p4dctl entry is renamed NAME.conf.fenced-by-tejun so nothing starts it
// beside the new master. Stopping such an entry is done (the fence stopped
// it). Starting it is refused, unless ServerID and Root are given and
// Root (the entry's P4ROOT) now holds that server ID: the old master
// rebuilt as a standby (failback), whose entry is then re-enabled and
// started.
type P4dctl struct {
	Name  string `toml:"name" doc:"The server's name in p4dctl.conf."`
	State string `toml:"state" doc:"started or stopped."`
	// ServerID and Root: the server a fenced entry must have been rebuilt
	// as to be unfenced, and its P4ROOT.
	ServerID string `toml:"server_id" doc:"The server ID a fenced entry's P4ROOT must now hold for the entry to be started again (failback)."`
	Root     string `toml:"root" tejun:"path" doc:"The entry's P4ROOT, where server_id is read."`
}

func fencedConf(name string) string {
	return "/etc/perforce/p4dctl.conf.d/" + name + ".conf.fenced-by-tejun"
}

// fenced says whether name's entry is fenced, and if so the server ID
// Root holds now ("" without Root, or when it has none).
func (p *P4dctl) fenced(ctx context.Context, env steps.Env) (bool, string, error) {
	if _, err := env.Run(ctx, p.fenceTest(), nil); err != nil {
		if ee, ok := err.(*transport.ExitError); ok && ee.Code == 1 {
			return false, "", nil
		}
		return false, "", err
	}
	if p.Root == "" {
		return true, "", nil
	}
	id, err := env.Run(ctx, p.catID(), nil)
	if err != nil {
		return true, "", nil
	}
	return true, strings.TrimSpace(id), nil
}

func (p *P4dctl) fenceTest() transport.Cmd {
	return transport.Cmd{Argv: []string{"test", "-e", fencedConf(p.Name)}}
}

func (p *P4dctl) catID() transport.Cmd {
	return transport.Cmd{Argv: []string{"cat", "--", p.Root + "/server.id"}}
}

func (p *P4dctl) unfence() transport.Cmd {
	return transport.Cmd{Argv: []string{"mv", "-n", "--", fencedConf(p.Name), strings.TrimSuffix(fencedConf(p.Name), ".fenced-by-tejun")}}
}

func (p *P4dctl) Validate() []steps.Problem {
	ps := append(steps.Require("p4dctl", "name", p.Name), steps.NotOption("name", p.Name)...)
	ps = append(ps, steps.Absolute("root", p.Root)...)
	if (p.ServerID == "") != (p.Root == "") {
		ps = append(ps, steps.Problem{Key: "server_id", Msg: "server_id and root go together (the server a fenced entry must be rebuilt as, and its P4ROOT)"})
	}
	if p.State != "started" && p.State != "stopped" {
		ps = append(ps, steps.Problem{Key: "state", Msg: "state " + p.State + ": want started or stopped"})
	}
	return ps
}

func (p *P4dctl) verb() string {
	if p.State == "stopped" {
		return "stop"
	}
	return "start"
}

func (p *P4dctl) Describe(lang string) steps.Description {
	done := steps.T(lang, "既に起動していれば作業不要です", "Nothing to do if already running")
	if p.State == "stopped" {
		done = steps.T(lang, "既に停止していれば作業不要です", "Nothing to do if already stopped")
	}
	notes := []string{done}
	if p.State == "started" && p.ServerID != "" {
		notes = append(notes, steps.T(lang,
			"フェイルオーバーでフェンシングされたエントリ（"+fencedConf(p.Name)+"）は、P4ROOT の server.id が "+p.ServerID+" のときだけ有効に戻して起動します",
			"An entry fenced by a failover ("+fencedConf(p.Name)+") is re-enabled and started only when its P4ROOT's server.id is "+p.ServerID))
	}
	return steps.Description{
		Notes:  notes,
		Blocks: []steps.Block{steps.CommandBlock(lang, transport.Cmd{Argv: []string{"p4dctl", p.verb(), p.Name}})},
	}
}

func (p *P4dctl) Plan() steps.Plan {
	check := []transport.Cmd{p.status(), p.fenceTest()}
	var apply []transport.Cmd
	if p.Root != "" {
		check = append(check, p.catID())
		if p.State == "started" {
			apply = append(apply, p.unfence())
		}
	}
	return steps.Plan{Check: steps.Ops(check...), Apply: steps.Ops(append(apply, transport.Cmd{Argv: []string{"p4dctl", p.verb(), p.Name}})...)}
}

func (p *P4dctl) status() transport.Cmd {
	return steps.Parsed(transport.Cmd{Argv: []string{"p4dctl", "status", p.Name}})
}

// Destructive: stopping a server is an outage, and on a standby it is the
// first of the steps that rebuild its database, so it is confirmed with
// them, before anything stops.
func (p *P4dctl) Destructive() bool { return p.State == "stopped" }

// Check reads the status line, not only the exit status: p4dctl status
// exits non-zero for a service that is not running, which is an answer,
// not an error, and its "is not running" contains "running". Anything
// else (an unknown service, p4dctl missing) is an error.
func (p *P4dctl) Check(ctx context.Context, env steps.Env) (steps.Status, error) {
	running, out, err := p4dctlRunning(ctx, env, p.Name)
	if err != nil {
		fenced, id, ferr := p.fenced(ctx, env)
		switch {
		case ferr != nil || !fenced:
			return steps.Status{}, err
		case p.State == "stopped":
			return steps.Done("%s is fenced (%s): the failover stopped it and p4dctl cannot start it", p.Name, fencedConf(p.Name)), nil
		case p.ServerID != "" && p.Root != "" && id == p.ServerID:
			return steps.NotDone("%s was fenced by a failover and is now %s: its p4dctl entry is re-enabled and started", p.Name, id), nil
		}
		return steps.Status{}, fmt.Errorf("%s is fenced (%s) since a failover made another server the master, and its root holds server %q: it is not started beside the new master. Rebuild it as a standby first (standby.toml --swap-roles)", p.Name, fencedConf(p.Name), id)
	}
	if running == (p.State == "started") {
		return steps.Done("%s", strings.TrimSpace(out)), nil
	}
	return steps.NotDone("%s", strings.TrimSpace(out)), nil
}

// p4dctlRunning asks p4dctl whether service name runs on env's host.
func p4dctlRunning(ctx context.Context, env steps.Env, name string) (bool, string, error) {
	out, err := env.Run(ctx, steps.Parsed(transport.Cmd{Argv: []string{"p4dctl", "status", name}}), nil)
	text := strings.TrimSpace(out)
	switch {
	case strings.Contains(out, " is not running"):
		return false, text, nil
	case err == nil && strings.Contains(out, " is running"):
		return true, text, nil
	case err != nil:
		return false, text, fmt.Errorf("p4dctl status %s: %w", name, err)
	}
	return false, text, fmt.Errorf("p4dctl status %s: neither running nor not running: %q", name, text)
}

func (p *P4dctl) Apply(ctx context.Context, env steps.Env) error {
	if p.State == "started" && p.ServerID != "" && p.Root != "" {
		fenced, id, err := p.fenced(ctx, env)
		if err != nil {
			return err
		}
		if fenced {
			if id != p.ServerID {
				return fmt.Errorf("%s is fenced and its root holds server %q, not %s: not re-enabled", p.Name, id, p.ServerID)
			}
			if _, err := env.Run(ctx, p.unfence(), nil); err != nil {
				return fmt.Errorf("re-enabling %s: %w", p.Name, err)
			}
		}
	}
	if p.State == "stopped" {
		if fenced, _, err := p.fenced(ctx, env); err == nil && fenced {
			return nil
		}
	}
	_, err := env.Run(ctx, transport.Cmd{Argv: []string{"p4dctl", p.verb(), p.Name}}, nil)
	return err
}

func (p *P4dctl) Verify(ctx context.Context, env steps.Env) error {
	return steps.VerifyByCheck(ctx, env, p)
}
