package transporttest

import (
	"strings"
	"testing"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/syntax"
)

// Words is what a POSIX shell passes on for a command line, without
// globbing (so "db.*" stays a word): what a Cmd's Line turns into on the
// host. Tests compare it with the argv the line was made from.
func Words(t testing.TB, line string) []string {
	t.Helper()
	f, err := syntax.NewParser().Parse(strings.NewReader(line), "")
	if err != nil || len(f.Stmts) != 1 {
		t.Fatalf("cannot parse %q as one command: %v", line, err)
	}
	call := f.Stmts[0].Cmd.(*syntax.CallExpr)
	// A Config without ReadDir does no globbing, so "db.*" stays a word.
	w, err := expand.Fields(&expand.Config{}, call.Args...)
	if err != nil {
		t.Fatal(err)
	}
	return w
}
