// Package runbooktest builds bound runbooks for tests from inline TOML, so
// that each package's tests do not carry their own copy of parse, inventory
// and bind.
package runbooktest

import (
	"testing"

	"tejun/inventory"
	"tejun/runbook"
	"tejun/steps"
)

// TwoHosts is an inventory of h1 and h2, both in role r.
const TwoHosts = "[hosts.h1]\nroles = [\"r\"]\n[hosts.h2]\nroles = [\"r\"]\n"

// Bind parses rbSrc with the given kinds and binds it to invSrc, failing
// the test at the first error.
func Bind(t testing.TB, rbSrc, invSrc string, kinds ...steps.Kind) *runbook.Binding {
	t.Helper()
	rb, err := runbook.Parse("rb.toml", []byte(rbSrc), steps.NewRegistry(kinds...))
	if err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.Parse("inv.toml", []byte(invSrc))
	if err != nil {
		t.Fatal(err)
	}
	b, err := runbook.Bind(rb, inv)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
