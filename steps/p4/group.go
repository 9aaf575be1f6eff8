package p4

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"tejun/steps"
)

// Group makes users members of a group and sets the group's ticket and
// password timeouts. The replica chapter of the admin guide puts the
// service user in a group with Timeout unlimited: otherwise its ticket
// lapses after the default 12 hours and the standby silently stops
// replicating. ticket_timeout is the form's Timeout field (timeout is
// every step's own time limit). Members and fields the step does not name
// stay as they are, so running it on a group others use takes nothing
// from them.
type Group struct {
	Conn
	Name            string   `toml:"name" doc:"The group to create or edit."`
	Users           []string `toml:"users" doc:"Users who must be members; other members stay."`
	Timeout         string   `toml:"ticket_timeout" doc:"The group's Timeout in seconds, or unlimited: how long its members' tickets last."`
	PasswordTimeout string   `toml:"password_timeout" doc:"The group's PasswordTimeout in seconds, or unlimited: how long its members' passwords last."`
	Show            Show     `toml:"show" doc:"Which half of the spec the dry-run prints: both (default), command, fields or form."`
}

func (g *Group) Validate() []steps.Problem {
	ps := append(g.Conn.Validate(), g.Show.validate()...)
	ps = append(ps, steps.Require("p4.group", "name", g.Name)...)
	ps = append(ps, steps.NotOption("name", g.Name)...)
	if strings.ContainsAny(g.Name, " \t\r\n") {
		ps = append(ps, steps.Problem{Key: "name", Msg: fmt.Sprintf("group name %q: no spaces or line breaks", g.Name)})
	}
	if len(g.Users) == 0 && g.Timeout == "" && g.PasswordTimeout == "" {
		ps = append(ps, steps.Problem{Key: "users", Msg: "p4.group needs users, ticket_timeout or password_timeout"})
	}
	for _, u := range g.Users {
		// A line break in a name would add lines of its own to the form.
		if u == "" || strings.ContainsAny(u, " \t\r\n") {
			ps = append(ps, steps.Problem{Key: "users", Msg: fmt.Sprintf("user %q: want a user name without spaces or line breaks", u)})
		}
	}
	for _, t := range [][2]string{{"ticket_timeout", g.Timeout}, {"password_timeout", g.PasswordTimeout}} {
		if t[1] == "" || t[1] == "unlimited" || t[1] == "unset" {
			continue
		}
		if n, err := strconv.Atoi(t[1]); err != nil || n <= 0 {
			ps = append(ps, steps.Problem{Key: t[0], Msg: t[0] + " " + t[1] + ": want seconds, unlimited or unset"})
		}
	}
	return ps
}

// fields are the form's fields the step sets, in the form's order.
func (g *Group) fields() [][2]string {
	var fs [][2]string
	for _, f := range [][2]string{{"Timeout", g.Timeout}, {"PasswordTimeout", g.PasswordTimeout}} {
		if f[1] != "" {
			fs = append(fs, f)
		}
	}
	return fs
}

func (g *Group) Describe(lang string) steps.Description {
	lines := []string{"Group: " + g.Name}
	for _, f := range g.fields() {
		lines = append(lines, f[0]+": "+f[1])
	}
	if len(g.Users) > 0 {
		lines = append(lines, "Users:")
		for _, u := range g.Users {
			lines = append(lines, "\t"+u)
		}
	}
	d := steps.Description{Notes: append(g.notes(lang), steps.T(lang,
		"グループの他のメンバーと項目はそのままです",
		"The group's other members and fields stay as they are"))}
	if g.Show.command() {
		d.Blocks = append(d.Blocks, steps.CommandBlock(lang, g.manual("group", g.Name)))
	}
	if g.Show.fields() {
		d.Blocks = append(d.Blocks, steps.Block{Heading: steps.T(lang, "設定する項目", "Fields set"), Lines: lines, Code: steps.Literal})
	}
	return d
}

func (g *Group) Plan() steps.Plan { return g.Conn.learnt(g.plan()) }

func (g *Group) plan() steps.Plan {
	in := g.exec("group", "-i")
	in.Stdin = "group spec " + g.Name + " (from group -o, fields above changed)"
	in.StdinJa = "グループ仕様 " + g.Name + "（group -o の出力の上記フィールドを変更したもの）"
	return steps.Plan{
		Check: g.checks(g.ztag("group", "-o", g.Name)),
		Apply: steps.Ops(g.exec("group", "-o", g.Name), in),
	}
}

func (g *Group) Check(ctx context.Context, env steps.Env) (steps.Status, error) {
	cmd := "p4 -ztag group -o " + g.Name
	out, err := g.run(ctx, env, g.ztag("group", "-o", g.Name), "")
	if err != nil {
		return steps.Status{}, err
	}
	recs := ztag(out)
	if len(recs) == 0 {
		return steps.Status{}, fmt.Errorf("%s printed no tagged fields:\n%s", cmd, strings.TrimSpace(out))
	}
	r := recs[0]
	var diff []string
	for _, f := range g.fields() {
		have, err := tagField(r, f[0], cmd, out)
		if err != nil {
			return steps.Status{}, err
		}
		if have != f[1] {
			diff = append(diff, f[0]+" "+have+" → "+f[1])
		}
	}
	members := map[string]bool{}
	for i := 0; ; i++ {
		u, ok := r["users"+strconv.Itoa(i)]
		if !ok {
			break
		}
		members[u] = true
	}
	for _, u := range g.Users {
		if !members[u] {
			diff = append(diff, u+" is not a member")
		}
	}
	if len(diff) > 0 {
		return steps.NotDone("group %s: %s", g.Name, strings.Join(diff, ", ")), nil
	}
	return steps.Done("group %s is as wanted", g.Name), nil
}

// Apply edits the form p4d gives (a new group's form carries p4d's
// defaults), so every field not named stays.
func (g *Group) Apply(ctx context.Context, env steps.Env) error {
	out, err := g.run(ctx, env, g.exec("group", "-o", g.Name), "")
	if err != nil {
		return err
	}
	f := parseForm(out)
	for _, fl := range g.fields() {
		f.set(fl[0], fl[1])
	}
	if len(g.Users) > 0 {
		f.ensureLines("Users", g.Users)
	}
	_, err = g.run(ctx, env, g.exec("group", "-i"), f.String())
	return err
}

func (g *Group) Verify(ctx context.Context, env steps.Env) error {
	return steps.VerifyByCheck(ctx, env, g)
}
