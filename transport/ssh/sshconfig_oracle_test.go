package ssh

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestSSHConfigOracle: for every case of testdata/sshconfig, tejun's own
// parser (the fallback when ssh is not installed) resolves each query to
// the settings real `ssh -G` gives, for every field tejun uses.
func TestSSHConfigOracle(t *testing.T) {
	sshPath, err := exec.LookPath("ssh")
	if err != nil {
		t.Skip("the ssh-config oracle needs the OpenSSH client (apt-get install openssh-client)")
	}
	dir, err := filepath.Abs("testdata/sshconfig")
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.conf"))
	if len(files) < 35 {
		t.Fatalf("%d cases in %s, want at least 35", len(files), dir)
	}
	queries := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		text := strings.ReplaceAll(string(data), "@DIR@", dir)
		cfgFile := filepath.Join(t.TempDir(), "config")
		if err := os.WriteFile(cfgFile, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(text, "\n") {
			q, ok := strings.CutPrefix(line, "# query: ")
			if !ok {
				continue
			}
			queries++
			req := parseQuery(t, q)
			name := filepath.Base(f) + " " + q
			want, werr := (&UserConfig{File: cfgFile, SSH: sshPath}).Resolve(req)
			got, gerr := (&UserConfig{File: cfgFile}).Resolve(req)
			if werr != nil || gerr != nil {
				// A configuration ssh refuses must be refused too.
				if (werr == nil) != (gerr == nil) {
					t.Errorf("%s:\n  ssh -G: %v\n  tejun:  %v", name, werr, gerr)
				}
				continue
			}
			w, g := byKey(want.Describe()), byKey(got.Describe())
			for k := range merged(w, g) {
				if w[k] != g[k] {
					t.Errorf("%s: %s\n  ssh -G: %q\n  tejun:  %q", name, k, w[k], g[k])
				}
			}
		}
	}
	if queries < 35 {
		t.Errorf("%d queries, want at least 35", queries)
	}
}

func parseQuery(t *testing.T, q string) Request {
	var r Request
	for _, w := range strings.Fields(q) {
		k, v, _ := strings.Cut(w, "=")
		switch k {
		case "name":
			r.Name = v
		case "address":
			r.Address = v
		case "port":
			r.Port, _ = strconv.Atoi(v)
		case "user":
			r.User = v
		case "identity":
			r.IdentityFile = v
		case "jump":
			r.Jump = v
		case "nojump":
			r.NoJump = true
		case "hostkey":
			r.HostKey = v
		case "knownhosts":
			r.KnownHosts = v
		default:
			t.Fatalf("query %q: unknown %q", q, k)
		}
	}
	return r
}

func byKey(lines []string) map[string]string {
	m := map[string]string{}
	for _, l := range lines {
		k, v, _ := strings.Cut(l, " ")
		if m[k] != "" {
			v = m[k] + "\n" + v
		}
		m[k] = v
	}
	return m
}

func merged(a, b map[string]string) map[string]bool {
	m := map[string]bool{}
	for k := range a {
		m[k] = true
	}
	for k := range b {
		m[k] = true
	}
	return m
}
