// Package p4 holds the Perforce Helix Core step kinds: the commands of the
// HA standby manual (server spec, service user, checkpoint, restore, login,
// replication checks, failover).
package p4

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"tejun/steps"
	"tejun/transport"
)

// Kinds lists the Perforce kinds for a registry.
func Kinds() []steps.Kind {
	return []steps.Kind{
		{Name: "p4.server", New: func() steps.Step { return &Server{} }},
		{Name: "p4.user", New: func() steps.Step { return &User{} }},
		{Name: "p4.group", New: func() steps.Step { return &Group{} }},
		{Name: "p4.passwd", New: func() steps.Step { return &Passwd{} }, Caps: steps.Caps{Credentials: true}},
		{Name: "p4.protect", New: func() steps.Step { return &Protect{} }},
		{Name: "p4.checkpoint", New: func() steps.Step { return &Checkpoint{} }, Caps: steps.Caps{Produces: true, RealOutputs: true}},
		{Name: "p4.server_id", New: func() steps.Step { return &ServerID{} }},
		{Name: "p4.restore", New: func() steps.Step { return &Restore{} }},
		{Name: "p4.login", New: func() steps.Step { return &Login{} }, Caps: steps.Caps{Credentials: true}},
		{Name: "p4.ticket", New: func() steps.Step { return &Ticket{} }, Caps: steps.Caps{Verify: true}},
		{Name: "p4.logout", New: func() steps.Step { return &Logout{} }},
		{Name: "p4.pull", New: func() steps.Step { return &Pull{} }, Caps: steps.Caps{Verify: true}},
		{Name: "p4.servers", New: func() steps.Step { return &Servers{} }, Caps: steps.Caps{Verify: true}},
		{Name: "p4.failover", New: func() steps.Step { return &Failover{} }, Caps: steps.Caps{MayDestroy: true}},
		{Name: "p4dctl", New: func() steps.Step { return &P4dctl{} }, Caps: steps.Caps{MayDestroy: true}},
		{Name: "p4.parity", New: func() steps.Step { return &Parity{} }, Caps: steps.Caps{Verify: true, Produces: true, RealOutputs: true}},
		{Name: "p4.info", New: func() steps.Step { return &Info{} }, Caps: steps.Caps{Verify: true}},
		{Name: "p4.configure", New: func() steps.Step { return &Configure{} }},
		{Name: "p4.target", New: func() steps.Step { return &Target{} }},
		{Name: "p4.trust", New: func() steps.Step { return &Trust{} }},
	}
}

// Conn is how a p4 client command reaches the server.
type Conn struct {
	steps.RunAs
	Port string `toml:"port" doc:"The server to talk to (P4PORT, host:port), passed as -p."`
	User string `toml:"user" doc:"The Perforce user the commands run as, passed as -u."`
	// Tickets is the P4TICKETS file the command uses (-E P4TICKETS=...).
	Tickets string `toml:"tickets" doc:"The P4TICKETS file the commands use and a login writes to (-E P4TICKETS=...)."`
	// EnvInManual marks a step the manual writes as a bare "p4 servers -J",
	// relying on P4PORT/P4USER from the environment. The manual form then
	// shows it bare with a note; tejun always passes -u/-p, so the command
	// does not depend on the login shell of whoever runs it.
	EnvInManual bool `toml:"env_in_manual" doc:"Shows the command bare in the manual form, as the manual relies on P4PORT/P4USER; tejun still passes -p/-u."`
	// Password names the secret holding User's password. With it, a
	// command the server refuses for want of a valid ticket (none yet, or
	// expired mid-run) logs User in, into Tickets, and runs once more: a
	// fresh master where nobody is logged in works, an existing valid
	// ticket needs no password, and an expiring ticket is renewed instead
	// of failing the step.
	Password string `toml:"password" doc:"The declared secret holding user's password: a command refused for want of a ticket logs in and runs again."`
	// Charset is sent as -C when set and not "none": a unicode server
	// refuses every command of a client without one ("Unicode server
	// permits only unicode enabled clients"), a non-unicode one every
	// command of a client with one (P4 Command Reference, P4CHARSET). The
	// example takes it from p4.parity, which reads p4 -ztag info.
	Charset string `toml:"charset" doc:"Sent as -C (utf8) for a unicode server; none or unset sends nothing."`
}

func (c Conn) Validate() []steps.Problem {
	var ps []steps.Problem
	if c.EnvInManual && (c.Port == "" || c.User == "") {
		ps = append(ps, steps.Problem{Key: "env_in_manual", Msg: "env_in_manual needs port and user: tejun passes them explicitly"})
	}
	if c.Port != "" {
		ps = append(ps, portProblem("port", c.Port)...)
	}
	if c.Password != "" && (c.Tickets == "" || c.User == "" || c.Port == "") {
		// Without a ticket file of its own tejun would write into the
		// operator's ~/.p4tickets.
		ps = append(ps, steps.Problem{Key: "password", Msg: "password needs user, port and tickets (the ticket file tejun logs in to)"})
	}
	return ps
}

// Secrets: the password is sent on stdin when a login is needed.
func (c Conn) Secrets() []string {
	if c.Password == "" {
		return nil
	}
	return []string{c.Password}
}

// loginCmd logs User in, storing the ticket in Tickets only.
func (c Conn) loginCmd() transport.Cmd {
	return Conn{RunAs: c.RunAs, Port: c.Port, User: c.User, Tickets: c.Tickets, Charset: c.Charset}.exec("login")
}

// checks is a kind's check commands, with the login they may need (plan
// mode allows only what is listed).
func (c Conn) checks(cmds ...transport.Cmd) []steps.Op {
	ops := steps.Ops(cmds...)
	if c.Password != "" {
		login := c.loginCmd()
		login.Stdin = "secret " + c.Password + ", only when the ticket is missing or expired"
		login.StdinJa = "シークレット " + c.Password + "（チケットが無いか期限切れのときだけ）"
		ops = append(ops, steps.Op{Cmd: login})
	}
	return ops
}

// learnt declares, on each p4 command of a plan, the form it takes once
// the server has said it is Unicode (Conn.run and Logout re-send it with
// -C utf8): a step given no charset finds out only from the refusal. Plan
// mode's gate admits the variant; --show-exec shows the command as first
// sent.
func (c Conn) learnt(p steps.Plan) steps.Plan {
	if c.Charset != "" {
		return p
	}
	login, _ := c.loginCmd().Line()
	add := func(ops []steps.Op) []steps.Op {
		out := make([]steps.Op, len(ops))
		for i, op := range ops {
			if line, _ := op.Cmd.Line(); line == login {
				u := c
				u.Charset = "utf8"
				op.Variants = append(op.Variants, u.loginCmd())
			} else if v := withCharset(op.Cmd, "utf8"); len(op.Cmd.Argv) > 0 && op.Cmd.Argv[0] == "p4" {
				op.Variants = append(op.Variants, v)
			}
			out[i] = op
		}
		return out
	}
	p.Check, p.Apply = add(p.Check), add(p.Apply)
	return p
}

// ticketRefused: the server wants a (new) login. The texts are Perforce's
// own: no ticket at all, an expired one, one logged out elsewhere.
func ticketRefused(err error) bool {
	msg := stderrOf(err)
	return strings.Contains(msg, "P4PASSWD) invalid or unset") || strings.Contains(msg, "Your session has expired") ||
		strings.Contains(msg, "Your session was logged out")
}

// run runs a p4 command, logging in once and retrying when the server
// refuses it for want of a ticket.
//
// A step given no charset that meets a unicode server (the failover drills,
// which have no parity step) runs with -C utf8 from then on: the refusal
// is the server saying which it is.
func (c Conn) run(ctx context.Context, env steps.Env, cmd transport.Cmd, stdin string) (string, error) {
	out, err := run(ctx, env, cmd, stdin)
	if err != nil && c.Charset == "" && unicodeRefused(err) {
		c.Charset = "utf8"
		cmd = withCharset(cmd, c.Charset)
		out, err = run(ctx, env, cmd, stdin)
	}
	// A command the server refused for the client's own ticket printed
	// nothing; one that printed its answer ran, and the refusal beside it
	// is relayed (pull -lj showing the replication's failed login), so
	// logging in again would not help and would say the wrong thing.
	if err == nil || c.Password == "" || !ticketRefused(err) || strings.TrimSpace(out) != "" {
		return out, err
	}
	if lerr := c.login(ctx, env); lerr != nil {
		return "", lerr
	}
	return run(ctx, env, cmd, stdin)
}

func unicodeRefused(err error) bool {
	return strings.Contains(stderrOf(err), "Unicode server permits only unicode enabled clients")
}

// withCharset is cmd (a p4 command) with -C charset among its global
// options.
func withCharset(cmd transport.Cmd, charset string) transport.Cmd {
	if len(cmd.Argv) == 0 || cmd.Argv[0] != "p4" {
		return cmd
	}
	cmd.Argv = append([]string{"p4", "-C", charset}, cmd.Argv[1:]...)
	return cmd
}

func (c Conn) login(ctx context.Context, env steps.Env) error {
	pw, err := env.Secret(c.Password)
	if err != nil {
		return err
	}
	_, err = run(ctx, env, c.loginCmd(), string(pw)+"\n")
	switch {
	case err == nil:
		return nil
	case strings.Contains(stderrOf(err), "Password invalid"):
		return fmt.Errorf("%s cannot log in to %s: secret %s is not %s's password", c.User, c.Port, c.Password, c.User)
	}
	return fmt.Errorf("logging %s in to %s (ticket file %s): %w", c.User, c.Port, c.Tickets, err)
}

// exec is the command tejun runs: every connection setting explicit.
func (c Conn) exec(args ...string) transport.Cmd {
	argv := []string{"p4"}
	if c.User != "" {
		argv = append(argv, "-u", c.User)
	}
	if c.Port != "" {
		argv = append(argv, "-p", P4Port(c.Port))
	}
	if c.Tickets != "" {
		argv = append(argv, "-E", "P4TICKETS="+c.Tickets)
	}
	if c.Charset != "" && c.Charset != "none" {
		argv = append(argv, "-C", c.Charset)
	}
	return transport.Cmd{Argv: append(argv, args...), User: c.Become, CLocale: true}
}

// P4Port writes HOST:PORT as Perforce reads it. An IPv6 address joined
// with its port ("2001:db8::40:1777") is no valid P4PORT: Perforce wants
// the protocol and brackets, "tcp6:[2001:db8::40]:1777" (P4 Command
// Reference, P4PORT: tcp6/ssl6 with the address in brackets). A port with
// a protocol prefix (ssl:, tcp6:, ...) or brackets is already Perforce's
// form and is kept as written.
func P4Port(port string) string {
	for _, proto := range []string{"tcp:", "tcp4:", "tcp6:", "tcp46:", "tcp64:", "ssl:", "ssl4:", "ssl6:", "ssl46:", "ssl64:", "rsh:", "unix:"} {
		if strings.HasPrefix(port, proto) {
			return port
		}
	}
	i := strings.LastIndexByte(port, ':')
	if i < 0 || strings.HasPrefix(port, "[") {
		return port
	}
	host, num := port[:i], port[i+1:]
	if strings.Contains(host, ":") {
		return "tcp6:[" + host + "]:" + num
	}
	return port
}

// portProblem checks a P4PORT that lands in a command line or in another
// server's configuration (P4TARGET): [protocol:]host:port, the host a
// name or an address ([v6] in brackets), the port a number. An option
// ("-p..."), a space or a path is refused: inventory values are data.
func portProblem(key, port string) []steps.Problem {
	bad := func() []steps.Problem {
		return []steps.Problem{{Key: key, Msg: fmt.Sprintf("%s %q is not a P4PORT ([protocol:]host:port, the host a name or an address)", key, port)}}
	}
	p := port
	for _, proto := range []string{"tcp:", "tcp4:", "tcp6:", "tcp46:", "tcp64:", "ssl:", "ssl4:", "ssl6:", "ssl46:", "ssl64:"} {
		if strings.HasPrefix(p, proto) {
			p = p[len(proto):]
			break
		}
	}
	i := strings.LastIndexByte(p, ':')
	if i <= 0 {
		return bad()
	}
	host, num := p[:i], p[i+1:]
	if _, err := strconv.Atoi(num); err != nil || num == "" || strings.HasPrefix(num, "-") || strings.HasPrefix(num, "+") {
		return bad()
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if host == "" || strings.HasPrefix(host, "-") || strings.ContainsAny(host, " \t\n/@\\'\"") {
		return bad()
	}
	return nil
}

// p4d is a server-side command on a P4ROOT, run as the OS owner when given.
func p4d(user, root string, args ...string) transport.Cmd {
	return transport.Cmd{Argv: append([]string{"p4d", "-r", root}, args...), User: user, CLocale: true}
}

// ztag is exec with tagged output, which tejun parses instead of prose.
func (c Conn) ztag(args ...string) transport.Cmd {
	return c.exec(append([]string{"-ztag"}, args...)...)
}

// manual is the command as the manual prints it.
func (c Conn) manual(args ...string) transport.Cmd {
	if c.EnvInManual {
		return transport.Cmd{Argv: append([]string{"p4"}, args...), User: c.Become}
	}
	if c.Password != "" {
		// tejun's own ticket file is how tejun runs it, not part of the
		// manual's procedure; --show-exec shows it.
		c.Tickets = ""
	}
	return c.exec(args...)
}

// notes says what the manual leaves implicit.
func (c Conn) notes(lang string) []string {
	var n []string
	if c.EnvInManual {
		n = append(n, steps.T(lang,
			"P4PORT="+c.Port+" P4USER="+c.User+" として実行します",
			"Run with P4PORT="+c.Port+" P4USER="+c.User))
	}
	if c.Become != "" {
		n = append(n, steps.AsUser(lang, c.Become))
	}
	return n
}

// fieldLines renders spec fields as the spec form shows them: multi-line values
// on tab-indented lines under the field name.
func fieldLines(name string, values ...string) []string {
	if len(values) == 1 {
		return []string{name + ": " + values[0]}
	}
	lines := []string{name + ":"}
	for _, v := range values {
		lines = append(lines, "\t"+v)
	}
	return lines
}

// Show is for spec steps the manual splits in two: one numbered step opens
// the form (the command), the next edits it (the fields). Each runbook step
// ensures the whole spec; Show only picks which half the dry-run prints, so
// the numbering matches the manual.
//
// "form" prints the fields half as the editor shows a new spec (the step
// that follows the spec's creation): the fields tejun leaves at Perforce's
// defaults too, and a ● note on each line it changes or adds, as the
// manual marks them in red (see form.go).
type Show string

func (s Show) validate() []steps.Problem {
	switch s {
	case "", "both", "command", "fields", "form":
		return nil
	}
	return []steps.Problem{{Key: "show", Msg: "show " + string(s) + ": want both, command, fields or form"}}
}

func (s Show) command() bool { return s != "fields" && s != "form" }
func (s Show) fields() bool  { return s != "command" }
