package p4

import (
	"testing"

	"tejun/steps"
)

// TestKindCaps holds every registered kind's declared capabilities to the
// interfaces its type implements: the runbook and the executor trust the
// declaration, so a kind that gains a Destructive method (or loses its
// Waits) without saying so in its entry fails here.
func TestKindCaps(t *testing.T) {
	for _, k := range append(steps.Generic(), Kinds()...) {
		if got := k.Implemented(); got != k.Caps {
			t.Errorf("%s declares %+v but implements %+v", k.Name, k.Caps, got)
		}
	}
}
