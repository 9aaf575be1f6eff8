package p4

import (
	"context"
	"fmt"
	"strings"

	"tejun/steps"
	"tejun/transport"
)

// Failover runs p4 failover on the standby: a preview without Yes, the real
// thing with it. With MasterDown the master takes no part (-s MASTER):
// tejun refuses that unless the master's port provably refuses connections
// and the standby is mandatory, since two live masters (split brain) lose
// data.
type Failover struct {
	Conn
	// Master is the server ID of the master failing over from.
	Master string `toml:"master"`
	// MasterPort is where the master listens, to prove it is down.
	MasterPort string `toml:"master_port"`
	MasterDown bool   `toml:"master_down"`
	Yes        bool   `toml:"yes"`
}

func (f *Failover) Validate() []steps.Problem {
	ps := append(f.Conn.Validate(), steps.Require("p4.failover", "master", f.Master)...)
	if f.MasterDown && f.MasterPort == "" {
		ps = append(ps, steps.Problem{Key: "master_port", Msg: "a failover with the master down needs master_port, to prove it is down"})
	}
	return ps
}

// Destructive: a real failover stops the old master.
func (f *Failover) Destructive() bool { return f.Yes }

func (f *Failover) args(yes bool) []string {
	a := []string{"failover"}
	if f.MasterDown {
		a = append(a, "-s", f.Master)
	}
	if yes {
		a = append(a, "-y")
	}
	return a
}

func (f *Failover) Describe(lang string) steps.Description {
	d := steps.Description{Notes: f.notes(lang), Blocks: []steps.Block{steps.CommandBlock(lang, f.manual(f.args(f.Yes)...))}}
	if f.Yes {
		d.Notes = append(d.Notes,
			steps.T(lang, "自動的にPerforceサーバが再起動され、マスターサーバへと切り替わります", "The Perforce server restarts by itself and becomes the master server"),
			steps.T(lang, "実行後、p4 info で ServerID が "+f.Master+" になったことを確認します", "Afterwards p4 info must show ServerID "+f.Master),
			steps.T(lang, "その後: DNSエイリアスを新しいマスターへ向けるか、各レプリカの P4TARGET を変更します", "Then: point the DNS alias at the new master, or change each replica's P4TARGET"))
	} else {
		d.Notes = append(d.Notes, steps.T(lang,
			"プレビューのみで、フェイルオーバーを妨げる問題が報告されないことを確認します",
			"Preview only: confirms nothing that would prevent failover is reported"))
	}
	if f.MasterDown {
		d.Notes = append(d.Notes, steps.T(lang,
			"マスターサーバ("+f.Master+")のポート "+f.MasterPort+" が接続を拒否すること、スタンバイが mandatory であることを確認してから実行します",
			"Runs only once the master ("+f.Master+") refuses connections on "+f.MasterPort+" and the standby is mandatory"))
	}
	return d
}

// probe asks the master directly: with -s it must not answer.
func (f *Failover) probe() transport.Cmd {
	return Conn{Port: f.MasterPort, User: f.User}.exec("-ztag", "info")
}

func (f *Failover) Plan() steps.Plan {
	p := steps.Plan{Check: f.checks(f.ztag("info"))}
	if f.MasterDown {
		p.Check = append(p.Check, steps.Op{Cmd: f.probe()}, steps.Op{Cmd: f.ztag("servers")})
	}
	p.Check = append(p.Check, steps.Op{Cmd: f.exec(f.args(false)...)})
	if f.Yes {
		p.Apply = steps.Ops(f.exec(f.args(true)...), f.ztag("info"))
	}
	return p
}

func (f *Failover) serverID(ctx context.Context, env steps.Env) (string, error) {
	out, err := f.run(ctx, env, f.ztag("info"), "")
	if err != nil {
		return "", err
	}
	recs := ztag(out)
	if len(recs) == 0 {
		return "", fmt.Errorf("p4 info printed nothing")
	}
	return recs[0]["serverid"], nil
}

// Check: already failed over (this server is the master now) is done; else
// every safety condition must hold and the preview must pass.
func (f *Failover) Check(ctx context.Context, env steps.Env) (steps.Status, error) {
	id, err := f.serverID(ctx, env)
	if err != nil {
		return steps.Status{}, err
	}
	if id == f.Master {
		return steps.Done("already failed over: this server is %s", f.Master), nil
	}
	if f.MasterDown {
		if _, err := env.Run(ctx, f.probe(), nil); err == nil {
			return steps.Status{}, fmt.Errorf("refusing failover -s %s: the master still answers on %s; failing over from a running master without its participation makes two masters (split brain) and loses data. Stop and fence it first, or fail over with it", f.Master, f.MasterPort)
		}
		out, err := f.run(ctx, env, f.ztag("servers"), "")
		if err != nil {
			return steps.Status{}, err
		}
		mandatory := false
		for _, r := range ztag(out) {
			if r["serverid"] == id {
				mandatory = r["options"] == "mandatory"
			}
		}
		if !mandatory {
			return steps.Status{}, fmt.Errorf("refusing failover -s %s: %s is not a mandatory standby, so it may lack transactions the master had; only a mandatory standby may take over without the master", f.Master, id)
		}
	}
	out, err := f.run(ctx, env, f.exec(f.args(false)...), "")
	if err != nil {
		return steps.Status{}, fmt.Errorf("the failover preview reports a problem: %s", strings.TrimSpace(stderrOf(err)))
	}
	if !strings.Contains(out, "use --yes or -y to execute the failover") {
		return steps.Status{}, fmt.Errorf("unexpected failover preview:\n%s", out)
	}
	if !f.Yes {
		return steps.Done("preview: nothing prevents failover"), nil
	}
	return steps.NotDone("%s will take over from %s; afterwards point the DNS alias or replicas' P4TARGET at it", id, f.Master), nil
}

func (f *Failover) Apply(ctx context.Context, env steps.Env) error {
	_, err := f.run(ctx, env, f.exec(f.args(true)...), "")
	return err
}

// Verify: p4 info shows the master's server ID on this server now.
func (f *Failover) Verify(ctx context.Context, env steps.Env) error {
	id, err := f.serverID(ctx, env)
	if err != nil {
		return err
	}
	if id != f.Master {
		return fmt.Errorf("after failover p4 info shows ServerID %s, want %s", id, f.Master)
	}
	return nil
}
