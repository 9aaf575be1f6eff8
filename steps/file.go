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
	Path    string `toml:"path" tejun:"path"`
	Content string `toml:"content" tejun:"script"`
	Owner   string `toml:"owner"`
	Group   string `toml:"group"`
	Mode    string `toml:"mode"`
	// As writes as this user through sudo, for files the login user may
	// not write.
	As string `toml:"as"`
	// Shell says the content is a shell script, so template values in it
	// are quoted as one word each. Unset, a file is a script when its mode
	// has an execute bit or its content starts with "#!"; false says a
	// file that looks like one is not (a Python script, say).
	Shell *bool `toml:"shell"`
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
		notes = append(notes, T(lang, "所有者 ", "Owner ")+ownerSpec(f.Owner, f.Group)+T(lang, "、パーミッション ", ", mode ")+mode)
	}
	notes = append(notes, T(lang, "内容・所有者・パーミッションが同じであれば作業不要です", "Nothing to do if content, owner and mode already match"))
	return Description{
		Notes:  notes,
		Blocks: []Block{{Heading: f.Path, Lines: splitLines(f.Content), Code: Literal}},
	}
}

func (f *File) read() transport.Cmd {
	return transport.Cmd{Argv: []string{"cat", "--", f.Path}, User: f.As}
}

func (f *File) stat() transport.Cmd {
	return transport.Cmd{Argv: []string{"stat", "-c", "%U %G %a", "--", f.Path}}
}

func (f *File) Plan() Plan {
	return Plan{
		Check: Ops(f.read(), f.stat()),
		Apply: []Op{{Action: "sftp write " + f.Path + " (atomic rename, owner and mode set)"}},
	}
}

func (f *File) Check(ctx context.Context, env Env) (Status, error) {
	have, err := env.Run(ctx, f.read(), nil)
	if exitCode(err) == 1 {
		return NotDone("%s does not exist", f.Path), nil
	}
	if err != nil {
		return Status{}, err
	}
	if have != f.Content {
		return NotDone("%s differs:\n%s", f.Path, lineDiff(have, f.Content, 20)), nil
	}
	if diff, err := ownerModeDiff(ctx, env, f.stat(), f.Owner, f.Group, f.Mode); err != nil || diff != "" {
		if err != nil {
			return Status{}, err
		}
		return NotDone("%s has %s", f.Path, diff), nil
	}
	return Done("%s is as wanted", f.Path), nil
}

// ownerModeDiff compares stat -c '%U %G %a' output with what is wanted.
func ownerModeDiff(ctx context.Context, env Env, stat transport.Cmd, owner, group, mode string) (string, error) {
	out, err := env.Run(ctx, stat, nil)
	if err != nil {
		return "", err
	}
	f := strings.Fields(out)
	if len(f) != 3 {
		return "", fmt.Errorf("stat: unexpected %q", out)
	}
	var diff []string
	if owner != "" && f[0] != owner {
		diff = append(diff, "owner "+f[0])
	}
	if group != "" && f[1] != group {
		diff = append(diff, "group "+f[1])
	}
	if mode != "" && !sameMode(f[2], mode) {
		diff = append(diff, "mode "+f[2])
	}
	return strings.Join(diff, ", "), nil
}

func parseMode(m string) os.FileMode {
	var v uint32
	fmt.Sscanf(m, "%o", &v)
	return os.FileMode(v)
}

func (f *File) Apply(ctx context.Context, env Env) error {
	files, err := env.Files()
	if err != nil {
		return err
	}
	_, err = files.WriteFile(ctx, f.Path, strings.NewReader(f.Content), transport.WriteOptions{Mode: parseMode(f.Mode), Owner: f.Owner, Group: f.Group, As: f.As})
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
