package p4

import (
	"tejun/steps"
)

// Server creates or edits a server spec. Only the fields set here are
// changed; every other field and DistributedConfig line of the spec stays,
// because the spec is edited from "server -o" rather than written anew. With
// no field set and Create false the step only shows the spec (the manual's
// "display the spec" step before flipping Options).
type Server struct {
	Conn
	ServerID string `toml:"server_id"`
	// Create makes the spec with the server's defaults if it is missing.
	Create            bool     `toml:"create"`
	Type              string   `toml:"type"`
	Services          string   `toml:"services"`
	Options           string   `toml:"options"`
	ReplicatingFrom   string   `toml:"replicating_from"`
	Description       string   `toml:"description"`
	DistributedConfig []string `toml:"distributed_config"`
	// IfUnicode lines join DistributedConfig only when the master runs in
	// unicode mode: the manual's any#unicode=1 is wrong on other servers.
	IfUnicode []string `toml:"if_unicode"`
	// WaitJournals refuses the change until the standby's journal position
	// equals the master's (the mandatory flip).
	WaitJournals bool `toml:"wait_journals"`
	Show         Show `toml:"show"`
}

func (s *Server) Validate() []steps.Problem {
	ps := append(s.Conn.Validate(), s.Show.validate()...)
	if s.ServerID == "" {
		ps = append(ps, steps.Problem{Key: "server_id", Msg: "p4.server needs server_id"})
	}
	switch s.Options {
	case "", "mandatory", "nomandatory":
	default:
		ps = append(ps, steps.Problem{Key: "options", Msg: "options " + s.Options + ": want mandatory or nomandatory"})
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
	add("Description", s.Description)
	if len(s.DistributedConfig)+len(s.IfUnicode) > 0 {
		lines = append(lines, "DistributedConfig:")
		for _, l := range s.DistributedConfig {
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
	if f := s.fields(); len(f) > 0 && s.Show.fields() {
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

func (s *Server) Plan() steps.Plan {
	p := steps.Plan{Check: steps.Ops(s.ztag("servers"), s.exec("server", "-o", s.ServerID))}
	if s.WaitJournals {
		p.Check = append(p.Check, steps.Op{Cmd: s.ztag("servers", "-J")})
	}
	if s.Create || len(s.fields()) > 0 {
		in := s.exec("server", "-i")
		in.Stdin = "server spec " + s.ServerID + " (from server -o, fields above changed)"
		p.Apply = steps.Ops(in)
	}
	return p
}
