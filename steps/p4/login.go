package p4

import (
	"tejun/steps"
	"tejun/transport"
)

// Login stores a ticket for the replication service user in the P4TICKETS
// file the standby's spec names. It runs as the OS owner: a ticket file the
// pull threads cannot read fails replication with "P4PASSWD invalid or
// unset", long after the build looked finished.
type Login struct {
	Conn
	Secret string `toml:"secret"`
}

func (l *Login) Validate() []steps.Problem {
	return append(l.Conn.Validate(), steps.Require("p4.login", "port", l.Port, "user", l.User, "tickets", l.Tickets, "secret", l.Secret)...)
}

func (l *Login) Secrets() []string { return []string{l.Secret} }

// manualCmd keeps the manual's order of options (-p before -u).
func (l *Login) manualCmd() transport.Cmd {
	return transport.Cmd{Argv: []string{"p4", "-p", l.Port, "-u", l.User, "-E", "P4TICKETS=" + l.Tickets, "login"}, User: l.Become}
}

func (l *Login) Describe(lang string) steps.Description {
	return steps.Description{
		Notes: append(l.notes(lang),
			steps.T(lang, l.Tickets+" はサーバ仕様の P4TICKETS と同じ場所です", l.Tickets+" is the P4TICKETS of the server spec"),
			steps.T(lang, "パスワードはシークレット "+l.Secret+" から標準入力で渡します", "The password comes from secret "+l.Secret+", sent on standard input")),
		Blocks: []steps.Block{steps.CommandBlock(lang, l.manualCmd())},
	}
}

func (l *Login) Plan() steps.Plan {
	apply := l.manualCmd()
	apply.Stdin = "secret " + l.Secret
	check := l.manualCmd()
	check.Argv = append(check.Argv, "-s")
	return steps.Plan{Check: steps.Ops(check), Apply: steps.Ops(apply)}
}
