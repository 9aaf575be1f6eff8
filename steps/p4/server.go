package p4

import (
	"context"
	"fmt"
	"strings"

	"tejun/steps"
)

// Server creates or edits a server spec. Only the fields set here are
// changed; every other field and DistributedConfig line of the spec stays,
// because the spec is edited from "server -o" rather than written anew. With
// no field set and Create false the step only shows the spec (the manual's
// "display the spec" step before flipping Options).
type Server struct {
	Conn
	ServerID string `toml:"server_id" doc:"The server spec to create or edit."`
	// Create makes the spec with the server's defaults if it is missing.
	Create          bool   `toml:"create" doc:"Creates the spec with the server's defaults when it is missing."`
	Type            string `toml:"type" doc:"The spec's Type field (server)."`
	Services        string `toml:"services" doc:"The spec's Services field (standby, commit-server)."`
	Options         string `toml:"options" doc:"The spec's Options field (mandatory or nomandatory)."`
	ReplicatingFrom string `toml:"replicating_from" doc:"The spec's ReplicatingFrom field: the server ID the replica pulls from."`
	// Address is the server's P4PORT in its spec: after a failover the
	// admin guide updates it to the new master's host and port.
	Address           string   `toml:"address" doc:"The spec's Address field: the server's P4PORT."`
	Description       string   `toml:"description" doc:"The spec's Description field."`
	DistributedConfig []string `toml:"distributed_config" doc:"Lines of the spec's DistributedConfig (db.replication=readonly) that must be there; others stay."`
	// IfUnicode lines join DistributedConfig only when the master runs in
	// unicode mode: the manual's any#unicode=1 is wrong on other servers.
	IfUnicode []string `toml:"if_unicode" doc:"DistributedConfig lines added only when the master runs in unicode mode."`
	// IfSSL lines join DistributedConfig only when its P4TARGET is an ssl:
	// port: the server's P4TRUST, where its replication threads find the
	// target's fingerprint (P4 Command Reference, P4TRUST: used by the
	// server; the admin guide's failover chapter names the P4TRUST
	// configurable beside P4TICKETS).
	IfSSL []string `toml:"if_ssl" doc:"DistributedConfig lines added only when its P4TARGET is an ssl: port (the server's P4TRUST)."`
	// WaitJournals refuses the change until the standby's journal position
	// equals the master's (the mandatory flip).
	WaitJournals bool `toml:"wait_journals" doc:"Refuses the change until the standby's journal position equals the master's."`
	Show         Show `toml:"show" doc:"Which half of the spec the dry-run prints: both (default), command, fields or form."`
	// GlobalConfig allows DistributedConfig lines for other servers
	// ("any#P4LOG=..."): those are configurables of the whole installation,
	// the master's included, which a standby's spec should not change
	// unless the runbook says so.
	GlobalConfig bool `toml:"global_config" doc:"Allows distributed_config lines for other servers (any#...), which change the whole installation."`
}

func (s *Server) Validate() []steps.Problem {
	ps := append(s.Conn.Validate(), s.Show.validate()...)
	if s.ServerID == "" {
		ps = append(ps, steps.Problem{Key: "server_id", Msg: "p4.server needs server_id"})
	}
	ps = append(ps, steps.NotOption("server_id", s.ServerID)...)
	switch s.Options {
	case "", "mandatory", "nomandatory":
	default:
		ps = append(ps, steps.Problem{Key: "options", Msg: "options " + s.Options + ": want mandatory or nomandatory"})
	}
	if !s.GlobalConfig {
		for _, l := range append(append(append([]string{}, s.DistributedConfig...), s.IfUnicode...), s.IfSSL...) {
			name, _, _ := strings.Cut(l, "=")
			if scope, _, ok := strings.Cut(name, "#"); ok && scope != s.ServerID {
				ps = append(ps, steps.Problem{Key: "distributed_config", Msg: fmt.Sprintf("%q sets a configurable of %s, not of %s: write it without the prefix, or set global_config = true to change other servers too", l, scope, s.ServerID)})
			}
		}
	}
	if s.Create && s.Options == "mandatory" {
		// Perforce refuses this too; saying so before anything runs.
		ps = append(ps, steps.Problem{Key: "options", Msg: "a new server spec cannot be created as mandatory: create it nomandatory and flip it once the journals agree"})
	}
	return ps
}

func (s *Server) fields() []string {
	var lines []string
	add := func(name, v string) {
		if v != "" {
			lines = append(lines, fieldLines(name, v)...)
		}
	}
	add("Type", s.Type)
	add("Services", s.Services)
	add("Options", s.Options)
	add("ReplicatingFrom", s.ReplicatingFrom)
	if s.Address != "" {
		add("Address", P4Port(s.Address))
	}
	add("Description", s.Description)
	if len(s.DistributedConfig)+len(s.IfUnicode) > 0 {
		lines = append(lines, "DistributedConfig:")
		for _, l := range append(portLines(s.DistributedConfig), s.sslLines()...) {
			lines = append(lines, "\t"+l)
		}
		for _, l := range s.IfUnicode {
			lines = append(lines, "\t"+l)
		}
	}
	if len(lines) > 0 {
		lines = append([]string{"ServerID: " + s.ServerID}, lines...)
	}
	return lines
}

func (s *Server) Describe(lang string) steps.Description {
	d := steps.Description{Notes: s.notes(lang)}
	if s.Show.command() {
		d.Blocks = append(d.Blocks, steps.CommandBlock(lang, s.manual("server", s.ServerID)))
	}
	if f := s.fields(); len(f) > 0 && s.Show == "form" {
		d.Blocks = append(d.Blocks, steps.Block{Heading: formHeading(lang), Lines: s.serverForm(lang), Code: steps.Literal})
	} else if len(f) > 0 && s.Show.fields() {
		for i, l := range f {
			if strings.HasPrefix(l, "Options: ") {
				f[i] += optionsMark(lang, s.Options)
			}
		}
		d.Blocks = append(d.Blocks, steps.Block{Heading: steps.T(lang, "設定する項目", "Fields set"), Lines: f, Code: steps.Literal})
	}
	for _, l := range s.IfUnicode {
		d.Notes = append(d.Notes, steps.T(lang,
			l+" はマスターサーバがUnicodeモードの場合のみ設定します",
			l+" is set only when the master server runs in Unicode mode"))
	}
	if s.WaitJournals {
		d.Notes = append(d.Notes, steps.T(lang,
			"スタンバイのジャーナル位置がマスターと一致するまで変更しません",
			"Not changed until the standby's journal position equals the master's"))
	}
	switch {
	case len(s.fields()) == 0 && !s.Create:
		d.Notes = append(d.Notes, steps.T(lang, "表示のみで、変更はしません", "Display only; nothing is changed"))
	case len(s.fields()) == 0:
		d.Notes = append(d.Notes, steps.T(lang, "サーバ仕様が無ければ既定値で作成します", "Created with the server's defaults if missing"))
	}
	return d
}

func (s *Server) Plan() steps.Plan { return s.Conn.learnt(s.plan()) }

func (s *Server) plan() steps.Plan {
	p := steps.Plan{Check: s.checks(s.ztag("servers"), s.exec("server", "-o", s.ServerID))}
	if len(s.IfUnicode) > 0 {
		p.Check = append(p.Check, steps.Op{Cmd: s.ztag("info")})
	}
	if s.Create || len(s.fields()) > 0 {
		if s.WaitJournals {
			p.Apply = append(p.Apply, steps.Op{Cmd: s.ztag("servers", "-J")})
		}
		in := s.exec("server", "-i")
		in.Stdin = "server spec " + s.ServerID + " (from server -o, fields above changed)"
		in.StdinJa = "サーバ仕様 " + s.ServerID + "（server -o の出力の上記フィールドを変更したもの）"
		p.Apply = append(p.Apply, steps.Ops(s.exec("server", "-o", s.ServerID))...)
		if len(s.IfUnicode) > 0 {
			p.Apply = append(p.Apply, steps.Op{Cmd: s.ztag("info")})
		}
		p.Apply = append(p.Apply, steps.Op{Cmd: in})
	}
	return p
}

// portLines writes a P4TARGET value as Perforce reads it (P4Port).
func portLines(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		name, v, _ := strings.Cut(l, "=")
		if _, conf, ok := strings.Cut(name, "#"); (ok && conf == "P4TARGET") || name == "P4TARGET" {
			l = name + "=" + P4Port(v)
		}
		out[i] = l
	}
	return out
}

// sslLines are IfSSL when the spec's P4TARGET is an ssl: port.
func (s *Server) sslLines() []string {
	for _, l := range s.DistributedConfig {
		name, v, _ := strings.Cut(l, "=")
		if _, n, ok := strings.Cut(name, "#"); ok {
			name = n
		}
		if strings.EqualFold(name, "P4TARGET") && (&Trust{Port: v}).ssl() {
			return s.IfSSL
		}
	}
	return nil
}

// desired edits f to what the step wants and lists the changes.
func (s *Server) desired(f *form, unicode bool) []string {
	var changes []string
	add := func(c string) {
		if c != "" {
			changes = append(changes, c)
		}
	}
	add(f.set("Type", s.Type))
	add(f.set("Services", s.Services))
	add(f.set("Options", s.Options))
	add(f.set("ReplicatingFrom", s.ReplicatingFrom))
	if s.Address != "" {
		add(f.set("Address", P4Port(s.Address)))
	}
	lines := append(portLines(s.DistributedConfig), s.sslLines()...)
	if unicode {
		lines = append(lines, s.IfUnicode...)
	}
	if len(lines) > 0 {
		for _, l := range f.ensureLines("DistributedConfig", lines) {
			changes = append(changes, "DistributedConfig "+l)
		}
	}
	if s.Description != "" {
		if d := f.get("Description"); d == nil || strings.Join(d.list, "\n") != s.Description {
			f.ensureLines("Description", nil)
			f.get("Description").list = strings.Split(s.Description, "\n")
			changes = append(changes, "Description")
		}
	}
	return changes
}

func (s *Server) exists(ctx context.Context, env steps.Env) (bool, error) {
	out, err := s.run(ctx, env, s.ztag("servers"), "")
	if err != nil {
		return false, err
	}
	for _, r := range ztag(out) {
		if r["serverid"] == s.ServerID {
			return true, nil
		}
	}
	return false, nil
}

func (s *Server) unicode(ctx context.Context, env steps.Env) (bool, error) {
	if len(s.IfUnicode) == 0 {
		return false, nil
	}
	out, err := s.run(ctx, env, s.ztag("info"), "")
	if err != nil {
		return false, err
	}
	recs := ztag(out)
	return len(recs) > 0 && recs[0]["unicode"] == "enabled", nil
}

func (s *Server) Check(ctx context.Context, env steps.Env) (steps.Status, error) {
	exists, err := s.exists(ctx, env)
	if err != nil {
		return steps.Status{}, err
	}
	out, err := s.run(ctx, env, s.exec("server", "-o", s.ServerID), "")
	if err != nil {
		return steps.Status{}, err
	}
	if len(s.fields()) == 0 {
		if !exists && s.Create {
			return steps.NotDone("server spec %s does not exist", s.ServerID), nil
		}
		if !exists {
			return steps.Status{}, fmt.Errorf("server spec %s does not exist", s.ServerID)
		}
		return steps.Done("server spec %s exists", s.ServerID), nil
	}
	uni, err := s.unicode(ctx, env)
	if err != nil {
		return steps.Status{}, err
	}
	if changes := s.desired(parseForm(out), uni); len(changes) > 0 || !exists {
		return steps.NotDone("%s", strings.Join(append([]string{"set"}, changes...), " ")), nil
	}
	return steps.Done("server spec %s has every field set", s.ServerID), nil
}

func (s *Server) Apply(ctx context.Context, env steps.Env) error {
	if s.WaitJournals {
		if err := s.journalsAgree(ctx, env); err != nil {
			return err
		}
	}
	out, err := s.run(ctx, env, s.exec("server", "-o", s.ServerID), "")
	if err != nil {
		return err
	}
	uni, err := s.unicode(ctx, env)
	if err != nil {
		return err
	}
	f := parseForm(out)
	s.desired(f, uni)
	_, err = s.run(ctx, env, s.exec("server", "-i"), f.String())
	return err
}

// journalsAgree refuses the mandatory flip while the standby is behind:
// a mandatory standby that lags holds back every other replica.
func (s *Server) journalsAgree(ctx context.Context, env steps.Env) error {
	out, err := s.run(ctx, env, s.ztag("servers", "-J"), "")
	if err != nil {
		return err
	}
	var master, standby map[string]string
	for _, r := range ztag(out) {
		if r["serverid"] == s.ServerID {
			standby = r
		} else if master == nil {
			master = r
		}
	}
	if standby == nil || master == nil {
		return fmt.Errorf("servers -J does not show %s: is it replicating?", s.ServerID)
	}
	if standby["persistedjnl"] != master["persistedjnl"] || standby["persistedpos"] != master["persistedpos"] {
		return fmt.Errorf("%s is at journal %s/%s, the master at %s/%s: not changing Options until they agree",
			s.ServerID, standby["persistedjnl"], standby["persistedpos"], master["persistedjnl"], master["persistedpos"])
	}
	return nil
}

func (s *Server) Verify(ctx context.Context, env steps.Env) error {
	return steps.VerifyByCheck(ctx, env, s)
}
