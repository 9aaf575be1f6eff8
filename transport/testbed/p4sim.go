package testbed

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var sim struct {
	once sync.Once
	path string
	err  error
}

// P4Sim builds testdata/p4sim, the Perforce simulator a host installs as
// p4, p4d and p4dctl, once per test binary. By import path, so that tests
// of any package (the root's end-to-end tests, steps/p4's) build the same
// one.
func P4Sim(t testing.TB) string {
	t.Helper()
	sim.once.Do(func() {
		dir, err := os.MkdirTemp("", "tejun-p4sim-")
		if err != nil {
			sim.err = err
			return
		}
		sim.path = filepath.Join(dir, "p4sim")
		cmd := exec.Command("go", "build", "-o", sim.path, "tejun/testdata/p4sim")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			sim.err = fmt.Errorf("build p4sim: %v\n%s", err, out)
		}
	})
	if sim.err != nil {
		t.Fatal(sim.err)
	}
	return sim.path
}
