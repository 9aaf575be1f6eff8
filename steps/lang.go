package steps

import (
	"path"
	"strings"

	"tejun/transport"
)

// T picks the phrase for lang. Phrases sit next to the code that prints them
// rather than in a catalogue, so a kind's Japanese and English stay together.
func T(lang, ja, en string) string {
	if lang == "en" {
		return en
	}
	return ja
}

// CommandBlock is the 実行コマンド block of the manual.
func CommandBlock(lang string, cmds ...transport.Cmd) Block {
	b := Block{Heading: T(lang, "実行コマンド", "Command"), Code: Shell}
	for _, c := range cmds {
		b.Lines = append(b.Lines, ManualLine(c))
	}
	return b
}

// ManualLine is a command as a person types it: sudo without -n (the person
// can answer a prompt), in the person's own locale (they read the output
// themselves), and quoted so it can be pasted.
func ManualLine(c transport.Cmd) string {
	user := c.User
	c.User, c.CLocale = "", false
	line := c.String()
	if c.Shell != "" {
		// A person types the shell line itself; only as another user does
		// it need wrapping.
		line = c.Shell
		if user != "" {
			q, _ := transport.Quote(c.Shell)
			line = "sh -c " + q
		}
	}
	if user != "" {
		u, _ := transport.Quote(user)
		line = "sudo -u " + u + " " + line
	}
	return line
}

// AsUser notes that tejun runs a step as a user the manual's example does not.
func AsUser(lang, user string) string {
	return T(lang, user+" ユーザとして実行します（sudo -u "+user+"）",
		"Run as the "+user+" user (sudo -u "+user+")")
}

// inDir joins a path given relative to dir, as the manual writes paths after
// "cd $P4ROOT".
func inDir(dir, p string) string {
	if dir == "" || path.IsAbs(p) {
		return p
	}
	clean := path.Join(dir, p)
	if strings.HasSuffix(p, "/") {
		clean += "/"
	}
	return clean
}

// InDirNote says where relative paths of a step are.
func InDirNote(lang, dir string) string {
	return T(lang, dir+" で実行します", "Run in "+dir)
}

// Sudo prefixes cmd with a run-as user when the step says so; a command that
// already names its user keeps it (transport.Cmd.Sent, as the executor
// applies a host's default).
func Sudo(cmds []transport.Cmd, user string) []transport.Cmd {
	if user == "" {
		return cmds
	}
	out := make([]transport.Cmd, len(cmds))
	for i, c := range cmds {
		out[i] = c.Sent(user)
	}
	return out
}

// Ops wraps commands as ops on the step's own host.
func Ops(cmds ...transport.Cmd) []Op {
	ops := make([]Op, len(cmds))
	for i, c := range cmds {
		ops[i] = Op{Cmd: c}
	}
	return ops
}

// RunAs is embedded by kinds whose commands may run as another OS user,
// such as perforce for anything that writes into P4ROOT.
type RunAs struct {
	Become string `toml:"become" doc:"The OS user to run the step's commands as (through sudo), such as perforce for what writes into P4ROOT."`
}

// As sets the run-as user on cmds.
func (r RunAs) As(cmds ...transport.Cmd) []transport.Cmd { return Sudo(cmds, r.Become) }

// writeAs is the run-as user of the kinds that write files (upload, file,
// line). They called it "as" before tejun settled on "become" for every
// kind; "as" is still read, and tejun check warns (Deprecated).
type writeAs struct {
	Become string `toml:"become" doc:"The OS user to run the step's commands as (through sudo), such as perforce for what writes into P4ROOT."`
	As     string `toml:"as" doc:"The old name of become for file, line and upload; still read, and tejun check warns."`
}

func (w writeAs) user() string {
	if w.Become != "" {
		return w.Become
	}
	return w.As
}

// Deprecated names the old key when the step uses it.
func (w writeAs) Deprecated() map[string]string {
	if w.As == "" {
		return nil
	}
	return map[string]string{"as": `"as" is deprecated: write become = "` + w.As + `"`}
}

// validate refuses both keys at once: which one wins would be a guess.
func (w writeAs) validate() []Problem {
	if w.As != "" && w.Become != "" {
		return []Problem{{"as", "give become, not as (its deprecated name) as well"}}
	}
	return nil
}

// Require reports each empty parameter: pairs of key and value, in the
// order a person would fill them in.
func Require(kind string, kv ...string) []Problem {
	var ps []Problem
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			ps = append(ps, Problem{Key: kv[i], Msg: kind + " needs " + kv[i]})
		}
	}
	return ps
}

// Absolute reports a path parameter that is set but not absolute. Commands
// such as find have no "--": a relative value like "-delete" or "(" would
// be read as part of the expression, so every path a kind hands to a
// command either starts with "/" or is refused here.
func Absolute(key, p string) []Problem {
	if p != "" && !path.IsAbs(p) {
		return []Problem{{Key: key, Msg: key + " " + p + " must be an absolute path"}}
	}
	return nil
}

// NotOption reports a value that a program would take for an option: a
// name starting with "-" that reaches a command with no "--" to end its
// options (p4 and p4d, whose parsers know no "--").
func NotOption(key, v string) []Problem {
	if strings.HasPrefix(v, "-") {
		return []Problem{{Key: key, Msg: key + " " + v + " cannot start with \"-\""}}
	}
	return nil
}

// FindPath is a path as find's starting point. find ends its options with
// no "--" and reads a starting point such as "-delete", "!" or "(" as its
// expression, so a path that does not start with "/" gets "./": Validate
// refuses such paths already, and this keeps a kind built without it (a
// test, a future caller) from running find's actions on the login's home.
func FindPath(p string) string {
	if strings.HasPrefix(p, "/") {
		return p
	}
	return "./" + p
}

// Parsed marks a command whose output tejun reads (a check's fields, a
// pattern matched on what it prints): it runs in the C locale, so a
// Japanese host answers in the words the parser expects (see
// transport.Cmd.CLocale).
func Parsed(c transport.Cmd) transport.Cmd {
	c.CLocale = true
	return c
}

// ownerModeNote says what owner and mode a file gets, naming only what
// is set: "Owner root:root, mode 0644", "Mode 0600", never "Owner , mode".
func ownerModeNote(lang, owner, group, mode string) string {
	var parts []string
	if owner != "" {
		parts = append(parts, T(lang, "所有者 ", "owner ")+ownerSpec(owner, group))
	}
	if mode != "" {
		parts = append(parts, T(lang, "パーミッション ", "mode ")+mode)
	}
	s := strings.Join(parts, T(lang, "、", ", "))
	if s != "" && lang == "en" {
		s = strings.ToUpper(s[:1]) + s[1:]
	}
	return s
}
