package p4

import (
	"context"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"tejun/steps"
	"tejun/transport"
	"tejun/transport/transporttest"
)

// hostEnv is a steps.Env over fake hosts; a host missing from hosts
// cannot be reached.
type hostEnv struct {
	name  string
	hosts map[string]*transporttest.Fake
}

func (e *hostEnv) Host() string { return e.name }
func (e *hostEnv) Run(ctx context.Context, cmd transport.Cmd, stdin io.Reader) (string, error) {
	return transport.Output(ctx, e.hosts[e.name], cmd, stdin)
}
func (e *hostEnv) Files() (transport.Files, error) { return nil, errors.New("no files") }
func (e *hostEnv) On(host string) (steps.Env, error) {
	if e.hosts[host] == nil {
		return nil, errors.New("ssh: connect to host " + host + ": connection timed out")
	}
	return &hostEnv{name: host, hosts: e.hosts}, nil
}
func (e *hostEnv) Secret(string) ([]byte, error)         { return nil, errors.New("no secrets") }
func (e *hostEnv) Confirm(context.Context, string) error { return steps.ErrNoOperator }
func (e *hostEnv) Dir() string                           { return "" }

// The master's port says nothing within the timeout and its host cannot
// be reached: not proof of "down". Refused, unless the section accepts the
// split brain risk by name.
func TestFailoverUnverifiedDown(t *testing.T) {
	standby := func() *transporttest.Fake {
		return transporttest.New().
			On(`-ztag info$`, transporttest.Reply{Stdout: "... ServerID standby\n"}).
			On(`^env LC_ALL=C timeout 5 p4 .* -ztag info$`, transporttest.Reply{Code: 124}).
			On(`-ztag servers$`, transporttest.Reply{Stdout: "... ServerID standby\n... Options mandatory\n"}).
			On(`failover -s master$`, transporttest.Reply{Stdout: "use --yes or -y to execute the failover.\n"})
	}
	f := &Failover{Conn: Conn{Port: "s:1666", User: "super"}, Master: "master", MasterPort: "m:1666", MasterDown: true, Yes: true,
		MasterHost: "master", MasterP4dctl: "master", ProbeTimeout: "5s"}
	env := &hostEnv{name: "standby", hosts: map[string]*transporttest.Fake{"standby": standby()}}
	_, err := f.Check(context.Background(), env)
	if err == nil || !strings.Contains(err.Error(), "cannot prove the master is down") || !strings.Contains(err.Error(), "no answer on m:1666 within 5s") ||
		!strings.Contains(err.Error(), "connection timed out") {
		t.Fatalf("unverified down: %v", err)
	}
	f.AcceptUnverifiedDown = true
	st, err := f.Check(context.Background(), env)
	if err != nil || st.Done || !strings.Contains(st.Reason, "split brain risk") {
		t.Fatalf("accepted risk: %+v, %v", st, err)
	}

	// The host answers and p4dctl says p4d runs: hung, refused even so.
	master := transporttest.New().On(`^env LC_ALL=C p4dctl status master$`, transporttest.Reply{Stdout: "p4d 'master' is running with pid 7.\n"})
	env = &hostEnv{name: "standby", hosts: map[string]*transporttest.Fake{"standby": standby(), "master": master}}
	if _, err := f.Check(context.Background(), env); err == nil || !strings.Contains(err.Error(), "hung") {
		t.Fatalf("hung master: %v", err)
	}
	// Not running there: down, and Apply fences it before failover -s -y.
	master.On(`^env LC_ALL=C p4dctl status master$`, transporttest.Reply{Stdout: "p4d 'master' is not running.\n", Code: 1}).
		On(`^p4dctl stop master$`, transporttest.Reply{}).
		On(`^env LC_ALL=C mv -f -- /etc/perforce/p4dctl.conf.d/master.conf`, transporttest.Reply{})
	env.hosts["standby"].On(`failover -s master -y$`, transporttest.Reply{})
	f.AcceptUnverifiedDown = false
	if st, err := f.Check(context.Background(), env); err != nil || !strings.Contains(st.Reason, "not running") {
		t.Fatalf("down master: %+v, %v", st, err)
	}
	if err := f.Apply(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	master.AssertReceived(t, `^env LC_ALL=C mv -f -- /etc/perforce/p4dctl.conf.d/master.conf /etc/perforce/p4dctl.conf.d/master.conf.fenced-by-tejun$`)
	env.hosts["standby"].AssertReceived(t, `failover -s master -y$`)
}

// TestProbeTimeoutDefaultTag: tejun kinds p4.failover shows the default
// the step really uses.
func TestProbeTimeoutDefaultTag(t *testing.T) {
	f, _ := reflect.TypeOf(Failover{}).FieldByName("ProbeTimeout")
	if got := (&Failover{}).timeout(); got != f.Tag.Get("default") {
		t.Errorf("probe_timeout: uses %q, tag says %q", got, f.Tag.Get("default"))
	}
}

// This server is the master already: done only when the master role's
// port is silent (the drill stopped it). After a failback, run without
// --swap-roles, the master role's server answers as a standby: refused
// naming --swap-roles; an answer that cannot be read proves nothing.
func TestFailoverAlreadyDoneProvesRoles(t *testing.T) {
	probe := `^env LC_ALL=C timeout 10 p4 -u super -p m:1666 -ztag info$`
	f := &Failover{Conn: Conn{Port: "s:1666", User: "super"}, Master: "master", MasterPort: "m:1666"}
	for _, c := range []struct {
		name  string
		reply transporttest.Reply
		want  string
	}{
		{"silent", transporttest.Reply{Stderr: "Perforce client error:\n\tConnect to server failed; check $P4PORT.\n\tTCP connect to m:1666 failed.\n\tconnect: 127.0.0.1:1666: Connection refused\n", Code: 1}, ""},
		{"standby", transporttest.Reply{Stdout: "... ServerID standby\n... serverServices standby\n"}, "is ServerID standby with services standby: if the pair failed over, the roles are now the other way round: run with --swap-roles master,standby"},
		{"two masters", transporttest.Reply{Stdout: "... ServerID master\n... serverServices commit-server\n"}, "split brain"},
		{"hung", transporttest.Reply{Code: 124}, "cannot be told"},
	} {
		standby := transporttest.New().
			On(`-ztag info$`, transporttest.Reply{Stdout: "... ServerID master\n... serverServices commit-server\n"}).
			On(probe, c.reply)
		st, err := f.Check(context.Background(), &hostEnv{name: "standby", hosts: map[string]*transporttest.Fake{"standby": standby}})
		switch {
		case c.want == "" && (err != nil || !st.Done):
			t.Errorf("%s: %+v, %v, want done", c.name, st, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: %+v, %v, want an error with %q", c.name, st, err, c.want)
		}
		standby.AssertReceived(t, probe)
	}

	// Before the drill the master role's server must be that master.
	standby := transporttest.New().
		On(`-ztag info$`, transporttest.Reply{Stdout: "... ServerID standby\n... serverServices standby\n"}).
		On(probe, transporttest.Reply{Stdout: "... ServerID replica1\n... serverServices replica\n"})
	if _, err := f.Check(context.Background(), &hostEnv{name: "standby", hosts: map[string]*transporttest.Fake{"standby": standby}}); err == nil || !strings.Contains(err.Error(), "not the master master: if the pair failed over") {
		t.Errorf("master role on a replica: %v", err)
	}
}
