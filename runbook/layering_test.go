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
// built with: the walk, the hosts it holds, the CLI, the fakes and the
// test-bed. runbook/host does not exist yet (the pool, Env, lock and plan
// gate still live in runbook/run); it is listed so that the package the
// issue 11 layout gives them cannot become a dependency unnoticed.
var forbidden = []string{"tejun/runbook/run", "tejun/runbook/host", "tejun/runbook/cli", "tejun/transport/transporttest", "tejun/transport/testbed"}

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
