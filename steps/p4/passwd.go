package p4

import (
	"context"

	"tejun/steps"
	"tejun/transport"
)

// Passwd sets a user's password from a declared secret. The password goes on
// stdin (p4 passwd reads it twice, as at the prompt), never into argv where
// ps on the host would show it.
type Passwd struct {
	Conn
	Name   string `toml:"name"`
	Secret string `toml:"secret"`
}

func (p *Passwd) Validate() []steps.Problem {
	ps := append(p.Conn.Validate(), steps.Require("p4.passwd", "name", p.Name, "secret", p.Secret)...)
	return append(ps, steps.NotOption("name", p.Name)...)
}

func (p *Passwd) Secrets() []string { return []string{p.Secret} }

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

func (p *Passwd) Plan() steps.Plan {
	// Check: a login with the password prints a ticket (-p) without storing
	// it anywhere.
	check := p.loginCheck()
	check.Stdin = "secret " + p.Secret
	set := p.exec("passwd", p.Name)
	set.Stdin = "secret " + p.Secret + ", twice"
	return steps.Plan{Check: steps.Ops(check), Apply: steps.Ops(set)}
}

func (p *Passwd) loginCheck() transport.Cmd {
	return Conn{Port: p.Port, User: p.Name}.exec("login", "-p")
}

// Check logs in with the secret and prints the ticket without storing it:
// success means the password is already the secret.
func (p *Passwd) Check(ctx context.Context, env steps.Env) (steps.Status, error) {
	pw, err := env.Secret(p.Secret)
	if err != nil {
		return steps.Status{}, err
	}
	_, err = run(ctx, env, p.loginCheck(), string(pw)+"\n")
	if err == nil {
		return steps.Done("%s already logs in with secret %s", p.Name, p.Secret), nil
	}
	if _, ok := err.(*transport.ExitError); ok {
		return steps.NotDone("%s does not log in with secret %s", p.Name, p.Secret), nil
	}
	return steps.Status{}, err
}

func (p *Passwd) Apply(ctx context.Context, env steps.Env) error {
	pw, err := env.Secret(p.Secret)
	if err != nil {
		return err
	}
	_, err = run(ctx, env, p.exec("passwd", p.Name), string(pw)+"\n"+string(pw)+"\n")
	return err
}

func (p *Passwd) Verify(ctx context.Context, env steps.Env) error {
	return steps.VerifyByCheck(ctx, env, p)
}
