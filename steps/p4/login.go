package p4

import (
	"context"
	"fmt"
	"strings"

	"tejun/steps"
	"tejun/transport"
)

// Login stores a ticket for the replication service user in the P4TICKETS
// file the standby's spec names. It runs as the OS owner: a ticket file the
// pull threads cannot read fails replication with "P4PASSWD invalid or
// unset", long after the build looked finished.
type Login struct {
	Conn
	Secret string `toml:"secret" doc:"The declared secret holding user's password, sent on stdin."`
	// Trust is the P4TRUST file of the OS user the login runs as, used
	// when port is an ssl: one (p4.trust writes it).
	Trust string `toml:"trust" tejun:"path" doc:"The P4TRUST file for an ssl: port (-E P4TRUST=...), as p4.trust wrote it for that OS user."`
}

func (l *Login) Validate() []steps.Problem {
	ps := append(l.Conn.Validate(), steps.Require("p4.login", "port", l.Port, "user", l.User, "tickets", l.Tickets, "secret", l.Secret)...)
	return append(ps, steps.Absolute("tickets", l.Tickets)...)
}

func (l *Login) Secrets() []string { return append(l.Conn.Secrets(), l.Secret) }

// Credentials: a login prints no ticket unless asked (-p), but a p4 that
// does is not to be believed on its word.
func (l *Login) Credentials(stdout string) []string { return tickets(stdout) }

// manualCmd keeps the manual's order of options (-p before -u).
func (l *Login) manualCmd() transport.Cmd {
	argv := []string{"p4", "-p", P4Port(l.Port), "-u", l.User, "-E", "P4TICKETS=" + l.Tickets}
	if l.Trust != "" && (&Trust{Port: l.Port}).ssl() {
		argv = append(argv, "-E", "P4TRUST="+l.Trust)
	}
	if l.Charset != "" && l.Charset != "none" {
		argv = append(argv, "-C", l.Charset)
	}
	return transport.Cmd{Argv: append(argv, "login"), User: l.Become, CLocale: true}
}

func (l *Login) Describe(lang string) steps.Description {
	return steps.Description{
		Notes: append(l.notes(lang),
			steps.T(lang, l.Tickets+" はサーバ仕様の P4TICKETS と同じ場所です", l.Tickets+" is the P4TICKETS of the server spec"),
			steps.T(lang, "パスワードはシークレット "+l.Secret+" から標準入力で渡します", "The password comes from secret "+l.Secret+", sent on standard input")),
		Blocks: []steps.Block{steps.CommandBlock(lang, l.manualCmd())},
	}
}

func (l *Login) Plan() steps.Plan { return l.Conn.learnt(l.plan()) }

func (l *Login) plan() steps.Plan {
	apply := l.manualCmd()
	apply.Stdin, apply.StdinJa = "secret "+l.Secret, "シークレット "+l.Secret
	check := l.manualCmd()
	check.Argv = append(check.Argv, "-s")
	return steps.Plan{Check: steps.Ops(check, l.stat()), Apply: steps.Ops(apply)}
}

func (l *Login) stat() transport.Cmd {
	return steps.Parsed(transport.Cmd{Argv: []string{"stat", "-c", "%U %a", "--", l.Tickets}})
}

// Check: the stored ticket works (login -s), and the ticket file belongs to
// the OS user the replication threads run as and is private to it.
func (l *Login) Check(ctx context.Context, env steps.Env) (steps.Status, error) {
	check := l.manualCmd()
	check.Argv = append(check.Argv, "-s")
	if _, err := env.Run(ctx, check, nil); err != nil {
		if _, ok := err.(*transport.ExitError); ok {
			return steps.NotDone("no valid ticket for %s in %s", l.User, l.Tickets), nil
		}
		return steps.Status{}, err
	}
	out, err := env.Run(ctx, l.stat(), nil)
	if err != nil {
		return steps.Status{}, err
	}
	f := strings.Fields(out)
	if len(f) != 2 || (l.Become != "" && f[0] != l.Become) || (f[1] != "600" && f[1] != "400") {
		return steps.NotDone("%s is %s; want owner %s, mode 600 or 400", l.Tickets, strings.TrimSpace(out), l.Become), nil
	}
	return steps.Done("%s holds a valid ticket for %s", l.Tickets, l.User), nil
}

func (l *Login) Apply(ctx context.Context, env steps.Env) error {
	pw, err := env.Secret(l.Secret)
	if err != nil {
		return err
	}
	_, err = run(ctx, env, l.manualCmd(), string(pw)+"\n")
	if err != nil && strings.Contains(stderrOf(err), "Password invalid") {
		return fmt.Errorf("%s cannot log in to %s: the password in secret %s is not %s's password on the master, so no replication ticket can be made", l.User, l.Port, l.Secret, l.User)
	}
	return err
}

func (l *Login) Verify(ctx context.Context, env steps.Env) error {
	return steps.VerifyByCheck(ctx, env, l)
}
