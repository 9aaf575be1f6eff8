package runbook_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"tejun/inventory/tomlsrc"
	"tejun/steps"
)

// oneStep is a runbook of one step on solo, with vars and the step's own
// parameters as given.
func oneStep(vars, params string) string {
	return `[runbook]
name = "t"
[vars]
` + vars + `
[[section]]
id = "s"
on = "solo"
title.en = "s"
[[section.step]]
id = "x"
title.en = "x"
` + params + "\n"
}

// wantProblem asserts err holds a problem on line whose message has want.
func wantProblem(t *testing.T, err error, line int, want string) {
	t.Helper()
	ps, ok := err.(tomlsrc.Problems)
	if !ok {
		t.Fatalf("err = %v, want problems", err)
	}
	for _, p := range ps {
		if p.Line == line && strings.Contains(p.Msg, want) {
			return
		}
	}
	t.Fatalf("no problem at line %d with %q in:\n%v", line, want, err)
}

// A value in command.shell is data: running the line must not run what
// the value holds.
func TestShellValueIsOneWord(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "pwned")
	b := bind(t, oneStep(`v = "x; touch `+marker+` $(touch `+marker+`)"`,
		`kind = "command"
shell = "printf %s {{ vars.v }}"`))
	line := b.Instances["x"][0].Impl.(*steps.Command).Shell
	out, err := exec.Command("sh", "-c", line).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v: %s", line, err, out)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatalf("running %q ran the value's touch", line)
	}
	if want := "x; touch " + marker + " $(touch " + marker + ")"; string(out) != want {
		t.Errorf("printed %q, want the value %q", out, want)
	}
}

// "| sh" in shell text quotes once, not twice.
func TestShellQuoteFilterInShellIsOnce(t *testing.T) {
	b := bind(t, oneStep(`v = "a b"`, `kind = "command"
shell = "printf %s {{ vars.v | sh }}"`))
	if got := b.Instances["x"][0].Impl.(*steps.Command).Shell; got != "printf %s 'a b'" {
		t.Errorf("shell = %q", got)
	}
}

// unsafe_raw pastes the value as shell code, and check is told where.
func TestUnsafeRawWarns(t *testing.T) {
	b := bind(t, oneStep(`v = "a | wc -c"`, `kind = "command"
shell = "printf %s {{ vars.v | unsafe_raw }}"`))
	if got := b.Instances["x"][0].Impl.(*steps.Command).Shell; got != "printf %s a | wc -c" {
		t.Errorf("shell = %q", got)
	}
	if len(b.Warnings) != 1 || b.Warnings[0].Line != 13 || !strings.Contains(b.Warnings[0].Msg, "unquoted") {
		t.Errorf("warnings = %v, want one at line 13", b.Warnings)
	}
}

// A template inside quotes in shell text would keep its own quotes.
func TestShellTemplateInsideQuotesRefused(t *testing.T) {
	for _, shell := range []string{`echo '{{ vars.v }}'`, `echo \"a {{ vars.v }}\"`} {
		_, err := tryBind(t, oneStep(`v = "a"`, "kind = \"command\"\nshell = \""+shell+"\""))
		wantProblem(t, err, 13, "inside quotes")
	}
	// Quotes closed before the template, escapes and comments are no quotes.
	b := bind(t, oneStep(`v = "a b"`, `kind = "command"
shell = "echo 'x' \\' {{ vars.v }} # it's"`))
	if got := b.Instances["x"][0].Impl.(*steps.Command).Shell; got != `echo 'x' \' 'a b' # it's` {
		t.Errorf("shell = %q", got)
	}
}

// A file is shell when it says so, is executable or starts with #!.
func TestScriptFileContentQuoted(t *testing.T) {
	cases := []struct{ params, want string }{
		{`mode = "0755"` + "\ncontent = \"cd {{ vars.v }}\"", "cd 'a;b'"},
		{"content = \"#!/bin/sh\\ncd {{ vars.v }}\"", "#!/bin/sh\ncd 'a;b'"},
		{"shell = true\ncontent = \"cd {{ vars.v }}\"", "cd 'a;b'"},
		{"shell = false\nmode = \"0755\"\ncontent = \"cd {{ vars.v }}\"", "cd a;b"},
		{`mode = "0644"` + "\ncontent = \"cd {{ vars.v }}\"", "cd a;b"},
	}
	for _, c := range cases {
		b := bind(t, oneStep(`v = "a;b"`, "kind = \"file\"\npath = \"/tmp/f\"\n"+c.params))
		if got := b.Instances["x"][0].Impl.(*steps.File).Content; got != c.want {
			t.Errorf("%s: content = %q, want %q", c.params, got, c.want)
		}
	}
}

// A value may not climb out of the directory a path names.
func TestPathValueTraversal(t *testing.T) {
	for _, v := range []string{"..", "../etc", "a/../../etc", "x/.."} {
		_, err := tryBind(t, oneStep(`sub = "`+v+`"`, `kind = "directory"
path = "/srv/{{ vars.sub }}/data"`))
		wantProblem(t, err, 13, `".." component`)
	}
	// A value ending in "." next to a literal "." still makes "..".
	_, err := tryBind(t, oneStep(`sub = "."`, `kind = "directory"
path = "/srv/.{{ vars.sub }}/data"`))
	wantProblem(t, err, 13, `".." component`)
	// A list of paths is checked element by element.
	_, err = tryBind(t, oneStep(`sub = "../../etc"`, `kind = "remove"
dir = "/srv"
paths = ["ok", "{{ vars.sub }}"]`))
	wantProblem(t, err, 14, `".." component`)
	for _, v := range []string{`a\nb`, `a\rb`} {
		_, err = tryBind(t, oneStep(`sub = "`+v+`"`, `kind = "directory"
path = "/srv/{{ vars.sub }}"`))
		wantProblem(t, err, 13, "newline")
	}
	okCases := map[string]string{
		"/srv/{{ vars.sub | path_any }}/data": "/srv/../etc/data",
		"/srv/../{{ vars.name }}":             "/srv/../n..x",
		"/srv/{{ vars.name }}":                "/srv/n..x",
	}
	for path, want := range okCases {
		b := bind(t, oneStep("sub = \"../etc\"\nname = \"n..x\"", "kind = \"directory\"\npath = \""+path+"\""))
		if got := b.Instances["x"][0].Impl.(*steps.Directory).Path; got != want {
			t.Errorf("%s: path = %q, want %q", path, got, want)
		}
		if warned := len(b.Warnings) == 1 && strings.Contains(b.Warnings[0].Msg, "| path_any"); warned != strings.Contains(path, "path_any") {
			t.Errorf("%s: warnings %v", path, b.Warnings)
		}
	}
	// An argv word is no path: ".." there is the command's business.
	bind(t, oneStep(`sub = "../x"`, `kind = "command"
argv = ["ls", "{{ vars.sub }}"]`))
}

func TestUnknownFilter(t *testing.T) {
	_, err := tryBind(t, oneStep(`v = "a"`, `kind = "command"
argv = ["echo", "{{ vars.v | shh }}"]`))
	wantProblem(t, err, 13, `unknown filter "shh"`)
}

// A step with no host still has its templates and parameters checked.
func TestHostlessStepStillChecked(t *testing.T) {
	_, err := tryBind(t, `[runbook]
name = "t"
[[section]]
id = "s"
title.en = "s"
[[section.step]]
id = "x"
title.en = "x"
kind = "command"
argv = ["echo", "{{ vars.nope }}", "{{ host.root }}"]
[[section.step]]
id = "y"
title.en = "y"
on = "ghost"
kind = "directory"
path = "{{ hosts.nobody.root }}"
`)
	wantProblem(t, err, 6, "no host: set on")
	wantProblem(t, err, 10, `no variable "nope"`)
	wantProblem(t, err, 11, `no host or role "ghost"`)
	wantProblem(t, err, 16, `no host "nobody"`)
}

// Hostile values survive a real shell as exactly themselves, in a command
// line and in a script file alike.
func TestHostileValuesThroughShell(t *testing.T) {
	for _, v := range []string{`it's`, "a\nb; id", "`id`", `$(id)`, `\`, `"`, `-rf`, `*`, ` `, ``, `${IFS}x`} {
		enc := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(v)
		b := bind(t, oneStep(`v = "`+enc+`"`, `kind = "command"
shell = "printf %s {{ vars.v }}"`))
		line := b.Instances["x"][0].Impl.(*steps.Command).Shell
		if out, err := exec.Command("sh", "-c", line).Output(); err != nil || string(out) != v {
			t.Errorf("value %q: %s printed %q (%v)", v, line, out, err)
		}
		b = bind(t, oneStep(`v = "`+enc+`"`, `kind = "file"
path = "/tmp/s"
content = "#!/bin/sh\nprintf %s {{ vars.v }}\n"`))
		script := b.Instances["x"][0].Impl.(*steps.File).Content
		if out, err := exec.Command("sh", "-c", script).Output(); err != nil || string(out) != v {
			t.Errorf("value %q: script %q printed %q (%v)", v, script, out, err)
		}
	}
}

// "| optional" stands for a host setting most inventories leave out: ""
// when the host has none, its value when it has one. A missing var or an
// unknown host stays an error.
func TestOptionalHostField(t *testing.T) {
	b := bind(t, oneStep(``, `kind = "command"
argv = ["echo", "[{{ host.p4_protocol | optional }}]", "{{ host.root | optional }}"]`))
	if got := b.Instances["x"][0].Impl.(*steps.Command).Argv; strings.Join(got, " ") != "echo [] /solo" {
		t.Errorf("argv = %q", got)
	}
	_, err := tryBind(t, oneStep(``, `kind = "command"
argv = ["echo", "{{ vars.nope | optional }}"]`))
	wantProblem(t, err, 13, `no variable "nope"`)
	_, err = tryBind(t, oneStep(``, `kind = "command"
argv = ["echo", "{{ hosts.nohost.x | optional }}"]`))
	wantProblem(t, err, 13, `no host "nohost"`)
}
