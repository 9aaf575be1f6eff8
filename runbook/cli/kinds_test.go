package cli

import (
	"reflect"
	"strings"
	"testing"

	"tejun/runbook"
)

// TestEveryParameterDocumented: tejun kinds says what each parameter of
// each kind is for, from the doc tag on its field. A parameter added
// without one fails here, so the reference cannot fall behind the kinds.
func TestEveryParameterDocumented(t *testing.T) {
	reg := registry()
	n := 0
	for _, name := range reg.Names() {
		k, _ := reg.Lookup(name)
		for _, p := range kindParams(reflect.TypeOf(k.New())) {
			n++
			switch {
			case strings.TrimSpace(p.doc) == "":
				t.Errorf("%s: parameter %s has no doc tag (say what it is for, in a sentence)", name, p.key)
			case !strings.HasSuffix(p.doc, "."), len(strings.Fields(p.doc)) < 3:
				t.Errorf("%s: parameter %s: doc %q is not a sentence", name, p.key, p.doc)
			}
		}
	}
	for _, k := range runbook.CommonKeyDocs() {
		if !strings.HasSuffix(k[1], ".") || len(strings.Fields(k[1])) < 3 {
			t.Errorf("the common step key %s: doc %q is not a sentence", k[0], k[1])
		}
	}
	if n < 100 {
		t.Errorf("only %d parameters read from the kinds", n)
	}
}

func TestWrap(t *testing.T) {
	got := wrap("The OS user to run the step's commands as", 20)
	want := []string{"The OS user to run", "the step's commands", "as"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("wrap: %q, want %q", got, want)
	}
	if got := wrap("", 20); len(got) != 0 {
		t.Errorf("wrap of nothing: %q", got)
	}
}
