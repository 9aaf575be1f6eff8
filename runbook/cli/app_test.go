package cli

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

func TestColorOnlyOnTerminals(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	a := New(nil, w, w, WithEnv(func(string) string { return "" }))
	if a.colorFor(w) {
		t.Error("color on a pipe")
	}
	if a.colorFor(&bytes.Buffer{}) {
		t.Error("color into a buffer")
	}
	tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0)
	if err != nil {
		t.Skip("no terminal to test the positive case:", err)
	}
	defer tty.Close()
	if !a.colorFor(tty) {
		t.Error("no color on a terminal")
	}
	noColor := New(nil, tty, tty, WithEnv(func(k string) string {
		if k == "NO_COLOR" {
			return "1"
		}
		return ""
	}))
	if noColor.colorFor(tty) {
		t.Error("color on a terminal despite NO_COLOR")
	}
}

func TestInterspersedFlags(t *testing.T) {
	a := New(nil, nil, nil)
	got := interspersed(a.cli(), []string{"tejun", "dry-run", "rb.toml", "--lang", "en", "--show-exec", "-i", "inv.toml", "--", "-x"})
	want := []string{"tejun", "dry-run", "--lang", "en", "--show-exec", "--inventory", "inv.toml", "rb.toml", "--", "-x"}
	if len(got) != len(want) {
		t.Fatalf("got %q", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
}

// TestGivenArgs: the audit record's args hold every flag given, however
// it was spelled (alias, after the runbook, repeated), and no default.
func TestGivenArgs(t *testing.T) {
	var got []string
	a := New(nil, &bytes.Buffer{}, &bytes.Buffer{})
	c := a.cli()
	for _, cmd := range c.Commands {
		if cmd.Name == "run" {
			cmd.Action = func(c *cli.Context) error { got = givenArgs(c); return nil }
		}
	}
	args := []string{"tejun", "-F", "ssh.conf", "run", "rb.toml", "-y", "--limit", "db-*", "-l", "!db-03", "--section", "s1",
		"--force-unlock", "--step-timeout", "30m", "--secret", "pw=@/run/pw", "--forks", "3", "--lang", "en", "--resume=false"}
	if err := c.Run(interspersed(c, args)); err != nil {
		t.Fatal(err)
	}
	want := []string{"--ssh-config=ssh.conf", "--lang=en", "--yes", "--forks=3", "--limit=db-*", "--limit=!db-03", "--section=s1",
		"--secret=pw=@/run/pw", "--force-unlock", "--step-timeout=30m0s", "--resume=false", "rb.toml"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("givenArgs:\n got %q\nwant %q", got, want)
	}
}
