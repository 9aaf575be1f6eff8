package p4

import (
	"context"
	"fmt"

	"tejun/steps"
	"tejun/transport"
)

// Logout ends what tejun's logins began: it logs the user out of each
// server it logged in to and removes tejun's own ticket file, so no ticket
// of the super user stays behind on the host after the run.
type Logout struct {
	Conn
	// Ports are the servers to log out of; default the step's port.
	Ports []string `toml:"ports" doc:"The servers to log out of; default the step's port."`
}

func (l *Logout) Validate() []steps.Problem {
	return steps.Require("p4.logout", "user", l.User, "tickets", l.Tickets)
}

func (l *Logout) ports() []string {
	if len(l.Ports) == 0 && l.Port != "" {
		return []string{l.Port}
	}
	return l.Ports
}

func (l *Logout) cmds() []transport.Cmd {
	var cmds []transport.Cmd
	for _, p := range l.ports() {
		cmds = append(cmds, Conn{RunAs: l.RunAs, Port: p, User: l.User, Tickets: l.Tickets, Charset: l.Charset}.exec("logout"))
	}
	return append(cmds, transport.Cmd{Argv: []string{"rm", "-f", "--", l.Tickets}})
}

func (l *Logout) exists() transport.Cmd {
	return transport.Cmd{Argv: []string{"test", "-e", l.Tickets}}
}

func (l *Logout) Describe(lang string) steps.Description {
	d := steps.Description{Notes: []string{steps.T(lang,
		"tejun がログインに使ったチケットファイル "+l.Tickets+" を削除します（運用者の ~/.p4tickets には触れません）",
		"Removes "+l.Tickets+", the ticket file tejun logged in to (the operator's ~/.p4tickets is not touched)")}}
	for _, c := range l.cmds() {
		d.Blocks = append(d.Blocks, steps.CommandBlock(lang, c))
	}
	return d
}

func (l *Logout) Plan() steps.Plan { return l.Conn.learnt(l.plan()) }

func (l *Logout) plan() steps.Plan {
	return steps.Plan{Check: steps.Ops(l.exists()), Apply: steps.Ops(l.cmds()...)}
}

// Check: done when tejun's ticket file is gone. test -e exits 1 for a
// missing file; anything else (no answer) is an error.
func (l *Logout) Check(ctx context.Context, env steps.Env) (steps.Status, error) {
	_, err := env.Run(ctx, l.exists(), nil)
	if err == nil {
		return steps.NotDone("%s holds tejun's tickets", l.Tickets), nil
	}
	if ee, ok := err.(*transport.ExitError); ok && ee.Code == 1 {
		return steps.Done("no ticket file %s", l.Tickets), nil
	}
	return steps.Status{}, err
}

// Apply logs out where a ticket is still valid (an invalid one needs no
// logout), then removes the file.
func (l *Logout) Apply(ctx context.Context, env steps.Env) error {
	cmds := l.cmds()
	for _, c := range cmds[:len(cmds)-1] {
		_, err := env.Run(ctx, c, nil)
		if err != nil && l.Charset == "" && unicodeRefused(err) {
			_, err = env.Run(ctx, withCharset(c, "utf8"), nil)
		}
		if err != nil && !ticketRefused(err) {
			return fmt.Errorf("logout: %w", err)
		}
	}
	_, err := env.Run(ctx, cmds[len(cmds)-1], nil)
	return err
}

func (l *Logout) Verify(ctx context.Context, env steps.Env) error {
	return steps.VerifyByCheck(ctx, env, l)
}
