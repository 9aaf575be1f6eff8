// Package runbooktest builds runbooks for tests from inline TOML, so that
// each package's tests do not carry their own copy of parse, inventory and
// bind, or of writing the files a CLI test hands to tejun.
//
// It imports runbook, steps and steps/p4, so the internal (same-package)
// tests of those cannot use it; their external tests can.
package runbooktest

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tejun/inventory"
	"tejun/inventory/tomlsrc"
	"tejun/runbook"
	"tejun/steps"
	"tejun/steps/p4"
)

// TwoHosts is an inventory of h1 and h2, both in role r.
const TwoHosts = "[hosts.h1]\nroles = [\"r\"]\n[hosts.h2]\nroles = [\"r\"]\n"

// Kinds are every kind the tejun command registers (the generic ones and
// Perforce's), for tests that parse runbooks as the CLI does.
func Kinds() []steps.Kind { return append(steps.Generic(), p4.Kinds()...) }

// Parse parses rbSrc with the given kinds, failing the test at the first
// error.
func Parse(t testing.TB, rbSrc string, kinds ...steps.Kind) *runbook.Runbook {
	t.Helper()
	rb, err := runbook.Parse("rb.toml", []byte(rbSrc), steps.NewRegistry(kinds...))
	if err != nil {
		t.Fatal(err)
	}
	return rb
}

// Bind parses rbSrc with the given kinds and binds it to invSrc, failing
// the test at the first error.
func Bind(t testing.TB, rbSrc, invSrc string, kinds ...steps.Kind) *runbook.Binding {
	t.Helper()
	b, err := TryBind(t, rbSrc, invSrc, kinds...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TryBind parses and binds as tejun check does, for tests of what is
// refused: the runbook's problems and the binding's come back together as
// one tomlsrc.Problems (nil when there are none), so a test sees every
// problem a user would. A runbook or inventory that does not parse far
// enough to bind, or an error that is not a list of problems, fails the
// test.
func TryBind(t testing.TB, rbSrc, invSrc string, kinds ...steps.Kind) (*runbook.Binding, error) {
	t.Helper()
	rb, perr := runbook.Parse("rb.toml", []byte(rbSrc), steps.NewRegistry(kinds...))
	if rb == nil {
		t.Fatal(perr)
	}
	inv, err := inventory.Parse("inv.toml", []byte(invSrc))
	if err != nil {
		t.Fatal(err)
	}
	var ps tomlsrc.Problems
	if perr != nil && !errors.As(perr, &ps) {
		t.Fatal(perr)
	}
	b, err := runbook.Bind(rb, inv)
	if err != nil {
		var more tomlsrc.Problems
		if !errors.As(err, &more) {
			t.Fatal(err)
		}
		ps = append(ps, more...)
	}
	if len(ps) > 0 {
		return b, ps
	}
	return b, nil
}

// Write puts src in dir/name and returns its path, failing the test if it
// cannot: a test that goes on with a runbook or inventory it did not write
// would test tejun's message about a missing file instead. An empty dir is
// a new temporary directory of the test.
func Write(t testing.TB, dir, name, src string) string {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Edit replaces the first old in the file at path with new, failing the
// test when old is not there: a test that edits a generated inventory or
// a copied runbook must not go on with the unedited file when what it
// looks for has moved, or it passes without testing anything. The file
// keeps its mode.
func Edit(t testing.TB, path, old, new string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	if !strings.Contains(s, old) {
		t.Fatalf("%s has no %q to replace", path, old)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(s, old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}
