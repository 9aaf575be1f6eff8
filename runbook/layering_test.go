package runbook_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The model (runbook) and the dry-run writer (runbook/render) must not be
// able to reach a host: rendering a procedure cannot dial, by
// construction. go list says what they are built from.
//
// Package transport holds only what describes a command (Cmd, quoting,
// sudo, the C locale, errors, the Conn interface); the SSH client and the
// local connection are transport/ssh and transport/local. So no exemption:
// neither root may be built with a client package at any depth, and no
// tejun package they are built with may import a network or process
// package itself.

// clientPkgs are the packages that reach a host, at any depth.
var clientPkgs = []string{"golang.org/x/crypto/ssh", "golang.org/x/crypto/ssh/agent", "golang.org/x/crypto/ssh/knownhosts",
	"github.com/pkg/sftp", "github.com/skeema/knownhosts", "tejun/transport/ssh", "tejun/transport/local"}

// directPkgs may be in the standard library's own dependencies (net is
// under net/url), but no tejun package of the model may import them.
var directPkgs = []string{"net", "os/exec"}

// forbidden are tejun packages the model and the renderers must never be
// built with: the walk, the hosts it holds (pool, Env, lock, plan gate),
// the CLI, the fakes and the test-bed.
var forbidden = []string{"tejun/runbook/run", "tejun/runbook/host", "tejun/runbook/cli", "tejun/transport/transporttest", "tejun/transport/testbed"}

// below says what the lower layers of a run may not be built with: the
// hosts (runbook/host) know nothing of the walk that uses them, so an Env
// can be read and tested without the executor; the graph and its walk
// (runbook/dag) know nothing of steps, hosts or tejun at all.
var below = map[string]func(pkg string) bool{
	"tejun/runbook/host": func(pkg string) bool {
		return slices.Contains([]string{"tejun/runbook/run", "tejun/runbook/cli", "tejun/runbook/render", "tejun/runbook/dag"}, pkg)
	},
	"tejun/runbook/dag": func(pkg string) bool { return strings.HasPrefix(pkg, "tejun/") && pkg != "tejun/runbook/dag" },
}

func TestLayersBelowTheWalk(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool to list packages with")
	}
	for root, bad := range below {
		out, err := exec.Command(gobin, "list", "-deps", "-f", "{{.ImportPath}}", root).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", root, err, out)
		}
		for _, pkg := range strings.Fields(string(out)) {
			if bad(pkg) {
				t.Errorf("%s is built with %s", root, pkg)
			}
		}
	}
}

func TestLayering(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool to list packages with")
	}
	for _, root := range []string{"tejun/runbook", "tejun/runbook/render"} {
		out, err := exec.Command(gobin, "list", "-deps", "-f", `{{.ImportPath}}:{{join .Imports " "}}`, root).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", root, err, out)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			pkg, imports, _ := strings.Cut(line, ":")
			deps := strings.Fields(imports)
			if slices.Contains(forbidden, pkg) {
				t.Errorf("%s is built with %s", root, pkg)
			}
			for _, d := range deps {
				if slices.Contains(clientPkgs, d) || strings.HasPrefix(pkg, "tejun/") && slices.Contains(directPkgs, d) {
					t.Errorf("%s reaches %s through %s: the model and the dry-run cannot touch a host", root, d, pkg)
				}
			}
		}
	}
}
