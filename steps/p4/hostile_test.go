package p4_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"tejun/steps"
	"tejun/steps/p4"
	"tejun/steps/stepstest"
	"tejun/transport/ssh"
	"tejun/transport/testbed"
)

// advSnapshot records, for every file under the host's roots, its type, mode,
// owner, size, content hash and link target: anything a step did outside
// the sandbox shows as a difference.
func advSnapshot(t *testing.T, h *testbed.Host, deep []string, shallow []string) map[string]string {
	t.Helper()
	out := map[string]string{}
	describe := func(p string, fi fs.FileInfo) string {
		st := fi.Sys().(*syscall.Stat_t)
		d := fmt.Sprintf("%v %o %d:%d", fi.Mode().Type(), fi.Mode().Perm()|fi.Mode()&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky), st.Uid, st.Gid)
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			d += " -> " + target
		case fi.Mode().IsRegular():
			b, _ := os.ReadFile(p)
			sum := sha256.Sum256(b)
			d += fmt.Sprintf(" %d %s", fi.Size(), hex.EncodeToString(sum[:]))
		}
		return d
	}
	for _, root := range deep {
		filepath.Walk(h.Path(root), func(p string, fi fs.FileInfo, err error) error {
			if err != nil {
				out[p] = "error " + err.Error()
				return nil
			}
			if p == h.Path("/root/adv") {
				return filepath.SkipDir
			}
			out[p] = describe(p, fi)
			return nil
		})
	}
	for _, dir := range shallow {
		fi, err := os.Lstat(h.Path(dir))
		if err != nil {
			t.Fatal(err)
		}
		out[h.Path(dir)] = describe(h.Path(dir), fi)
		entries, _ := os.ReadDir(h.Path(dir))
		for _, e := range entries {
			p := filepath.Join(h.Path(dir), e.Name())
			if fi, err := os.Lstat(p); err == nil {
				out[p] = describe(p, fi)
			}
		}
	}
	return out
}

func diffSnapshots(before, after map[string]string) []string {
	var d []string
	for p, b := range before {
		if a, ok := after[p]; !ok {
			d = append(d, "gone: "+p)
		} else if a != b {
			d = append(d, "changed: "+p+": "+b+" → "+a)
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			d = append(d, "new: "+p)
		}
	}
	sort.Strings(d)
	return d
}

// TestHostileValuesDoOnlyWhatTheyName runs every registered kind's Check
// and Apply with hostile values on a real sshd host, logged in as root,
// and then looks inside the host: a canary tree in the login's home, in /
// and /etc must be exactly as it was, and no marker a shell would have
// created may exist. A value is either refused by Validate or reaches its
// program as exactly the name of a thing in the sandbox.
func TestHostileValuesDoOnlyWhatTheyName(t *testing.T) {
	b := testbed.Start(t, "adv")
	h := b.Hosts[0]
	sim := testbed.P4Sim(t)
	h.Install(t, sim, "p4", "p4d", "p4dctl")
	for _, tool := range []string{"systemctl", "mount", "findmnt"} {
		h.Install(t, "../../testdata/stand-ins/"+tool)
	}
	for _, d := range []string{"/root/canary/sub", "/root/canary/-rf", "/canary-top", stepstest.Sandbox} {
		if err := os.MkdirAll(h.Path(d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"/root/keep.txt", "/root/canary/a.txt", "/root/canary/-delete", "/root/canary/*", "/root/canary/sub/b.txt", "/canary-top/x", "/root/canary/-rf/c"} {
		if err := os.WriteFile(h.Path(f), []byte("canary "+f+"\n"), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("/etc/passwd", h.Path("/root/canary/link")); err != nil {
		t.Fatal(err)
	}
	local := t.TempDir()
	if err := os.WriteFile(filepath.Join(local, "upload.txt"), []byte("upload\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := ssh.Dial(context.Background(), ssh.Config{Name: h.Name, Address: h.Address, Port: h.Port, User: "root",
		IdentityFiles: []string{b.KeyFile}, KnownHosts: []string{b.KnownHosts}, AgentSocket: "/nonexistent"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	env := &stepstest.HostEnv{Conn: c, Local: local}
	deep, shallow := []string{"/root", "/canary-top", "/etc"}, []string{"/", "/home", "/usr/local/bin"}
	reg := steps.NewRegistry(append(steps.Generic(), p4.Kinds()...)...)
	for _, name := range reg.Names() {
		if _, ok := stepstest.Fixups[name]; !ok {
			t.Errorf("kind %s has no entry in stepstest.Fixups: say how hostile values reach it", name)
		}
	}
	ctx := context.Background()
	for _, name := range reg.Names() {
		fix, ok := stepstest.Fixups[name]
		if !ok {
			continue
		}
		kind, _ := reg.Lookup(name)
		before := advSnapshot(t, h, deep, shallow)
		ran := 0
		for _, variant := range []string{"raw", "abs", "names"} {
			for _, v := range stepstest.HostilePayloads {
				s := kind.New()
				stepstest.FillHostile(s, variant, v)
				if fix != nil {
					fix(s, variant, v, filepath.Join(local, "upload.txt"))
				}
				if val, ok := s.(steps.Validator); ok && len(val.Validate()) > 0 {
					continue // refused: nothing runs
				}
				r, ok := s.(steps.Runner)
				if !ok {
					continue
				}
				ran++
				// A deadline, not a timing: a check that hangs (cat on a
				// FIFO) fails here instead of stopping the suite.
				ictx, cancel := context.WithTimeout(ctx, time.Minute)
				if _, err := r.Check(ictx, env); ictx.Err() != nil {
					t.Errorf("%s %s %q: the check hung: %v", name, variant, v, err)
				}
				if _, manual := s.(*steps.Manual); !manual {
					r.Apply(ictx, env)
				}
				cancel()
			}
		}
		if diff := diffSnapshots(before, advSnapshot(t, h, deep, shallow)); len(diff) > 0 {
			t.Errorf("%s with hostile values changed the host outside the sandbox:\n%s", name, strings.Join(diff, "\n"))
		}
		t.Logf("%s: %d hostile instances ran", name, ran)
	}
	markers, _ := filepath.Glob(h.Path("/tmp/pwned-*"))
	if len(markers) > 0 {
		t.Errorf("a hostile value was run by a shell: %v", markers)
	}
}
