package steps

import (
	"context"
	"fmt"
	"os"
	"strings"

	"tejun/transport"
)

// File makes a file hold exactly the given content, with an owner and
// mode (ProcessSaver's pfile "-rw-r--r-- root", its restart script
// "-rwxr-xr-x root"). The content may use templates; it is written
// atomically, never through a shell.
type File struct {
	Path    string `toml:"path" tejun:"path" doc:"The file on the host to write, whole."`
	Content string `toml:"content" tejun:"script" doc:"What the file must hold, exactly; templates are expanded."`
	Owner   string `toml:"owner" doc:"The user to own the file; unset leaves the owner as it is."`
	Group   string `toml:"group" doc:"The group to own the file; unset leaves the group as it is."`
	Mode    string `toml:"mode" doc:"The permissions in octal (0644); unset leaves them as they are."`
	// become writes as this user through sudo, for files the login user
	// may not write.
	writeAs
	// Follow edits the target of a symlink at Path; without it a symlink
	// is refused, so a link planted where a file was expected cannot
	// redirect the write.
	Follow bool `toml:"follow" doc:"Writes through a symlink at path to its target; without it a symlink there is refused."`
	// Shell says the content is a shell script, so template values in it
	// are quoted as one word each. Unset, a file is a script when its mode
	// has an execute bit or its content starts with "#!"; false says a
	// file that looks like one is not (a Python script, say).
	Shell *bool `toml:"shell" doc:"Whether content is a shell script whose template values are quoted as one word (unset: guessed from the mode and #!)."`
}

// Script reports whether the content is shell: a value substituted into a
// script a shell runs later is as dangerous as one in a command line.
func (f *File) Script() bool {
	if f.Shell != nil {
		return *f.Shell
	}
	return parseMode(f.Mode)&0o111 != 0 || strings.HasPrefix(f.Content, "#!")
}

func (f *File) Validate() []Problem {
	ps := Require("file", "path", f.Path)
	ps = append(ps, f.validate()...)
	ps = append(ps, Absolute("path", f.Path)...)
	if f.Mode != "" && !validMode(f.Mode) {
		ps = append(ps, Problem{"mode", "mode " + f.Mode + " is not an octal mode such as 0644"})
	}
	return ps
}

func (f *File) Describe(lang string) Description {
	var notes []string
	if f.Owner != "" || f.Mode != "" {
		mode := f.Mode
		if mode != "" {
			mode += " (" + symbolic(parseMode(f.Mode)) + ")"
		}
		notes = append(notes, ownerModeNote(lang, f.Owner, f.Group, mode))
	}
	notes = append(notes, T(lang, "内容・所有者・パーミッションが同じであれば作業不要です", "Nothing to do if content, owner and mode already match"))
	if f.Follow {
		notes = append(notes, followNote(lang))
	}
	return Description{
		Notes:  notes,
		Blocks: []Block{{Heading: f.Path, Lines: splitLines(f.Content), Code: Literal}},
	}
}

func (f *File) Plan() Plan {
	return Plan{
		Check: Ops(readCmd(f.Path, f.Follow, f.user())),
		Apply: []Op{{Cmd: lookCmd(f.Path, f.Follow, f.user())}, {Action: "sftp write " + f.Path + " (atomic rename, owner and mode set)",
			ActionJa: "sftp で " + f.Path + " に書き込み（一時ファイルから置き換え、所有者・パーミッションを設定）"}},
	}
}

// Check reads what the write would replace: a FIFO, a device or a file
// larger than MaxRead is an error, never "differs".
func (f *File) Check(ctx context.Context, env Env) (Status, error) {
	have, err := readRemote(ctx, env, f.Path, f.Follow, f.user())
	if err != nil {
		return Status{}, err
	}
	if !have.Exists {
		return NotDone("%s does not exist", f.Path), nil
	}
	if have.Content != f.Content {
		return NotDone("%s differs:\n%s", f.Path, lineDiff(have.Content, f.Content, 20)), nil
	}
	if diff := ownerModeDiff(have, f.Owner, f.Group, f.Mode); diff != "" {
		return NotDone("%s has %s", f.Path, diff), nil
	}
	return Done("%s is as wanted", f.Path), nil
}

// ownerModeDiff says how a file's owner and mode differ from what is
// wanted ("" for not at all).
func ownerModeDiff(have remoteFile, owner, group, mode string) string {
	var diff []string
	if owner != "" && have.Owner != owner {
		diff = append(diff, "owner "+have.Owner)
	}
	if group != "" && have.Group != group {
		diff = append(diff, "group "+have.Group)
	}
	if mode != "" && !sameMode(have.Mode, mode) {
		diff = append(diff, "mode "+have.Mode)
	}
	return strings.Join(diff, ", ")
}

func parseMode(m string) os.FileMode {
	var v uint32
	fmt.Sscanf(m, "%o", &v)
	return os.FileMode(v)
}

// Apply looks first and refuses what Check refuses (a FIFO, a symlink
// without follow): the write would replace it.
func (f *File) Apply(ctx context.Context, env Env) error {
	if _, err := lookRemote(ctx, env, f.Path, f.Follow, f.user()); err != nil {
		return err
	}
	files, err := env.Files()
	if err != nil {
		return err
	}
	_, err = files.WriteFile(ctx, f.Path, strings.NewReader(f.Content), transport.WriteOptions{Mode: parseMode(f.Mode), Owner: f.Owner, Group: f.Group, As: f.user(), Follow: f.Follow})
	return err
}

func (f *File) Verify(ctx context.Context, env Env) error { return VerifyByCheck(ctx, env, f) }

// symbolic writes a file mode as ls -l does: 0644 is -rw-r--r--.
func symbolic(m os.FileMode) string {
	const rwx = "rwxrwxrwx"
	b := []byte("-" + rwx)
	for i := 0; i < 9; i++ {
		if m&(1<<uint(8-i)) == 0 {
			b[i+1] = '-'
		}
	}
	return string(b)
}
