package inventory

import (
	"os"
	"strings"
	"testing"
)

const sample = `
[defaults]
user = "admin"
become = "root"

[vars]
tz = "Asia/Tokyo"
shared = "inventory"

[hosts.db1]
address = "127.0.0.21"
roles = ["db", "nfs"]
label = { ja = "DB1", en = "db one" }
[hosts.db1.vars]
shared = "host"

[hosts.db2]
address = "127.0.0.22"
port = 2222
user = "ops"
roles = ["db"]

[roles.db]
label = { ja = "DBサーバ", en = "database server" }
[roles.db.vars]
shared = "role"
only_role = "db"

[roles.nfs.vars]
only_role = "nfs"
`

func mustParse(t *testing.T, src string) *Inventory {
	t.Helper()
	inv, err := Parse("inv.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func TestVarPrecedence(t *testing.T) {
	inv := mustParse(t, sample)
	db1, db2 := inv.Host("db1"), inv.Host("db2")
	for _, c := range []struct {
		h    *Host
		name string
		want string
	}{
		{db1, "shared", "host"},   // host beats role and inventory
		{db2, "shared", "role"},   // role beats inventory
		{db1, "tz", "Asia/Tokyo"}, // inventory as the last resort
		{db1, "only_role", "db"},  // the first role the host lists wins
		{db2, "port", "2222"},     // built-in fields
		{db1, "port", "22"},       // default port
		{db2, "user", "ops"},      // own user beats [defaults]
		{db1, "user", "admin"},    // [defaults]
		{db1, "address", "127.0.0.21"},
	} {
		if got, ok := inv.Field(c.h, c.name); !ok || got != c.want {
			t.Errorf("%s.%s = %q, %v; want %q", c.h.Name, c.name, got, ok, c.want)
		}
	}
	if _, ok := inv.Field(db1, "nope"); ok {
		t.Error("an undefined variable was found")
	}
	if db2.SSH.Become != "root" {
		t.Errorf("become from [defaults] not applied: %q", db2.SSH.Become)
	}
}

func TestSelectAndLabel(t *testing.T) {
	inv := mustParse(t, sample)
	hs, err := inv.Select("db")
	if err != nil || len(hs) != 2 || hs[0].Name != "db1" || hs[1].Name != "db2" {
		t.Fatalf("Select(db) = %v, %v; want db1, db2 in file order", hs, err)
	}
	if hs, err := inv.Select("db2"); err != nil || len(hs) != 1 {
		t.Fatalf("Select(db2) = %v, %v", hs, err)
	}
	if _, err := inv.Select("dbx1"); err == nil || !strings.Contains(err.Error(), `did you mean "db1"`) {
		t.Fatalf("Select(dbx1) error = %v", err)
	}
	for target, want := range map[string]string{"db": "DBサーバ", "db1": "DB1", "nfs": "DB1", "db2": "db2"} {
		if got := inv.Label(target, "ja"); got != want {
			t.Errorf("Label(%s) = %q, want %q", target, got, want)
		}
	}
	if got := inv.Label("db", "en"); got != "database server" {
		t.Errorf("English label = %q", got)
	}
}

func TestHostRoleClash(t *testing.T) {
	_, err := Parse("inv.toml", []byte(`
[hosts.web]
roles = ["app"]
[hosts.app]
roles = ["x"]
`))
	if err == nil || !strings.Contains(err.Error(), `inv.toml:4: "app" is both a host and a role`) {
		t.Fatalf("err = %v", err)
	}
	// A host named like its own only role is fine (the manual's master/master).
	mustParse(t, "[hosts.master]\nroles = [\"master\"]\n")
}

// TestUnsetSSHFields: only what the inventory writes may override
// ~/.ssh/config, so an unwritten port, host_key or jump must stay
// distinguishable from a written one.
func TestUnsetSSHFields(t *testing.T) {
	inv := mustParse(t, `
[defaults]
jump = "bastion"
[hosts.a]
[hosts.b]
port = 22
host_key = "strict"
jump = "none"
[hosts.c]
[hosts.bastion]
jump = "none"
`)
	a, b := inv.Host("a"), inv.Host("b")
	if a.SSH.PortSet || a.SSH.Port != 22 || a.SSH.HostKey != "" || a.SSH.Jump != "bastion" || a.SSH.NoJump {
		t.Errorf("a: %+v", a.SSH)
	}
	if !b.SSH.PortSet || b.SSH.Port != 22 || b.SSH.HostKey != HostKeyStrict || b.SSH.Jump != "" || !b.SSH.NoJump {
		t.Errorf("b: %+v", b.SSH)
	}
	inv = mustParse(t, "[defaults]\nport = 2200\n[hosts.a]\n")
	if h := inv.Host("a"); !h.SSH.PortSet || h.SSH.Port != 2200 {
		t.Errorf("port from defaults: %+v", h.SSH)
	}
	if _, err := Parse("x.toml", []byte("[hosts.a]\nport = 0\n")); err == nil || !strings.Contains(err.Error(), "port 0") {
		t.Errorf("port = 0: %v", err)
	}
}

// parseProblems parses src and returns its problems as text.
func parseProblems(t *testing.T, src string) string {
	t.Helper()
	_, err := Parse("inv.toml", []byte(src))
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestExplicitPortZeroRefused(t *testing.T) {
	got := parseProblems(t, "[hosts.a]\nport = 0\n[hosts.b]\nport = 22\n")
	if !strings.Contains(got, "inv.toml:2: host a: port 0 is not between 1 and 65535") {
		t.Errorf("host port 0: %q", got)
	}
	got = parseProblems(t, "[defaults]\nport = 0\n[hosts.a]\n[hosts.b]\n")
	if !strings.Contains(got, "inv.toml:2: defaults: port 0 is not between 1 and 65535") || strings.Count(got, "\n") != 0 {
		t.Errorf("defaults port 0, want one problem: %q", got)
	}
	if got := parseProblems(t, "[hosts.a]\n[hosts.b]\nport = 2222\n"); got != "" {
		t.Errorf("unset and valid ports: %q", got)
	}
}

func TestJumpLoopRefused(t *testing.T) {
	got := parseProblems(t, "[hosts.a]\njump = \"b\"\n[hosts.b]\njump = \"a\"\n[hosts.c]\njump = \"a\"\n")
	for _, want := range []string{"inv.toml:2: host a: jump hosts form a loop: a → b → a", "inv.toml:4: host b: jump hosts form a loop: b → a → b"} {
		if !strings.Contains(got, want) {
			t.Errorf("want %q in:\n%s", want, got)
		}
	}
	if strings.Contains(got, "host c") {
		t.Errorf("c only jumps into the loop; reported twice:\n%s", got)
	}
	if got := parseProblems(t, "[hosts.a]\njump = \"b\"\n[hosts.b]\njump = \"c\"\n[hosts.c]\n"); got != "" {
		t.Errorf("a chain is no loop: %q", got)
	}
}

func TestMissingIdentityFileRefused(t *testing.T) {
	got := parseProblems(t, "[defaults]\nidentity_file = \"/nonexistent/key\"\n[hosts.a]\n[hosts.b]\n")
	if got != "inv.toml:2: defaults: identity_file /nonexistent/key: no such file" {
		t.Errorf("got %q", got)
	}
	key := t.TempDir() + "/key"
	if err := os.WriteFile(key, []byte("k"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := parseProblems(t, "[hosts.a]\nidentity_file = \""+key+"\"\n[hosts.b]\nconnection = \"local\"\nidentity_file = \"/none\"\n"); got != "" {
		t.Errorf("existing key, or a local host: %q", got)
	}
}

func TestSelectListsAndPresent(t *testing.T) {
	inv, err := Parse("inv.toml", []byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	hs, err := inv.Select("nfs,db")
	if err != nil || len(hs) != 2 || hs[0].Name != "db1" || hs[1].Name != "db2" {
		t.Fatalf("nfs,db: %v %v", hs, err)
	}
	if _, err := inv.Select("db,edge"); err == nil {
		t.Error("a list naming an unknown role is accepted")
	}
	if hs := inv.SelectPresent("edge,replica"); len(hs) != 0 {
		t.Errorf("roles no host has select %v", hs)
	}
	if hs := inv.SelectPresent("edge,nfs"); len(hs) != 1 || hs[0].Name != "db1" {
		t.Errorf("edge,nfs: %v", hs)
	}
	if l := inv.Label("db,nfs", "en"); l != "database server / db one" {
		t.Errorf("label of a list: %q", l)
	}
}

func TestSwapRoles(t *testing.T) {
	src := `
[roles.master.vars]
server_id = "master"
[roles.standby.vars]
server_id = "standby"
[hosts.p4-1]
roles = ["master"]
[hosts.p4-1.vars]
p4root = "/master"
[hosts.p4-2]
roles = ["standby"]
[hosts.p4-2.vars]
p4root = "/standby"
`
	inv, err := Parse("inv.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if err := inv.SwapRoles("master", "standby"); err != nil {
		t.Fatal(err)
	}
	m, _ := inv.Select("master")
	if len(m) != 1 || m[0].Name != "p4-2" {
		t.Fatalf("master after the swap: %v", m)
	}
	// The role's values follow the role, the host's stay with the host.
	if id, _ := inv.Field(m[0], "server_id"); id != "master" {
		t.Errorf("server_id of the new master host: %q", id)
	}
	if root, _ := inv.Field(m[0], "p4root"); root != "/standby" {
		t.Errorf("p4root of the new master host: %q", root)
	}
	if err := inv.SwapRoles("master", "edge"); err == nil {
		t.Error("a swap with a role no host has is accepted")
	}
	named, _ := Parse("inv.toml", []byte("[hosts.master]\nroles = [\"master\"]\n[hosts.b]\nroles = [\"standby\"]\n"))
	if err := named.SwapRoles("master", "standby"); err == nil || !strings.Contains(err.Error(), "also a host name") {
		t.Errorf("a host named like a role: %v", err)
	}
}

// service_address is what a host's service is reached at when that is not
// its SSH address (a P4PORT's DNS name); unset, it is the SSH address. It
// lands in command lines and in other servers' configuration, so it is
// checked: a host name or IP address, no port, protocol or option.
func TestServiceAddress(t *testing.T) {
	inv, err := Parse("i.toml", []byte(`
[hosts.a]
address = "127.0.0.21"
service_address = "p4-a.example.com"
[hosts.b]
address = "127.0.0.22"
[hosts.c]
address = "127.0.0.23"
service_address = "2001:db8::40"
`))
	if err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]string{"a": "p4-a.example.com", "b": "127.0.0.22", "c": "2001:db8::40"} {
		if v, _ := inv.Field(inv.Host(host), "service_address"); v != want {
			t.Errorf("%s: service_address %q, want %q", host, v, want)
		}
	}
	if v, _ := inv.Field(inv.Host("a"), "address"); v != "127.0.0.21" {
		t.Errorf("the SSH address changed: %q", v)
	}
	for _, bad := range []string{"-oProxyCommand=x", "p4 host", "ssl:p4", "p4:1666", "a/b", "u@p4"} {
		_, err := Parse("i.toml", []byte("[hosts.a]\naddress = \"127.0.0.21\"\nservice_address = \""+bad+"\"\n"))
		if err == nil || !strings.Contains(err.Error(), "service_address") {
			t.Errorf("service_address %q accepted: %v", bad, err)
		}
	}
}
