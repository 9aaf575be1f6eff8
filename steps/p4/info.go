package p4

import (
	"context"
	"fmt"
	"strings"

	"tejun/steps"
)

// Info waits until p4 info on a server shows the wanted ServerID (and
// services): the admin guide's first check after a failover, that the
// former standby restarted as the new master under the master's server ID.
// A server still restarting is waited for (retries); one that answers with
// another ID is not the new master, and what the failover chapter does
// next (repointing replicas at it) must not happen.
type Info struct {
	Conn
	ServerID string `toml:"server_id" doc:"The ServerID p4 info must report: the server that answers is the one expected."`
	// Services, when set, is what serverServices must say (commit-server).
	Services string `toml:"services" doc:"The serverServices p4 info must report (commit-server), when set."`
}

func (i *Info) Waits() {}

func (i *Info) Validate() []steps.Problem {
	return append(i.Conn.Validate(), steps.Require("p4.info", "port", i.Port, "server_id", i.ServerID)...)
}

func (i *Info) Describe(lang string) steps.Description {
	notes := append(i.notes(lang), steps.T(lang,
		"ServerID: "+i.ServerID+" と表示され、以前のスタンバイが新しいマスターとして再起動されたことを確認します",
		"It must show ServerID: "+i.ServerID+": the former standby restarted as the new master"))
	return steps.Description{Notes: notes, Blocks: []steps.Block{steps.CommandBlock(lang, i.manual("info"))}}
}

func (i *Info) Plan() steps.Plan { return i.Conn.learnt(steps.Plan{Check: i.checks(i.ztag("info"))}) }

func (i *Info) Check(ctx context.Context, env steps.Env) (steps.Status, error) {
	cmd := i.ztag("info")
	out, err := i.run(ctx, env, cmd, "")
	if err != nil {
		if refused(err) {
			return steps.NotDone("no server answers on %s yet", i.Port), nil
		}
		return steps.Status{}, fmt.Errorf("p4 info on %s: %s", i.Port, strings.TrimSpace(stderrOf(err)))
	}
	recs := ztag(out)
	if len(recs) == 0 {
		return steps.Status{}, fmt.Errorf("p4 info printed nothing")
	}
	id, err := tagField(recs[0], "ServerID", cmd.String(), out)
	if err != nil {
		return steps.Status{}, err
	}
	if id != i.ServerID {
		return steps.NotDone("%s is ServerID %s, not %s", i.Port, id, i.ServerID), nil
	}
	if i.Services != "" {
		svc, err := tagField(recs[0], "serverServices", cmd.String(), out)
		if err != nil {
			return steps.Status{}, err
		}
		if svc != i.Services {
			return steps.NotDone("%s is %s with services %s, not %s", i.Port, id, svc, i.Services), nil
		}
	}
	return steps.Done("%s is ServerID %s", i.Port, id), nil
}

func (i *Info) Apply(ctx context.Context, env steps.Env) error { return nil }
