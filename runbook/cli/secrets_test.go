package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tejun/runbook"
)

// A secret file that others can read is refused, as OpenSSH refuses an
// unprotected private key: the secret has already leaked to them, and
// using it would hide that. The error says how to fix it and never
// holds the value. A file another user owns and shares with a group
// (root:ssl-cert 0640) is that owner's choice, as for OpenSSH, unless
// everyone can read it.
func TestSecretFileOthersCanRead(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("s3cret-value\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a := New(nil, nil, nil, WithEnv(func(k string) string {
		if k == "PW" {
			return "from-env"
		}
		return ""
	}))
	private := write("private", 0o600)
	for _, tc := range []struct {
		name, file string
		s          runbook.Secret
		want       string // "" = s3cret-value
	}{
		{"--secret 0600", private, runbook.Secret{Name: "pw"}, ""},
		{"--secret 0400", write("ro", 0o400), runbook.Secret{Name: "pw"}, ""},
		{"--secret 0644", write("world", 0o644), runbook.Secret{Name: "pw"}, "chmod go-rwx " + filepath.Join(dir, "world")},
		{"--secret 0640", write("group", 0o640), runbook.Secret{Name: "pw"}, "chmod go-rwx " + filepath.Join(dir, "group")},
		{"--secret 0602", write("w", 0o602), runbook.Secret{Name: "pw"}, "chmod go-rwx"},
		{"declared 0644", "", runbook.Secret{Name: "pw", Env: "NONE", File: filepath.Join(dir, "world")}, "chmod go-rwx"},
		{"declared 0600", "", runbook.Secret{Name: "pw", File: private}, ""},
		{"declared missing, env", "", runbook.Secret{Name: "pw", Env: "PW", File: filepath.Join(dir, "none")}, "from-env"},
	} {
		v, err := a.secret(&tc.s, tc.file)
		switch {
		case tc.want == "" && (err != nil || string(v) != "s3cret-value"):
			t.Errorf("%s: %q, %v; want the value", tc.name, v, err)
		case tc.want == "from-env" && (err != nil || string(v) != "from-env"):
			t.Errorf("%s: %q, %v; want the env value", tc.name, v, err)
		case tc.want != "" && tc.want != "from-env" && (err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "readable")):
			t.Errorf("%s: %q, %v; want refused, saying %q", tc.name, v, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: the error shows the secret: %v", tc.name, err)
		}
	}
	if os.Geteuid() != 0 {
		return
	}
	// Another user's file shared with a group is read; shared with
	// everyone it is refused.
	group := write("ssl-cert", 0o640)
	world := write("others", 0o644)
	for _, p := range []string{group, world} {
		if err := os.Chown(p, 65534, 65534); err != nil {
			t.Fatal(err)
		}
	}
	if v, err := a.secret(&runbook.Secret{Name: "pw"}, group); err != nil || string(v) != "s3cret-value" {
		t.Errorf("another user's 0640 file: %q, %v; want the value", v, err)
	}
	if _, err := a.secret(&runbook.Secret{Name: "pw"}, world); err == nil || !strings.Contains(err.Error(), "readable by everyone") {
		t.Errorf("another user's 0644 file: %v; want refused", err)
	}
}
