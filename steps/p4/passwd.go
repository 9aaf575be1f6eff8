package p4

import "tejun/steps"

// Passwd sets a user's password from a declared secret. The password goes on
// stdin (p4 passwd reads it twice, as at the prompt), never into argv where
// ps on the host would show it.
type Passwd struct {
	Conn
	Name   string `toml:"name"`
	Secret string `toml:"secret"`
}

func (p *Passwd) Validate() []steps.Problem {
	return append(p.Conn.Validate(), steps.Require("p4.passwd", "name", p.Name, "secret", p.Secret)...)
}

func (p *Passwd) Secrets() []string { return []string{p.Secret} }

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
	check := Conn{Port: p.Port, User: p.Name}.exec("login", "-p")
	check.Stdin = "secret " + p.Secret
	set := p.exec("passwd", p.Name)
	set.Stdin = "secret " + p.Secret + ", twice"
	return steps.Plan{Check: steps.Ops(check), Apply: steps.Ops(set)}
}
