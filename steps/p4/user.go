package p4

import (
	"context"
	"strings"

	"tejun/steps"
	"tejun/transport"
)

// User creates or edits a user spec (the replication service user, Type:
// service). Fields not set here stay as the server has them.
type User struct {
	Conn
	Name     string `toml:"name" doc:"The user spec to create or edit."`
	Type     string `toml:"type" doc:"The spec's Type field (service for replication)."`
	Email    string `toml:"email" doc:"The spec's Email field."`
	FullName string `toml:"full_name" doc:"The spec's FullName field."`
	Show     Show   `toml:"show" doc:"Which half of the spec the dry-run prints: both (default), command, fields or form."`
	// Client is the client name p4 falls back to on the host the step
	// runs on (its host name when P4CLIENT is unset). It changes nothing:
	// the form of a new user shows Email USER@CLIENT, and the manual
	// prints that default with its own host's name (service@master), so
	// the procedure can print it with this site's.
	Client string `toml:"client" doc:"The host name p4 takes as client on the step's host: the new user's default Email USER@CLIENT the dry-run prints."`
}

func (u *User) Validate() []steps.Problem {
	ps := append(u.Conn.Validate(), u.Show.validate()...)
	if u.Name == "" {
		ps = append(ps, steps.Problem{Key: "name", Msg: "p4.user needs name"})
	}
	ps = append(ps, steps.NotOption("name", u.Name)...)
	if strings.ContainsAny(u.Client, " \t\n@") {
		ps = append(ps, steps.Problem{Key: "client", Msg: "client " + u.Client + ": a client or host name has no spaces or @"})
	}
	switch u.Type {
	case "", "standard", "service", "operator":
	default:
		ps = append(ps, steps.Problem{Key: "type", Msg: "type " + u.Type + ": want standard, service or operator"})
	}
	return ps
}

func (u *User) Describe(lang string) steps.Description {
	lines := []string{"User: " + u.Name}
	for _, f := range [][2]string{{"Type", u.Type}, {"Email", u.Email}, {"FullName", u.FullName}} {
		if f[1] != "" {
			lines = append(lines, f[0]+": "+f[1])
		}
	}
	d := steps.Description{Notes: u.notes(lang)}
	if u.Show.command() {
		d.Blocks = append(d.Blocks, steps.CommandBlock(lang, u.manual("user", "-f", u.Name)))
	}
	if u.Show == "form" {
		if n := u.userFormNote(lang); n != "" {
			d.Notes = append(d.Notes, n)
		}
		d.Blocks = append(d.Blocks, steps.Block{Heading: formHeading(lang), Lines: u.userForm(lang), Code: steps.Literal})
	} else if u.Show.fields() {
		d.Blocks = append(d.Blocks, steps.Block{Heading: steps.T(lang, "設定する項目", "Fields set"), Lines: lines, Code: steps.Literal})
	}
	return d
}

func (u *User) Plan() steps.Plan { return u.Conn.learnt(u.plan()) }

func (u *User) plan() steps.Plan {
	in := u.exec("user", "-i", "-f")
	in.Stdin = "user spec " + u.Name + " (from user -o, fields above changed)"
	in.StdinJa = "ユーザ仕様 " + u.Name + "（user -o の出力の上記フィールドを変更したもの）"
	return steps.Plan{
		Check: u.checks(u.ztag("users", "-a", u.Name)),
		Apply: steps.Ops(u.exec("user", "-o", u.Name), in),
	}
}

func (u *User) Check(ctx context.Context, env steps.Env) (steps.Status, error) {
	out, err := u.run(ctx, env, u.ztag("users", "-a", u.Name), "")
	if err != nil {
		if ee, ok := err.(*transport.ExitError); ok && strings.Contains(ee.Stderr, "no such user") {
			return steps.NotDone("user %s does not exist", u.Name), nil
		}
		return steps.Status{}, err
	}
	recs := ztag(out)
	if len(recs) == 0 {
		return steps.NotDone("user %s does not exist", u.Name), nil
	}
	r := recs[0]
	var diff []string
	for _, f := range [][3]string{{"Type", u.Type, r["type"]}, {"Email", u.Email, r["email"]}, {"FullName", u.FullName, r["fullname"]}} {
		if f[1] != "" && f[1] != f[2] {
			diff = append(diff, f[0]+" "+f[2]+" → "+f[1])
		}
	}
	if len(diff) > 0 {
		return steps.NotDone("%s", strings.Join(diff, ", ")), nil
	}
	return steps.Done("user %s exists as wanted", u.Name), nil
}

func (u *User) Apply(ctx context.Context, env steps.Env) error {
	out, err := u.run(ctx, env, u.exec("user", "-o", u.Name), "")
	if err != nil {
		return err
	}
	f := parseForm(out)
	f.set("Type", u.Type)
	f.set("Email", u.Email)
	f.set("FullName", u.FullName)
	_, err = u.run(ctx, env, u.exec("user", "-i", "-f"), f.String())
	return err
}

func (u *User) Verify(ctx context.Context, env steps.Env) error {
	return steps.VerifyByCheck(ctx, env, u)
}
