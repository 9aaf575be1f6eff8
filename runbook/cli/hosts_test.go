package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tejun/runbook/runbooktest"
)

// TestShowConfig: hosts --show-config prints what ssh_config (given by -F
// or $TEJUN_SSH_CONFIG) makes of each host, Host blocks matching the
// inventory name, and the inventory winning only where it writes a value.
func TestShowConfig(t *testing.T) {
	dir := t.TempDir()
	// The inventory's identity file must exist: a missing one is a load
	// error.
	os.MkdirAll(filepath.Join(dir, "keys"), 0o700)
	os.WriteFile(filepath.Join(dir, "keys", "web"), []byte("key"), 0o600)
	cfg := filepath.Join(dir, "ssh_config")
	os.WriteFile(cfg, []byte(`
Host db
  HostName 10.0.0.5
  Port 2200
  User dba
  ProxyJump ops@bastion:2222
Host 10.0.0.6
  Port 9
Host *
  Port 2201
  ConnectTimeout 7
`), 0o600)
	inv := runbooktest.Write(t, dir, "inventory.toml", `
[hosts.db]
[hosts.web]
address = "10.0.0.6"
port = 2300
user = "deploy"
identity_file = "`+filepath.Join(dir, "keys", "web")+`"
[hosts.app]
address = "10.0.0.6"
`)
	show := func(env map[string]string, args ...string) string {
		var out, errb bytes.Buffer
		a := New(nil, &out, &errb, WithEnv(func(k string) string { return env[k] }))
		if code := a.Run(context.Background(), append([]string{"tejun"}, args...)); code != 0 {
			t.Fatalf("exit %d: %s%s", code, out.String(), errb.String())
		}
		return out.String()
	}
	out := show(nil, "-F", cfg, "hosts", "-i", inv, "--show-config")
	blocks := map[string]string{}
	for _, b := range strings.Split(out, "\n\n") {
		name, _, _ := strings.Cut(strings.TrimPrefix(b, "host "), "\n")
		blocks[name] = b + "\n"
	}
	for host, want := range map[string][]string{
		"db":  {"hostname 10.0.0.5\n", "port 2200\n", "user dba\n", "proxyjump ops@bastion:2222\n", "jump.user ops\n", "connecttimeout 7\n"},
		"web": {"hostname 10.0.0.6\n", "port 2300\n", "user deploy\n", "identityfile " + filepath.Join(dir, "keys/web") + "\n", "proxyjump none\n"},
		// Host 10.0.0.6 does not match: blocks match the name, not the address.
		"app": {"hostname 10.0.0.6\n", "port 2201\n"},
	} {
		for _, w := range want {
			if !strings.Contains(blocks[host], w) {
				t.Errorf("%s: no %q in\n%s", host, w, blocks[host])
			}
		}
	}
	if env := show(map[string]string{"TEJUN_SSH_CONFIG": cfg}, "hosts", "-i", inv, "--show-config"); env != out {
		t.Errorf("TEJUN_SSH_CONFIG gave\n%s\n-F gave\n%s", env, out)
	}
}
