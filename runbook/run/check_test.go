package run

import (
	"slices"
	"testing"
)

// TestCheckReturnsEveryProblem: each problem is its own entry, sorted, so
// a caller can count and test them, not split a flattened message.
func TestCheckReturnsEveryProblem(t *testing.T) {
	b := bind(t, chain)
	ps := Check(b, Options{From: "nope", Only: "nope", Section: "missing", AssumeDone: []string{"gone"}})
	want := Problems{`no section "missing" (sections: s)`, `no step "gone"`, `no step "nope"`}
	if !slices.Equal(ps, want) {
		t.Fatalf("problems %q, want %q", ps, want)
	}
	if ps.Error() != `no section "missing" (sections: s)`+"\n"+`no step "gone"`+"\n"+`no step "nope"` {
		t.Errorf("as an error: %q", ps.Error())
	}
	if ps := Check(b, Options{}); ps != nil {
		t.Errorf("a runnable binding: %q", ps)
	}
}
