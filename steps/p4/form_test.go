package p4

import (
	"slices"
	"strings"
	"testing"
)

// The marked form says, per line, whether tejun changes it: what it sets
// against Perforce's default for a new spec, and the defaults it leaves.
func TestMarkedForms(t *testing.T) {
	s := &Server{Conn: Conn{User: "admin"}, ServerID: "hot", Type: "server", Services: "standby", Options: "nomandatory",
		Description: "Hot standby\nof tk", DistributedConfig: []string{"P4TARGET=10.0.0.1:1666"}}
	got := s.serverForm("en")
	want := []string{"ServerID: hot", "Type: server", "Services: standby  ● overrides standard (the default)",
		"Options: nomandatory  ● unchanged (a new server cannot be mandatory; changed later)",
		"Description:  ● replaced", "\tHot standby", "\tof tk", "DistributedConfig:  ● the lines below are added", "\tP4TARGET=10.0.0.1:1666"}
	if !slices.Equal(got, want) {
		t.Errorf("server form:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got := (&Server{Conn: Conn{User: "super"}, ServerID: "x"}).serverForm("ja"); !slices.Contains(got, "\tCreated by super.") || !slices.Contains(got, "Services: standard  ● 既定値のまま（変更しない）") {
		t.Errorf("defaults of a new spec: %q", got)
	}
	u := &User{Name: "svc", Type: "service", Email: "ops@example.com"}
	if got := u.userForm("en"); !slices.Equal(got, []string{"User: svc", "Type: service  ● one line added", "Email: ops@example.com  ● replaced", "FullName: svc"}) {
		t.Errorf("user form: %q", got)
	}
	// The manual's form: the defaults unmarked, Email with the master's
	// host name (service@master).
	u = &User{Name: "service", Type: "service", Client: "master"}
	if got := u.userForm("ja"); !slices.Equal(got, []string{"User: service", "Type: service  ● 一行追記する", "Email: service@master", "FullName: service"}) {
		t.Errorf("user form: %q", got)
	}
	if n := u.userFormNote("en"); !strings.Contains(n, "here master") {
		t.Errorf("user form note: %q", n)
	}
	if ps := (&User{Name: "u", Client: "-x y"}).Validate(); len(ps) == 0 {
		t.Error("a client with a space is accepted")
	}
	if got := (&User{Name: "u"}).userForm("ja"); slices.ContainsFunc(got, func(l string) bool { return strings.HasPrefix(l, "Type:") }) {
		t.Errorf("a standard user's form has no Type line (the editor shows none): %q", got)
	}
	if optionsMark("ja", "nomandatory") != "  ● mandatoryからの書き換え" {
		t.Errorf("flip back: %q", optionsMark("ja", "nomandatory"))
	}
}
