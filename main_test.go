package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"tejun/runbook/cli"
	"tejun/runbook/runbooktest"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/ with the current output")

// golden compares got with testdata/<TestName>.golden (subtests become
// folders), rewriting it under -update. Everything tejun prints for a person
// is pinned this way, so a change to it shows up in review as a diff.
func golden(t *testing.T, got string) {
	t.Helper()
	path := filepath.Join("testdata", filepath.FromSlash(t.Name())+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run '%s' -update to create it)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("output differs from %s (run with -update to accept):\n%s", path, diff(string(want), got))
	}
}

// diff shows the first lines that differ, enough to see what moved.
func diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(w), len(g)) && shown < 10; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			b.WriteString("line " + strconv.Itoa(i+1) + ":\n  want: " + wl + "\n  got:  " + gl + "\n")
			shown++
		}
	}
	return b.String()
}

// run drives the CLI as a shell would and returns stdout, stderr, exit code.
// Standard input is not a terminal, as in CI.
func run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	return runCtx(t, context.Background(), args...)
}

// stateDirs gives each test its own XDG_STATE_HOME, kept across the runs
// of that test (resume reads the previous run's record).
var stateDirs sync.Map

func stateDir(t *testing.T) string {
	if d, ok := stateDirs.Load(t.Name()); ok {
		return d.(string)
	}
	d := t.TempDir()
	stateDirs.Store(t.Name(), d)
	return d
}

func runCtx(t *testing.T, ctx context.Context, args ...string) (string, string, int) {
	t.Helper()
	return runIn(ctx, stateDir(t), args...)
}

// fixedClock dates the dry-run's header in golden files.
func fixedClock() time.Time { return time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC) }

// runIn runs the CLI with XDG_STATE_HOME at state and no other environment.
func runIn(ctx context.Context, state string, args ...string) (string, string, int) {
	var out, errOut bytes.Buffer
	env := func(k string) string {
		if k == "XDG_STATE_HOME" {
			return state
		}
		return ""
	}
	a := cli.New(strings.NewReader(""), &out, &errOut, cli.WithBundled(bundled), cli.WithEnv(env), cli.WithClock(fixedClock))
	code := a.Run(ctx, append([]string{"tejun"}, args...))
	return out.String(), errOut.String(), code
}

func TestDryRun(t *testing.T) {
	for _, rb := range []string{"standby", "failover"} {
		for _, args := range [][]string{
			{"--lang", "ja"},
			{"--lang", "en"},
			{"--lang", "ja", "--format", "markdown"},
			{"--lang", "en", "--format", "markdown"},
			{"--lang", "ja", "--show-exec"},
			{"--lang", "en", "--show-exec", "--format", "markdown"},
		} {
			name := rb + strings.ReplaceAll(strings.Join(args, ""), "--", "_")
			t.Run(name, func(t *testing.T) {
				out, errOut, code := run(t, append([]string{"dry-run", "examples/perforce-ha/" + rb + ".toml"}, args...)...)
				if code != 0 || errOut != "" {
					t.Fatalf("exit %d, stderr:\n%s", code, errOut)
				}
				golden(t, out)
			})
		}
	}
}

// TestDryRunOtherInventory proves nothing of the manual's example is
// hard-coded: against an inventory sharing none of its values, none of them
// may appear.
func TestDryRunOtherInventory(t *testing.T) {
	manualValues := []string{
		"192.168.56.", ":1666", "/master", "/standby", "-u super", "-u service", "perforce",
		"server standby", "-xD standby", "ReplicatingFrom: master", "-s master", "stop standby", "start standby",
		`"standby"`, `"service"`, `"master"`, "【マスターサーバで", "【スタンバイサーバで", "— on the master server", "— on the standby server",
	}
	for _, rb := range []string{"standby", "failover"} {
		for _, lang := range []string{"ja", "en"} {
			t.Run(rb+"_"+lang, func(t *testing.T) {
				out, errOut, code := run(t, "dry-run", "examples/perforce-ha/"+rb+".toml", "-i", "testdata/other-inventory.toml", "--lang", lang, "--show-exec")
				if code != 0 {
					t.Fatalf("exit %d: %s", code, errOut)
				}
				// The runbook's own file name and name say "perforce" and
				// "standby", and p4dctl's own directory (the fence renames
				// an entry there) says "perforce": not inventory values.
				body := strings.NewReplacer("examples/perforce-ha/"+rb+".toml", "", "perforce-ha-"+rb, "", "/etc/perforce/p4dctl.conf.d/", "").Replace(out)
				for _, v := range manualValues {
					if strings.Contains(body, v) {
						t.Errorf("the manual's value %q appears with another inventory:\n%s", v, around(body, v))
					}
				}
				for _, v := range []string{"10.20.30.40:4677", "/p4/2/root", "tk-commit", "os-hot", "svc_repl", "p4svc"} {
					if rb == "standby" && !strings.Contains(out, v) {
						t.Errorf("the inventory's value %q is missing", v)
					}
				}
				golden(t, out)
			})
		}
	}
}

// TestDryRunRepoint shows the failover chapter's after-failover work against
// a site with replicas: edge1 repointed as the HA manual's 参照サーバの変更
// does (p4d -cset/-cshow as the OS user, pull -lj), the admin guide's p4
// configure set on the new master, and a replica behind a DNS alias left
// alone with the reason.
func TestDryRunRepoint(t *testing.T) {
	for _, args := range [][]string{{"--lang", "ja"}, {"--lang", "en"}, {"--lang", "ja", "--format", "markdown", "--show-exec"}} {
		t.Run(strings.Join(args, "_"), func(t *testing.T) {
			out, errOut, code := run(t, append([]string{"dry-run", "examples/perforce-ha/failover.toml", "-i", "testdata/edge-inventory.toml"}, args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			for _, want := range []string{
				"sudo -u perforce p4d -r /edge1 '-cset edge1#P4TARGET=192.168.56.115:1666'",
				"sudo -u perforce p4d -r /edge1 -cshow",
				"edge1: P4TARGET = 192.168.56.115:1666",
				"p4 configure set 'edge1#P4TARGET=192.168.56.115:1666'",
				"perforce-master.example.com:1666",
			} {
				if !strings.Contains(out, want) {
					t.Errorf("missing %q", want)
				}
			}
			if strings.Contains(out, "replica-dr#P4TARGET") {
				t.Error("the replica behind a DNS alias is repointed")
			}
			golden(t, out)
		})
	}
}

// TestDryRunFailback: the same inventory with --swap-roles rebuilds the
// standby on the old master's machine (its own root and p4dctl entry,
// the standby's server ID), replicating from the new master.
func TestDryRunFailback(t *testing.T) {
	for _, lang := range []string{"ja", "en"} {
		t.Run(lang, func(t *testing.T) {
			out, errOut, code := run(t, "dry-run", "examples/perforce-ha/standby.toml", "--swap-roles", "master,standby", "--lang", lang)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			for _, want := range []string{"p4-1  root@192.168.56.114:22", "P4TARGET=192.168.56.115:1666", "P4TICKETS=/master/.p4tickets", "p4d -r /master -xD standby"} {
				if !strings.Contains(out, want) {
					t.Errorf("missing %q", want)
				}
			}
			golden(t, out)
		})
	}
	// A host named like a role cannot be swapped: a step aimed at the
	// name would change meaning.
	inv := runbooktest.Write(t, "", "inventory.toml", "[hosts.master]\nroles = [\"master\"]\n[hosts.standby]\nroles = [\"standby\"]\n")
	_, errOut, code := run(t, "dry-run", "examples/perforce-ha/standby.toml", "-i", inv, "--swap-roles", "master,standby")
	if code != 2 || !strings.Contains(errOut, `"master" is also a host name`) {
		t.Errorf("swap with hosts named like roles: exit %d, %s", code, errOut)
	}
	_, errOut, code = run(t, "dry-run", "examples/perforce-ha/standby.toml", "--swap-roles", "master,edge")
	if code != 2 || !strings.Contains(errOut, `no host has role "edge"`) {
		t.Errorf("swap with a role no host has: exit %d, %s", code, errOut)
	}
}

func around(s, v string) string {
	i := strings.Index(s, v)
	start := strings.LastIndexByte(s[:i], '\n') + 1
	end := strings.IndexByte(s[i:], '\n')
	if end < 0 {
		return s[start:]
	}
	return s[start : i+end]
}

func TestDefaultIsBundledFlagship(t *testing.T) {
	want, _, _ := run(t, "dry-run", "examples/perforce-ha/standby.toml")
	got, errOut, code := run(t, "dry-run")
	if code != 0 || got != want {
		t.Fatalf("tejun dry-run with no runbook: exit %d, stderr %q; output differs from the bundled standby.toml", code, errOut)
	}
	alias, _, _ := run(t, "run", "--dry-run", "examples/perforce-ha/standby.toml")
	if alias != want {
		t.Fatal("run --dry-run differs from dry-run")
	}
}

func TestGraph(t *testing.T) {
	for _, format := range []string{"text", "mermaid", "dot"} {
		t.Run(format, func(t *testing.T) {
			out, errOut, code := run(t, "graph", "examples/perforce-ha/standby.toml", "--format", format)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			golden(t, out)
		})
	}
}

func TestCheck(t *testing.T) {
	out, errOut, code := run(t, "check", "examples/perforce-ha/standby.toml")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden(t, out)
}

func TestUsageErrors(t *testing.T) {
	for name, args := range map[string][]string{
		"unknown_command":    {"dry-rn"},
		"bad_lang":           {"dry-run", "examples/perforce-ha/standby.toml", "--lang", "fr"},
		"bad_format":         {"dry-run", "examples/perforce-ha/standby.toml", "--format", "pdf"},
		"two_runbooks":       {"check", "a.toml", "b.toml"},
		"missing_file":       {"check", "testdata/no-such-runbook.toml"},
		"run_secret_missing": {"run", "examples/perforce-ha/standby.toml"},
		"unknown_flag":       {"dry-run", "--colour"},
	} {
		t.Run(name, func(t *testing.T) {
			out, errOut, code := run(t, args...)
			if code != cli.ExitInvalid {
				t.Errorf("exit %d, want %d", code, cli.ExitInvalid)
			}
			if out != "" {
				t.Errorf("printed to stdout on a usage error: %q", out)
			}
			golden(t, errOut)
		})
	}
}

// TestValidationErrors runs check on broken runbooks: every problem of a
// file is reported in one run, each as file:line, with exit code 2 and
// nothing on stdout. Each golden is the whole error output.
func TestValidationErrors(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid/*.toml")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".toml")
		if name == "inventory" || name == "bad-inventory" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			for _, cmd := range []string{"check", "dry-run"} {
				out, errOut, code := run(t, cmd, f)
				if code != cli.ExitInvalid {
					t.Errorf("%s: exit %d, want %d", cmd, code, cli.ExitInvalid)
				}
				if out != "" {
					t.Errorf("%s printed to stdout: %q", cmd, out)
				}
				if cmd == "check" {
					golden(t, errOut)
				}
			}
		})
	}
}

func TestDryRunMultiHost(t *testing.T) {
	for _, args := range [][]string{{"--lang", "ja"}, {"--lang", "en", "--format", "markdown", "--show-exec"}} {
		t.Run(strings.Join(args, "_"), func(t *testing.T) {
			out, errOut, code := run(t, append([]string{"dry-run", "testdata/multi-host.toml"}, args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			golden(t, out)
		})
	}
}
