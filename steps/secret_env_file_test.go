package steps

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
)

// A secrets file may not be readable by others, and its check compares
// hashes: the secret never comes back over the wire nor into a reason.
func TestSecretEnvFile(t *testing.T) {
	s := &SecretEnvFile{Path: "/root/.keys", Mode: "0644", Exports: []string{"AWS_SECRET_KEY = aws_secret_key"}}
	if ps := s.Validate(); len(ps) != 1 || ps[0].Key != "mode" {
		t.Errorf("mode 0644 for secrets: problems %v", ps)
	}
	s.Mode = ""
	want := "export AWS_SECRET_KEY='s3cr$t'\\''x'\n"
	sum := sha256.Sum256([]byte(want))
	var ran []string
	env := secretEnv{scriptEnv{func(argv []string) (string, error) {
		ran = append(ran, strings.Join(argv, " "))
		if argv[0] == "sha256sum" {
			return hex.EncodeToString(sum[:]) + "  /root/.keys\n", nil
		}
		if argv[0] == "sh" { // the look that refuses what is not a regular file
			return "file 40 root root 600\n", nil
		}
		return "", fmt.Errorf("unexpected command %q", argv)
	}}}
	st, err := s.Check(context.Background(), env)
	if err != nil || !st.Done {
		t.Fatalf("the file holding the shell-quoted secret is not done: %v %v", st, err)
	}
	for _, r := range append(ran, st.Reason) {
		if strings.Contains(r, "s3cr") {
			t.Errorf("the secret reached %q", r)
		}
	}
	if d := s.Describe("en"); strings.Contains(strings.Join(d.Blocks[0].Lines, "\n"), "s3cr") {
		t.Error("the dry-run shows the secret")
	}
}

type secretEnv struct{ scriptEnv }

func (secretEnv) Secret(name string) ([]byte, error) { return []byte("s3cr$t'x"), nil }
