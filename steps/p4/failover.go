package p4

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"tejun/steps"
	"tejun/transport"
)

// Failover runs p4 failover on the standby: a preview without Yes, the real
// thing with it. With MasterDown the master takes no part (-s MASTER), and
// two live masters (split brain) lose data, so tejun wants positive
// evidence that the master is down: its port refuses connections, or its
// host answers over SSH and p4dctl says its p4d is not running. A master
// that accepts the connection and then says nothing (hung, or a network
// that drops packets) is "unknown": refused, with the evidence, unless the
// runbook's section explicitly accepts that risk. When the master's host
// is reachable, it is fenced (p4d stopped, its p4dctl entry disabled)
// before failover -s -y.
type Failover struct {
	Conn
	// Master is the server ID of the master failing over from.
	Master string `toml:"master" doc:"The server ID of the master failing over from."`
	// MasterPort is where the master role's server listens: read first to
	// prove the roles (that master before the drill, silent after it), and
	// with MasterDown to prove it is down.
	MasterPort string `toml:"master_port" doc:"Where the master listens (host:port): read to prove the roles (that master before the drill, nothing answering after it: otherwise the pair is the other way round and --swap-roles is asked for), and with master_down to prove it is down."`
	MasterDown bool   `toml:"master_down" doc:"Fails over without the master (-s MASTER): only with evidence that it is down."`
	Yes        bool   `toml:"yes" doc:"Does the failover (-y); without it the step only runs the preview, which changes nothing."`
	// MasterHost is the master's inventory host; MasterP4dctl its name in
	// p4dctl.conf there. Both for the evidence and the fence.
	MasterHost   string `toml:"master_host" doc:"The master's inventory host: asked over SSH whether its p4d runs, and fenced before the failover."`
	MasterP4dctl string `toml:"master_p4dctl" doc:"The master's name in p4dctl.conf on master_host, for the evidence and the fence."`
	// ProbeTimeout bounds the wait for the master's answer (default 10s).
	ProbeTimeout string `toml:"probe_timeout" default:"10" doc:"Seconds to wait for the master's answer before it counts as unknown."`
	// AcceptUnverifiedDown fails over on a timeout alone: for an operator
	// who knows the master is off (powered down, isolated) when tejun
	// cannot see it. The name says the risk.
	AcceptUnverifiedDown bool `toml:"accept_split_brain_risk" doc:"Fails over on a probe timeout alone, for an operator who knows the master is off."`
}

func (f *Failover) Validate() []steps.Problem {
	ps := append(f.Conn.Validate(), steps.Require("p4.failover", "master", f.Master)...)
	if f.MasterDown && f.MasterPort == "" {
		ps = append(ps, steps.Problem{Key: "master_port", Msg: "a failover with the master down needs master_port, to prove it is down"})
	}
	if (f.MasterHost == "") != (f.MasterP4dctl == "") {
		ps = append(ps, steps.Problem{Key: "master_host", Msg: "master_host and master_p4dctl go together"})
	}
	if f.ProbeTimeout != "" {
		if _, err := time.ParseDuration(f.ProbeTimeout); err != nil {
			ps = append(ps, steps.Problem{Key: "probe_timeout", Msg: err.Error()})
		}
	}
	return ps
}

func (f *Failover) HostParams() map[string]string {
	if f.MasterHost == "" {
		return nil
	}
	return map[string]string{"master_host": f.MasterHost}
}

// Destructive: a real failover stops the old master.
func (f *Failover) Destructive() bool { return f.Yes }

func (f *Failover) timeout() string {
	if f.ProbeTimeout == "" {
		return "10"
	}
	d, _ := time.ParseDuration(f.ProbeTimeout)
	return strconv.Itoa(max(1, int(d.Seconds())))
}

// conf is the master's p4dctl entry; the fence renames it so that p4dctl
// (which reads only *.conf there) cannot start that p4d again.
func (f *Failover) conf() string { return "/etc/perforce/p4dctl.conf.d/" + f.MasterP4dctl + ".conf" }

func (f *Failover) fence() []transport.Cmd {
	return []transport.Cmd{
		{Argv: []string{"p4dctl", "stop", f.MasterP4dctl}},
		// Its stderr is read ("No such file": fenced already).
		steps.Parsed(transport.Cmd{Argv: []string{"mv", "-f", "--", f.conf(), fencedConf(f.MasterP4dctl)}}),
	}
}

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
	if f.MasterPort != "" {
		d.Notes = append(d.Notes, steps.T(lang,
			"最初に "+f.MasterPort+" のサーバ（マスター）を p4 info で確認します。このサーバが既に "+f.Master+" なら、"+f.MasterPort+" が応答しないときだけ実行済みとし、応答すれば（フェイルバック後で役割が逆）--swap-roles master,standby を指定するよう求めて止まります",
			"First the server on "+f.MasterPort+" (the master) is read with p4 info. If this server is "+f.Master+" already, that is taken as done only when nothing answers on "+f.MasterPort+"; an answer (after a failback, the roles the other way round) stops the run and asks for --swap-roles master,standby"))
	}
	if f.MasterDown {
		d.Notes = append(d.Notes, steps.T(lang,
			"マスターサーバ("+f.Master+")が停止している確証（ポート "+f.MasterPort+" が接続を拒否する、またはマスターのホストで p4d が起動していない）と、スタンバイが mandatory であることを確認してから実行します。応答が無いだけ（ハング）では実行しません",
			"Runs only on proof that the master ("+f.Master+") is down (its port "+f.MasterPort+" refuses connections, or its host says its p4d is not running) and that the standby is mandatory; a master that merely does not answer (hung) is refused"))
		if f.MasterHost != "" && f.Yes {
			d.Notes = append(d.Notes, steps.T(lang,
				"マスターのホストに接続できるときは、先にフェンシングします（p4dctl stop "+f.MasterP4dctl+"、"+f.conf()+" を無効化）",
				"When the master's host is reachable it is fenced first (p4dctl stop "+f.MasterP4dctl+", "+f.conf()+" disabled)"))
		}
		if f.AcceptUnverifiedDown {
			d.Notes = append(d.Notes, steps.T(lang,
				"注意：マスターの停止を確認できなくても実行します（スプリットブレインの危険）。マスターの電源断などを確認済みの場合のみ使用します",
				"Warning: runs even when the master cannot be proven down (split brain risk); only for a master known to be off"))
		}
	}
	return d
}

// probe asks the master directly, within the probe timeout (timeout exits
// 124 when the master keeps silent). p4 info needs no login.
func (f *Failover) probe() transport.Cmd {
	c := Conn{Port: f.MasterPort, User: f.User}.exec("-ztag", "info")
	c.Argv = append([]string{"timeout", f.timeout()}, c.Argv...)
	return c
}

func (f *Failover) masterStatus() transport.Cmd {
	return steps.Parsed(transport.Cmd{Argv: []string{"p4dctl", "status", f.MasterP4dctl}})
}

func (f *Failover) Plan() steps.Plan { return f.Conn.learnt(f.plan()) }

func (f *Failover) plan() steps.Plan {
	p := steps.Plan{Check: f.checks(f.ztag("info"))}
	if f.MasterPort != "" {
		p.Check = append(p.Check, steps.Op{Cmd: f.probe()})
	}
	if f.MasterDown {
		if f.MasterHost != "" {
			p.Check = append(p.Check, steps.Op{Host: f.MasterHost, Cmd: f.masterStatus()})
		}
		p.Check = append(p.Check, steps.Op{Cmd: f.ztag("servers")})
	}
	p.Check = append(p.Check, steps.Op{Cmd: f.exec(f.args(false)...)})
	if f.Yes {
		if f.MasterDown && f.MasterHost != "" {
			for _, c := range f.fence() {
				p.Apply = append(p.Apply, steps.Op{Host: f.MasterHost, Cmd: c})
			}
		}
		p.Apply = append(p.Apply, steps.Ops(f.exec(f.args(true)...), f.ztag("info"))...)
	}
	return p
}

// masterDown gathers the evidence. It returns what proves the master down,
// whether its host can be fenced, or an error saying why it is not proven.
func (f *Failover) masterDown(ctx context.Context, env steps.Env) (string, bool, error) {
	_, err := env.Run(ctx, f.probe(), nil)
	if err == nil {
		return "", false, fmt.Errorf("refusing failover -s %s: the master still answers on %s; failing over from a running master without its participation makes two masters (split brain) and loses data. Stop and fence it first, or fail over with it", f.Master, f.MasterPort)
	}
	var probe string
	portRefused := refused(err)
	var ee *transport.ExitError
	switch {
	case portRefused:
		probe = f.MasterPort + " refuses connections"
	case errors.As(err, &ee) && ee.Code == 124:
		probe = "no answer on " + f.MasterPort + " within " + f.timeout() + "s"
	default:
		probe = "the probe of " + f.MasterPort + " failed: " + strings.TrimSpace(stderrOf(err))
	}
	hostErr := errors.New("no master_host given")
	running, status := false, ""
	if f.MasterHost != "" {
		var menv steps.Env
		if menv, hostErr = env.On(f.MasterHost); hostErr == nil {
			running, status, hostErr = p4dctlRunning(ctx, menv, f.MasterP4dctl)
		}
	}
	switch {
	case hostErr == nil && running:
		return "", false, fmt.Errorf("refusing failover -s %s: %s, yet on %s %s: a hung master is not a down one, and it may wake up as a second master (split brain). Stop it there (p4dctl stop %s, or end the process) and run again", f.Master, probe, f.MasterHost, status, f.MasterP4dctl)
	case hostErr == nil:
		return probe + "; on " + f.MasterHost + ": " + status, true, nil
	case portRefused:
		return probe + " (its host cannot be asked: " + hostErr.Error() + ")", false, nil
	case f.AcceptUnverifiedDown:
		return probe + "; not proven down, accepted as such by this section (split brain risk)", false, nil
	}
	return "", false, fmt.Errorf("refusing failover -s %s: cannot prove the master is down: %s, and its host cannot be asked (%v). A hung master or a network partition looks the same, and failing over then makes two masters (split brain). If you know it is off, use the section that accepts the split brain risk", f.Master, probe, hostErr)
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
	return tagField(recs[0], "ServerID", "p4 -ztag info", out)
}

// masterInfo reads the master role's server with the probe: its ServerID
// and services, or the probe's error.
func (f *Failover) masterInfo(ctx context.Context, env steps.Env) (id, services string, err error) {
	out, err := Conn{Port: f.MasterPort, User: f.User, Charset: f.Charset}.run(ctx, env, f.probe(), "")
	if err != nil {
		return "", "", err
	}
	recs := ztag(out)
	if len(recs) == 0 {
		return "", "", fmt.Errorf("p4 info on %s printed nothing", f.MasterPort)
	}
	if id, err = tagField(recs[0], "ServerID", "p4 -ztag info", out); err != nil {
		return "", "", err
	}
	services, err = tagField(recs[0], "serverServices", "p4 -ztag info", out)
	return id, services, err
}

// failedOver proves that this server being the master means the drill is
// done, not that the pair is the other way round: after a failback the
// standby role's server is the master and the master role's a standby,
// and an inventory used without --swap-roles would report "already
// failed over" for a failover that never ran. A drill leaves the old
// master stopped (p4 failover stops it, or tejun fenced it), so nothing
// answering on MasterPort is the proof; any answer, or no proof, stops.
func (f *Failover) failedOver(ctx context.Context, env steps.Env) error {
	if f.MasterPort == "" {
		return nil
	}
	id, svc, err := f.masterInfo(ctx, env)
	switch {
	case err != nil && refused(err):
		return nil
	case err != nil:
		return fmt.Errorf("this server (role standby) is already the master %s, but what answers on %s (role master) cannot be told (%s): the pair may be the other way round (failback), so nothing is taken as done. %s", f.Master, f.MasterPort, strings.TrimSpace(stderrOf(err)), swapHint)
	case id == f.Master && masterServices(svc):
		return fmt.Errorf("two servers answer as the master %s: this one (role standby) and the one on %s (role master), services %s (split brain); stopping before anything changes", f.Master, f.MasterPort, svc)
	}
	return fmt.Errorf("this server (role standby) is already the master %s and the server on %s (role master) is ServerID %s with services %s: %s", f.Master, f.MasterPort, id, svc, swapHint)
}

// masterRole proves, before a drill with the master taking part, that the
// master role's server is that master (ServerID and a master's services,
// as p4.parity proves before a build). A master that does not answer is
// left to the preview, which says why.
func (f *Failover) masterRole(ctx context.Context, env steps.Env) error {
	id, svc, err := f.masterInfo(ctx, env)
	if err != nil || (id == f.Master && masterServices(svc)) {
		return nil
	}
	return fmt.Errorf("the server on %s (role master) is ServerID %s with services %s, not the master %s: %s", f.MasterPort, id, svc, f.Master, swapHint)
}

// Check: already failed over (this server is the master now) is done; else
// every safety condition must hold and the preview must pass.
func (f *Failover) Check(ctx context.Context, env steps.Env) (steps.Status, error) {
	id, err := f.serverID(ctx, env)
	if err != nil {
		return steps.Status{}, err
	}
	if id == f.Master {
		if err := f.failedOver(ctx, env); err != nil {
			return steps.Status{}, err
		}
		return steps.Done("already failed over: this server is %s", f.Master), nil
	}
	if !f.MasterDown && f.MasterPort != "" {
		if err := f.masterRole(ctx, env); err != nil {
			return steps.Status{}, err
		}
	}
	evidence := ""
	if f.MasterDown {
		var err error
		if evidence, _, err = f.masterDown(ctx, env); err != nil {
			return steps.Status{}, err
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
	if evidence != "" {
		evidence = " (master down: " + evidence + ")"
	}
	return steps.NotDone("%s will take over from %s%s; afterwards point the DNS alias or replicas' P4TARGET at it", id, f.Master, evidence), nil
}

// Apply fences a reachable master before taking over without it: its p4d
// stopped and its p4dctl entry disabled, so that nothing (a reboot, an
// operator) brings the old master back beside the new one.
func (f *Failover) Apply(ctx context.Context, env steps.Env) error {
	if f.MasterDown {
		_, fenceable, err := f.masterDown(ctx, env)
		if err != nil {
			return err
		}
		if fenceable {
			menv, err := env.On(f.MasterHost)
			if err != nil {
				return err
			}
			for _, c := range f.fence() {
				if _, err := menv.Run(ctx, c, nil); err != nil && !strings.Contains(stderrOf(err), "No such file") {
					return fmt.Errorf("fencing the old master on %s: %w", f.MasterHost, err)
				}
			}
		}
	}
	_, err := f.run(ctx, env, f.exec(f.args(true)...), "")
	return err
}

// restartWait bounds how long Verify waits for the standby's p4d to answer
// again: failover restarts it as the new master ("Restarting this server
// ...", "Perforce Server re-starting..." in failover's output; the admin
// guide's failed-over trigger fires "when the master restarts after a
// successful failover"), so a refused connection just after is the
// restart, not a failure.
const restartWait = 60 * time.Second

// Verify: p4 info shows the master's server ID on this server now. Only a
// refused connection is waited out; any other error, or the wrong ID, is
// the answer.
func (f *Failover) Verify(ctx context.Context, env steps.Env) error {
	deadline := time.Now().Add(restartWait)
	id, err := f.serverID(ctx, env)
	for err != nil && refused(err) && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return err
		case <-time.After(250 * time.Millisecond):
		}
		id, err = f.serverID(ctx, env)
	}
	if err != nil {
		return err
	}
	if id != f.Master {
		return fmt.Errorf("after failover p4 info shows ServerID %s, want %s", id, f.Master)
	}
	return nil
}
