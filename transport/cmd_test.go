package transport

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/syntax"
)

// parseWords reads a shell line the way a POSIX shell would and returns the
// words after expansion.
func parseWords(t testing.TB, line string) []string {
	t.Helper()
	f, err := syntax.NewParser(syntax.Variant(syntax.LangPOSIX)).Parse(strings.NewReader(line), "")
	if err != nil {
		t.Fatalf("parse %q: %v", line, err)
	}
	if len(f.Stmts) != 1 {
		t.Fatalf("%q parses as %d statements", line, len(f.Stmts))
	}
	call, ok := f.Stmts[0].Cmd.(*syntax.CallExpr)
	if !ok {
		t.Fatalf("%q is not a simple command", line)
	}
	words, err := expand.Fields(&expand.Config{}, call.Args...)
	if err != nil {
		t.Fatalf("expand %q: %v", line, err)
	}
	return words
}

var nasty = []string{
	"plain", "", "; rm -rf /", "$(touch /tmp/x)", "`id`", "a'b", `a"b`, "line\nbreak", "tab\there",
	"*", "~root", "--", "-rf", "a b", "\x01\x7f", "é漢字", "'", "\\", "$HOME", "a=b", "!event",
}

func TestQuoteRoundTrip(t *testing.T) {
	for _, v := range nasty {
		c := Cmd{Argv: []string{"p4d", "-r", v, "-xD", v}, User: "perforce"}
		line, err := c.Line()
		if err != nil {
			t.Fatal(err)
		}
		if got := parseWords(t, line); !slices.Equal(got, c.Words()) {
			t.Errorf("value %q: line %s parses to %q, want %q", v, line, got, c.Words())
		}
	}
}

// TestQuoteRealShell hands the quoted line to the system's sh, the way sshd
// hands a command to the login shell.
func TestQuoteRealShell(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh on this machine")
	}
	for _, v := range nasty {
		line, err := Cmd{Argv: []string{"printf", "%s|", v, v}}.Line()
		if err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(sh, "-c", line).Output()
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		if want := v + "|" + v + "|"; string(out) != want {
			t.Errorf("sh -c %s printed %q, want %q", line, out, want)
		}
	}
}

func TestQuoteRejectsNUL(t *testing.T) {
	if _, err := (Cmd{Argv: []string{"echo", "a\x00b"}}).Line(); err == nil {
		t.Fatal("a NUL byte was quoted instead of refused")
	}
}

func TestWordsSudoAndShell(t *testing.T) {
	c := Cmd{Shell: "ls | wc -l", User: "perforce"}
	want := []string{"sudo", "-n", "-u", "perforce", "--", "/bin/sh", "-c", "ls | wc -l"}
	if !slices.Equal(c.Words(), want) {
		t.Fatalf("Words = %q, want %q", c.Words(), want)
	}
	if got := c.String(); got != "sudo -n -u perforce -- /bin/sh -c 'ls | wc -l'" {
		t.Fatalf("String = %s", got)
	}
}

func FuzzQuote(f *testing.F) {
	for _, v := range nasty {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) {
		c := Cmd{Argv: []string{"cmd", v}}
		line, err := c.Line()
		if strings.IndexByte(v, 0) >= 0 {
			if err == nil {
				t.Fatal("NUL accepted")
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if got := parseWords(t, line); !slices.Equal(got, c.Argv) {
			t.Fatalf("%q -> %s -> %q", v, line, got)
		}
	})
}

// Sent puts a command under the host's default run-as user only when the
// command names none: a step that runs as perforce stays perforce on a
// become = "root" host, and no default leaves the command as it is.
func TestSentAppliesTheDefaultUserOnly(t *testing.T) {
	for _, c := range []struct {
		cmd    Cmd
		become string
		want   string
	}{
		{Cmd{Argv: []string{"stat", "-c", "%U", "--", "/p4"}, CLocale: true}, "root", "sudo -n -u root -- env LC_ALL=C stat -c %U -- /p4"},
		{Cmd{Argv: []string{"p4d", "-V"}, User: "perforce"}, "root", "sudo -n -u perforce -- p4d -V"},
		{Cmd{Shell: "echo $HOME"}, "", "/bin/sh -c 'echo $HOME'"},
		{Cmd{Argv: []string{"id"}}, "", "id"},
	} {
		got, err := c.cmd.Sent(c.become).Line()
		if err != nil || got != c.want {
			t.Errorf("%v under %q: %q, %v; want %q", c.cmd.Argv, c.become, got, err, c.want)
		}
	}
}
