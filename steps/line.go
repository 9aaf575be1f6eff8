package steps

import (
	"context"
	"regexp"
	"strings"

	"tejun/transport"
)

// Line makes sure one line is in a file, or is not: "/etc/hosts" entries,
// "SELINUX=disabled", "KeepAlive Off". With Regexp, the last line matching
// it is replaced by Line (or, absent, every matching line goes); without,
// the exact line is looked for. Every other line stays as it is.
type Line struct {
	Path   string `toml:"path" tejun:"path" doc:"The text file on the host to edit; every other line stays."`
	Line   string `toml:"line" doc:"The whole line that must be in the file (or, with state absent, must not be)."`
	Regexp string `toml:"regexp" doc:"A pattern of the line to replace (or remove): the line that matches is the one edited."`
	State  string `toml:"state" doc:"present (default) puts the line in the file; absent takes it out."` // present (default) or absent
	// Create makes the file when it is missing (mode 0644).
	Create bool `toml:"create" doc:"Creates the file (mode 0644) when it is missing instead of failing."`
	// become reads and writes as this user through sudo.
	writeAs
	// Follow edits the target of a symlink at Path (/etc/hosts may be
	// one); without it a symlink is refused.
	Follow bool `toml:"follow" doc:"Edits the target of a symlink at path; without it a symlink there is refused."`
}

func (l *Line) Validate() []Problem {
	var ps []Problem
	ps = append(ps, Require("line", "path", l.Path)...)
	ps = append(ps, l.validate()...)
	ps = append(ps, Absolute("path", l.Path)...)
	switch l.State {
	case "", "present":
		if l.Line == "" {
			ps = append(ps, Problem{"line", "line needs the line to put in"})
		}
	case "absent":
		if l.Line == "" && l.Regexp == "" {
			ps = append(ps, Problem{"regexp", "an absent line needs line or regexp"})
		}
	default:
		ps = append(ps, Problem{"state", "state " + l.State + ": want present or absent"})
	}
	if l.Regexp != "" {
		if _, err := regexp.Compile(l.Regexp); err != nil {
			ps = append(ps, Problem{"regexp", "regexp: " + err.Error()})
		}
	}
	return ps
}

func (l *Line) absent() bool { return l.State == "absent" }

func (l *Line) Describe(lang string) Description {
	heading := T(lang, l.Path+" に次の行を設定します", "In "+l.Path+", this line")
	if l.absent() {
		heading = T(lang, l.Path+" から次の行を削除します", "Remove from "+l.Path)
	}
	lines := []string{l.Line}
	if l.Line == "" {
		lines = []string{l.Regexp}
	}
	var notes []string
	if l.Regexp != "" && !l.absent() {
		notes = append(notes, T(lang, "/"+l.Regexp+"/ に一致する行を置き換えます（無ければ末尾に追加）", "Replaces the line matching /"+l.Regexp+"/ (appended if none)"))
	}
	notes = append(notes, T(lang, "既にその状態であれば作業不要です", "Nothing to do if already so"))
	if l.Follow {
		notes = append(notes, followNote(lang))
	}
	return Description{Notes: notes, Blocks: []Block{{Heading: heading, Lines: lines, Code: Literal}}}
}

func (l *Line) read() transport.Cmd { return readCmd(l.Path, l.Follow, l.user()) }

func (l *Line) Plan() Plan {
	return Plan{Check: Ops(l.read()), Apply: []Op{{Action: "sftp write " + l.Path + " with the line changed (atomic rename, owner and mode kept)",
		ActionJa: "sftp で " + l.Path + " に行を変更して書き込み（一時ファイルから置き換え、所有者・パーミッションはそのまま）"}}}
}

// edit returns the file's new text, and whether anything changes.
func (l *Line) edit(text string) (string, bool) {
	lines := splitLines(text)
	var re *regexp.Regexp
	if l.Regexp != "" {
		re = regexp.MustCompile(l.Regexp)
	}
	match := func(s string) bool {
		if re != nil {
			return re.MatchString(s)
		}
		return s == l.Line
	}
	if l.absent() {
		var kept []string
		for _, s := range lines {
			if !match(s) {
				kept = append(kept, s)
			}
		}
		if len(kept) == len(lines) {
			return text, false
		}
		return joinLines(kept), true
	}
	last := -1
	for i, s := range lines {
		if match(s) {
			last = i
		}
	}
	switch {
	case last >= 0 && lines[last] == l.Line:
		return text, false
	case last >= 0:
		lines[last] = l.Line
	default:
		lines = append(lines, l.Line)
	}
	return joinLines(lines), true
}

func joinLines(ls []string) string {
	if len(ls) == 0 {
		return ""
	}
	return strings.Join(ls, "\n") + "\n"
}

func (l *Line) Check(ctx context.Context, env Env) (Status, error) {
	have, err := readRemote(ctx, env, l.Path, l.Follow, l.user())
	if err != nil {
		return Status{}, err
	}
	if !have.Exists && l.absent() {
		return Done("%s does not exist", l.Path), nil
	}
	if !have.Exists && !l.Create {
		return Status{}, &missingFile{l.Path}
	}
	if updated, changed := l.edit(have.Content); changed || !have.Exists {
		return NotDone("%s:\n%s", l.Path, lineDiff(have.Content, updated, 10)), nil
	}
	return Done("%s is as wanted", l.Path), nil
}

type missingFile struct{ path string }

func (m *missingFile) Error() string {
	return m.path + " does not exist (set create = true to make it)"
}

// Apply reads the file again (the same checked read) and writes it back
// with the line changed, keeping its owner and mode.
func (l *Line) Apply(ctx context.Context, env Env) error {
	have, err := readRemote(ctx, env, l.Path, l.Follow, l.user())
	if err != nil {
		return err
	}
	if !have.Exists && l.absent() {
		return nil
	}
	if !have.Exists && !l.Create {
		return &missingFile{l.Path}
	}
	updated, changed := l.edit(have.Content)
	if !changed && have.Exists {
		return nil
	}
	o := transport.WriteOptions{Mode: 0o644, As: l.user(), Follow: l.Follow}
	if have.Exists {
		o.Owner, o.Group, o.Mode = have.Owner, have.Group, parseMode(have.Mode)
	}
	files, err := env.Files()
	if err != nil {
		return err
	}
	_, err = files.WriteFile(ctx, l.Path, strings.NewReader(updated), o)
	return err
}

func (l *Line) Verify(ctx context.Context, env Env) error { return VerifyByCheck(ctx, env, l) }
