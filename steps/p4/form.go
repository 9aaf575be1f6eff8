package p4

import (
	"strings"

	"tejun/steps"
)

// The manual prints a spec as the editor shows it and marks in red what
// to change or add (● notes in the text version). show = "form" does the
// same: the lines tejun leaves alone are Perforce's defaults for a new
// spec, which is what the editor holds in the step right after creating
// it. Those defaults are Perforce's own:
//   - p4 server -o of a new server ID: Type server, Services standard,
//     Options nomandatory, Description "Created by USER." (Helix Core
//     Command Reference, p4 server, "Form Fields"; the HA manual's 1-②
//     shows the same form);
//   - p4 user -o of a new user: Email USER@CLIENT ("p4 help user": "The
//     user's email address (Default: user@client)"; the client name is the
//     host's name when P4CLIENT is unset, hence the manual's
//     service@master), FullName USER, and no Type line: a standard user
//     (the manual adds "Type: service" as one line).

// serverForm is the server spec of s as the editor shows it, marked.
func (s *Server) serverForm(lang string) []string {
	mark := func(line, ja, en string) string { return line + "  ● " + steps.T(lang, ja, en) }
	kept := func(line string) string {
		return mark(line, "既定値のまま（変更しない）", "left at the default")
	}
	lines := []string{"ServerID: " + s.ServerID}
	if s.Type != "" && s.Type != "server" {
		lines = append(lines, mark("Type: "+s.Type, "server（既定値）を上書き", "overrides server (the default)"))
	} else {
		lines = append(lines, "Type: server")
	}
	if s.Services != "" && s.Services != "standard" {
		lines = append(lines, mark("Services: "+s.Services, "standard（既定値）を上書き", "overrides standard (the default)"))
	} else {
		lines = append(lines, kept("Services: standard"))
	}
	switch s.Options {
	case "", "nomandatory":
		lines = append(lines, mark("Options: nomandatory", "変更しない（新規サーバはmandatoryにできません。後で変更します）",
			"unchanged (a new server cannot be mandatory; changed later)"))
	default:
		lines = append(lines, mark("Options: "+s.Options, "nomandatory（既定値）からの書き換え", "changed from nomandatory (the default)"))
	}
	if s.ReplicatingFrom != "" {
		lines = append(lines, mark("ReplicatingFrom: "+s.ReplicatingFrom, "一行追記する（複製元のserver ID）", "one line added (the server ID replicated from)"))
	}
	if s.Description != "" {
		lines = append(lines, mark("Description:", "書き換え", "replaced"))
		for _, l := range strings.Split(s.Description, "\n") {
			lines = append(lines, "\t"+l)
		}
	} else {
		lines = append(lines, "Description:", "\tCreated by "+s.User+".")
	}
	if len(s.DistributedConfig)+len(s.IfUnicode) > 0 {
		lines = append(lines, mark("DistributedConfig:", "以下の行を追記する", "the lines below are added"))
		for _, l := range append(portLines(s.DistributedConfig), s.sslLines()...) {
			lines = append(lines, "\t"+l)
		}
		for _, l := range s.IfUnicode {
			lines = append(lines, "\t"+l)
		}
	}
	return lines
}

// optionsMark notes the Options flip on a spec shown by its fields: the
// field has two values, so the one it changes from is known.
func optionsMark(lang, options string) string {
	from := "nomandatory"
	if options == "nomandatory" {
		from = "mandatory"
	}
	return "  ● " + steps.T(lang, from+"からの書き換え", "changed from "+from)
}

// userForm is the user spec of u as the editor shows a new user, marked.
func (u *User) userForm(lang string) []string {
	mark := func(line, ja, en string) string { return line + "  ● " + steps.T(lang, ja, en) }
	lines := []string{"User: " + u.Name}
	if u.Type != "" && u.Type != "standard" {
		lines = append(lines, mark("Type: "+u.Type, "一行追記する", "one line added"))
	}
	// The defaults tejun leaves are printed as the manual prints them,
	// unmarked: only what changes carries a ●.
	switch {
	case u.Email != "":
		lines = append(lines, mark("Email: "+u.Email, "書き換え", "replaced"))
	case u.Client != "":
		lines = append(lines, "Email: "+u.Name+"@"+u.Client)
	default:
		lines = append(lines, "Email: "+u.Name+"@"+steps.T(lang, "クライアント名", "CLIENT"))
	}
	if u.FullName != "" {
		lines = append(lines, mark("FullName: "+u.FullName, "書き換え", "replaced"))
	} else {
		lines = append(lines, "FullName: "+u.Name)
	}
	return lines
}

// userFormNote says where the unmarked Email default comes from.
func (u *User) userFormNote(lang string) string {
	if u.Email != "" {
		return ""
	}
	client := u.Client
	if client == "" {
		return steps.T(lang, "Email と FullName は既定値のままです（Email はユーザ名@クライアント名。P4CLIENT が未設定なら作業するホストの名前）",
			"Email and FullName stay at their defaults (Email is USER@CLIENT; the client is the host's name when P4CLIENT is unset)")
	}
	return steps.T(lang, "Email と FullName は既定値のままです（Email はユーザ名@クライアント名。P4CLIENT が未設定なら作業するホストの名前で、ここでは "+client+"）",
		"Email and FullName stay at their defaults (Email is USER@CLIENT; the client is the host's name when P4CLIENT is unset, here "+client+")")
}

// formHeading is the manual's heading over a marked form.
func formHeading(lang string) string {
	return steps.T(lang, "設定する項目（● の行を修正・追記）", "Fields (change or add the lines marked ●)")
}
