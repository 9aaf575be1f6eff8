package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tejun/runbook/runbooktest"
	"tejun/transport/testbed"
)

// TestHostsThroughSSHConfig: an inventory that names its hosts and nothing
// else reaches them as the operator's ssh would, through the file -F names:
// HostName, Port, User and IdentityFile all come from there, matched by
// the inventory's host name.
func TestHostsThroughSSHConfig(t *testing.T) {
	b := testbed.Start(t, "n1", "n2")
	n1, n2 := b.Host("n1"), b.Host("n2")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "ssh_config")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`Host n1
  HostName %s
  Port %d
Host n2
  HostName %s
  Port %d
  User ops
Host *
  User root
  IdentityFile %s
  UserKnownHostsFile %s
  GlobalKnownHostsFile none
  IdentityAgent none
`, n1.Address, n1.Port, n2.Address, n2.Port, b.KeyFile, b.KnownHosts)), 0o600)
	inv := runbooktest.Write(t, dir, "inventory.toml", "[hosts.n1]\n[hosts.n2]\n")
	out, errOut, code := run(t, "-F", cfg, "hosts", "-i", inv)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{n1.Addr() + "  ok", n2.Addr() + "  ok", "not needed (root)", "ok (root)"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
}
