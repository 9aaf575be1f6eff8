package runbook_test

import (
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/BurntSushi/toml"

	"tejun/inventory"
	"tejun/inventory/tomlsrc"
	"tejun/runbook"
	"tejun/runbook/render"
	"tejun/transport/transporttest"
)

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzLoad feeds arbitrary runbook and inventory text through loading,
// binding and both dry-run formats. Whatever the input, tejun answers with
// problems, never a panic.
func FuzzLoad(f *testing.F) {
	f.Add(string(readFile(f, "../examples/perforce-ha/standby.toml")), string(readFile(f, "../examples/perforce-ha/inventory.toml")))
	f.Add(string(readFile(f, "../testdata/invalid/many.toml")), string(readFile(f, "../testdata/invalid/inventory.toml")))
	f.Add(string(readFile(f, "../testdata/invalid/var-cycle.toml")), string(readFile(f, "../testdata/invalid/bad-inventory.toml")))
	f.Fuzz(func(t *testing.T, rbSrc, invSrc string) {
		rb, rbErr := runbook.Parse("rb.toml", []byte(rbSrc), registry())
		inv, invErr := inventory.Parse("inv.toml", []byte(invSrc))
		for _, err := range []error{rbErr, invErr} {
			var ps tomlsrc.Problems
			if err != nil && !errors.As(err, &ps) {
				t.Fatalf("error that is not a list of problems: %v", err)
			}
		}
		if rb == nil || inv == nil {
			return
		}
		b, err := runbook.Bind(rb, inv)
		if err != nil || rbErr != nil || invErr != nil {
			return
		}
		for _, lang := range []string{"ja", "en"} {
			for _, md := range []bool{false, true} {
				if err := render.Write(io.Discard, b, render.Options{Lang: lang, Markdown: md, ShowExec: true}); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}

// FuzzInventoryValue puts an arbitrary value into the flagship inventory's
// root, server ID and user names, and checks every command of every step:
// quoted as a shell line it must parse back to exactly its argv, and the
// value must arrive whole inside one word — never split, never interpreted.
func FuzzInventoryValue(f *testing.F) {
	for _, v := range []string{"; rm -rf /", "$(touch /tmp/pwned)", "`id`", `a"b'c`, "two\nlines", "-rf", "*", "é 漢字"} {
		f.Add(v)
	}
	rbSrc := readFile(f, "../examples/perforce-ha/standby.toml")
	invSrc := readFile(f, "../examples/perforce-ha/inventory.toml")
	f.Fuzz(func(t *testing.T, v string) {
		checkValue(t, rbSrc, invSrc, v)
	})
}

// TestInventoryValuesStayLiteral runs the fuzz check on hostile values that
// must be accepted (not refused), so the check really runs on each.
func TestInventoryValuesStayLiteral(t *testing.T) {
	rbSrc := readFile(t, "../examples/perforce-ha/standby.toml")
	invSrc := readFile(t, "../examples/perforce-ha/inventory.toml")
	for _, v := range []string{"; rm -rf / #", "$(touch /tmp/pwned)", "`id`", `a"b'c`, "x -rf", "*", "é 漢字", "${IFS}", "a\\b"} {
		if !checkValue(t, rbSrc, invSrc, v) {
			t.Errorf("value %q was refused; the check did not run", v)
		}
	}
	// A server ID reaches p4 and p4d as a bare argument, and neither ends
	// its options with "--": one that looks like an option is refused.
	for _, v := range []string{"-rf", "--help"} {
		if checkValue(t, rbSrc, invSrc, v) {
			t.Errorf("server ID %q was accepted; p4d -xD would read it as an option", v)
		}
	}
	// The value also goes into a root, a path: these must be refused.
	for _, v := range []string{"two\nlines", "../../etc"} {
		if checkValue(t, rbSrc, invSrc, v) {
			t.Errorf("value %q in a path was accepted", v)
		}
	}
}

// checkValue reports whether the runbook bound with v (and so was checked).
func checkValue(t *testing.T, rbSrc, invSrc []byte, v string) bool {
	if !utf8.ValidString(v) {
		return false // TOML files are UTF-8: no one can write this value
	}
	// The value goes in through TOML, as a user would write it.
	var tree map[string]any
	if _, err := toml.Decode(string(invSrc), &tree); err != nil {
		t.Fatal(err)
	}
	// The example keeps the machine's values on the host (p4-2) and the
	// role's (server ID) on the role.
	hosts := tree["hosts"].(map[string]any)
	standby := hosts["p4-2"].(map[string]any)["vars"].(map[string]any)
	standby["p4root"] = "/p4/" + v // a root must be absolute
	tree["roles"].(map[string]any)["standby"].(map[string]any)["vars"].(map[string]any)["server_id"] = v
	tree["vars"].(map[string]any)["os_user"] = v
	var buf strings.Builder
	if err := toml.NewEncoder(&buf).Encode(tree); err != nil {
		return false // not representable in TOML (invalid UTF-8): nothing to load
	}
	inv, err := inventory.Parse("inv.toml", []byte(buf.String()))
	if err != nil {
		t.Fatalf("inventory with value %q: %v", v, err)
	}
	if got, _ := inv.Var(inv.Host("p4-2"), "server_id"); got != v {
		t.Fatalf("value changed on the way through TOML: %q became %q", v, got)
	}
	rb, err := runbook.Parse("standby.toml", rbSrc, registry())
	if err != nil {
		t.Fatal(err)
	}
	b, err := runbook.Bind(rb, inv)
	if err != nil {
		var ps tomlsrc.Problems
		if !errors.As(err, &ps) {
			t.Fatalf("value %q: %v", v, err)
		}
		return false // refused (a NUL byte, an empty server ID): refused is fine
	}
	whole := false
	for _, st := range rb.Steps {
		for _, in := range b.Instances[st.ID] {
			plan := in.Impl.Plan()
			for _, op := range append(plan.Check, plan.Apply...) {
				if op.Action != "" {
					continue
				}
				line, err := op.Cmd.Line()
				if err != nil {
					t.Fatalf("step %s: %v", st.ID, err)
				}
				if op.Cmd.Shell != "" {
					t.Fatalf("step %s builds a shell line from inventory values: %s", st.ID, line)
				}
				got := transporttest.Words(t, line)
				if !slices.Equal(got, op.Cmd.Words()) {
					t.Fatalf("step %s: %s\nparses to %q, want %q", st.ID, line, got, op.Cmd.Words())
				}
				for _, w := range got {
					whole = whole || strings.Contains(w, v)
				}
			}
		}
	}
	if !whole {
		t.Fatalf("value %q is in no single word of any command", v)
	}
	return true
}
