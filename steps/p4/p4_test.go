package p4

import (
	"slices"
	"strings"
	"testing"

	"tejun/steps"
)

func commands(ops []steps.Op) []string {
	var out []string
	for _, op := range ops {
		out = append(out, op.Cmd.String())
	}
	return out
}

func TestFailoverForms(t *testing.T) {
	c := Conn{Port: "127.0.0.12:1666", User: "super", EnvInManual: true}
	for _, tc := range []struct {
		f      Failover
		manual string
		apply  []string
	}{
		{Failover{Conn: c, Master: "master"}, "p4 failover", nil},
		{Failover{Conn: c, Master: "master", Yes: true}, "p4 failover -y",
			[]string{"env LC_ALL=C p4 -u super -p 127.0.0.12:1666 failover -y", "env LC_ALL=C p4 -u super -p 127.0.0.12:1666 -ztag info"}},
		{Failover{Conn: c, Master: "master", MasterDown: true, MasterPort: "m:1"}, "p4 failover -s master", nil},
		{Failover{Conn: c, Master: "master", MasterDown: true, MasterPort: "m:1", Yes: true}, "p4 failover -s master -y",
			[]string{"env LC_ALL=C p4 -u super -p 127.0.0.12:1666 failover -s master -y", "env LC_ALL=C p4 -u super -p 127.0.0.12:1666 -ztag info"}},
	} {
		if got := tc.f.Describe("ja").Blocks[0].Lines[0]; got != tc.manual {
			t.Errorf("manual form %q, want %q", got, tc.manual)
		}
		if got := commands(tc.f.Plan().Apply); !slices.Equal(got, tc.apply) {
			t.Errorf("%s: apply %q, want %q", tc.manual, got, tc.apply)
		}
		if tc.f.Destructive() != tc.f.Yes {
			t.Errorf("%s: destructive = %v", tc.manual, tc.f.Destructive())
		}
		// The preview always runs first, read-only.
		check := commands(tc.f.Plan().Check)
		if !strings.HasSuffix(check[len(check)-1], strings.TrimSuffix(tc.manual, " -y")[len("p4 "):]) {
			t.Errorf("%s: preview %q", tc.manual, check)
		}
	}
}

// Secrets go on stdin: no command of a secret-using kind carries the secret's
// name as an argument, and each says what it reads.
func TestSecretsOnStdin(t *testing.T) {
	login := &Login{Conn: Conn{Port: "p:1", User: "service", Tickets: "/r/.p4tickets"}, Secret: "pw"}
	passwd := &Passwd{Conn: Conn{Port: "p:1", User: "super"}, Name: "service", Secret: "pw"}
	for _, s := range []steps.Step{login, passwd} {
		p := s.Plan()
		for _, op := range append(p.Check, p.Apply...) {
			if slices.Contains(op.Cmd.Argv, "pw") {
				t.Errorf("secret name in argv: %s", op.Cmd.String())
			}
		}
		for _, op := range p.Apply {
			if !strings.Contains(op.Cmd.Stdin, "secret pw") {
				t.Errorf("%s does not read the secret on stdin", op.Cmd.String())
			}
		}
	}
}

func TestServerSpecRefusals(t *testing.T) {
	s := Server{Conn: Conn{Port: "p:1", User: "super"}, ServerID: "standby", Create: true, Options: "mandatory"}
	if len(s.Validate()) == 0 {
		t.Error("a new spec created as mandatory was accepted")
	}
	s = Server{ServerID: "standby", Options: "mandatroy"}
	if len(s.Validate()) == 0 {
		t.Error("a misspelt option was accepted")
	}
	s = Server{ServerID: "standby", Show: "all"}
	if len(s.Validate()) == 0 {
		t.Error("show = all was accepted")
	}
	shown := Server{Conn: Conn{Port: "p:1", User: "super"}, ServerID: "standby"}
	if p := shown.Plan(); len(p.Apply) != 0 {
		t.Errorf("a display-only server step changes something: %q", commands(p.Apply))
	}
}

// A standby's spec sets the standby's configurables; any#... (every
// server's, the master's included) only when the runbook says so.
func TestServerGlobalConfig(t *testing.T) {
	s := &Server{Conn: Conn{Port: "m:1666", User: "super"}, ServerID: "standby", DistributedConfig: []string{"P4LOG=log", "standby#monitor=2", "any#P4LOG=../logs/log"}}
	ps := s.Validate()
	if len(ps) != 1 || !strings.Contains(ps[0].Msg, "any#P4LOG") {
		t.Fatalf("problems %v", ps)
	}
	s.GlobalConfig = true
	if ps := s.Validate(); len(ps) != 0 {
		t.Errorf("with global_config: %v", ps)
	}
}

// An IPv6 address and a port joined as for IPv4 are no P4PORT; Perforce's
// own forms pass through.
func TestP4Port(t *testing.T) {
	for in, want := range map[string]string{
		"2001:db8::40:1777":        "tcp6:[2001:db8::40]:1777",
		"192.168.56.114:1666":      "192.168.56.114:1666",
		"ssl:192.168.56.114:1666":  "ssl:192.168.56.114:1666",
		"tcp6:[2001:db8::40]:1777": "tcp6:[2001:db8::40]:1777",
		"[2001:db8::40]:1777":      "[2001:db8::40]:1777",
		"1666":                     "1666",
		"p4.example:1666":          "p4.example:1666",
	} {
		if got := P4Port(in); got != want {
			t.Errorf("P4Port(%q) = %q, want %q", in, got, want)
		}
	}
	s := &Server{ServerID: "standby", DistributedConfig: []string{"P4TARGET=2001:db8::40:1777", "P4LOG=log"}}
	if got := portLines(s.DistributedConfig); got[0] != "P4TARGET=tcp6:[2001:db8::40]:1777" || got[1] != "P4LOG=log" {
		t.Errorf("portLines: %q", got)
	}
}

// A group step must name what it sets, with timeouts Perforce accepts and
// user names that cannot add lines of their own to the form.
func TestGroupValidate(t *testing.T) {
	for _, c := range []struct {
		g    Group
		want string
	}{
		{Group{Name: "g", Users: []string{"service"}, Timeout: "unlimited"}, ""},
		{Group{Name: "g", Timeout: "43200", PasswordTimeout: "unset"}, ""},
		{Group{Name: "g"}, "needs users"},
		{Group{Users: []string{"s"}}, "needs name"},
		{Group{Name: "-a", Users: []string{"s"}}, "cannot start"},
		{Group{Name: "g", Users: []string{"s\nUsers:\n\tevil"}}, "line breaks"},
		{Group{Name: "g", Timeout: "12h"}, "want seconds"},
	} {
		var msgs []string
		for _, p := range c.g.Validate() {
			msgs = append(msgs, p.Msg)
		}
		got := strings.Join(msgs, "; ")
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("%+v: problems %q, want %q", c.g, got, c.want)
		}
	}
}
