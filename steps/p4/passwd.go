package p4

import (
	"context"
	"fmt"
	"strings"

	"tejun/steps"
	"tejun/transport"
)

// Passwd sets a user's password from a declared secret. The password goes on
// stdin (p4 passwd reads it twice, as at the prompt), never into argv where
// ps on the host would show it.
type Passwd struct {
	Conn
	Name   string `toml:"name" doc:"The user whose password to set."`
	Secret string `toml:"secret" doc:"The declared secret holding the new password, sent on stdin."`
}

func (p *Passwd) Validate() []steps.Problem {
	ps := append(p.Conn.Validate(), steps.Require("p4.passwd", "name", p.Name, "secret", p.Secret)...)
	return append(ps, steps.NotOption("name", p.Name)...)
}

func (p *Passwd) Secrets() []string { return append(p.Conn.Secrets(), p.Secret) }

// Credentials: the check's login -p prints a ticket.
func (p *Passwd) Credentials(stdout string) []string { return tickets(stdout) }

func (p *Passwd) Describe(lang string) steps.Description {
	return steps.Description{
		Notes: append(p.notes(lang), steps.T(lang,
			"パスワードはシークレット "+p.Secret+" から標準入力で渡します",
			"The password comes from secret "+p.Secret+", sent on standard input")),
		Blocks: []steps.Block{
			steps.CommandBlock(lang, p.manual("passwd", p.Name)),
			{Heading: steps.T(lang, "パスワード設定", "Setting the password"), Code: steps.Literal, Lines: []string{
				"Enter new password: ********",
				"Re-enter new password: ********",
			}},
		},
	}
}

func (p *Passwd) Plan() steps.Plan { return p.Conn.learnt(p.plan()) }

func (p *Passwd) plan() steps.Plan {
	check := p.loginCheck()
	check.Stdin, check.StdinJa = "secret "+p.Secret, "シークレット "+p.Secret
	set := p.exec("passwd", p.Name)
	set.Stdin, set.StdinJa = "secret "+p.Secret+", twice", "シークレット "+p.Secret+"（2回）"
	return steps.Plan{Check: p.checks(p.users(), check), Apply: steps.Ops(set)}
}

// users shows the Password field; -a because service users are listed
// only with it.
func (p *Passwd) users() transport.Cmd { return p.ztag("users", "-a", p.Name) }

// loginCheck prints a ticket (-p) without storing it anywhere.
func (p *Passwd) loginCheck() transport.Cmd {
	return Conn{Port: p.Port, User: p.Name, Charset: p.Charset}.exec("login", "-p")
}

// Check proves two things: the user has a password at all, and the
// secret is it. A login alone proves neither: for a user without a
// password p4 login answers "'login' not necessary, no password set for
// this user." and exits 0. p4 -ztag users -a reports "Password enabled"
// for a user with a password and omits the field otherwise.
func (p *Passwd) Check(ctx context.Context, env steps.Env) (steps.Status, error) {
	out, err := p.run(ctx, env, p.users(), "")
	if err != nil {
		return steps.Status{}, err
	}
	recs := ztag(out)
	if len(recs) == 0 || recs[0]["user"] != p.Name {
		return steps.Status{}, fmt.Errorf("p4 users -a %s does not show the user:\n%s", p.Name, strings.TrimSpace(out))
	}
	if recs[0]["password"] != "enabled" {
		return steps.NotDone("%s has no password", p.Name), nil
	}
	pw, err := env.Secret(p.Secret)
	if err != nil {
		return steps.Status{}, err
	}
	out, err = run(ctx, env, p.loginCheck(), string(pw)+"\n")
	if err == nil && !strings.Contains(out, "not necessary") {
		return steps.Done("%s has a password and logs in with secret %s", p.Name, p.Secret), nil
	}
	if err == nil {
		return steps.Status{}, fmt.Errorf("p4 users says %s has a password, yet login says none is needed: %s", p.Name, strings.TrimSpace(out))
	}
	if strings.Contains(stderrOf(err), "Password invalid") {
		return steps.NotDone("%s's password is not secret %s", p.Name, p.Secret), nil
	}
	return steps.Status{}, err
}

func (p *Passwd) Apply(ctx context.Context, env steps.Env) error {
	pw, err := env.Secret(p.Secret)
	if err != nil {
		return err
	}
	_, err = p.run(ctx, env, p.exec("passwd", p.Name), string(pw)+"\n"+string(pw)+"\n")
	return err
}

func (p *Passwd) Verify(ctx context.Context, env steps.Env) error {
	return steps.VerifyByCheck(ctx, env, p)
}
