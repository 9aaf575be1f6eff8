package local_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tejun/transport"
	"tejun/transport/local"
)

func TestLocal(t *testing.T) {
	var c transport.Conn = local.Conn{}
	ctx := context.Background()
	out, err := transport.Output(ctx, c, transport.Cmd{Argv: []string{"printf", "%s", "$(id) ;"}}, nil)
	if err != nil || out != "$(id) ;" {
		t.Fatalf("%q %v", out, err)
	}
	out, err = transport.Output(ctx, c, transport.Cmd{Argv: []string{"cat"}}, strings.NewReader("stdin"))
	if err != nil || out != "stdin" {
		t.Fatalf("stdin: %q %v", out, err)
	}
	err = c.Run(ctx, transport.Cmd{Shell: "echo bad >&2; exit 5"}, transport.Stdio{})
	var ee *transport.ExitError
	if !errors.As(err, &ee) || ee.Code != 5 || ee.Stderr != "bad" {
		t.Fatalf("exit: %#v", err)
	}
	cctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := c.Run(cctx, transport.Cmd{Shell: "sleep 30 & sleep 30"}, transport.Stdio{}); !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 4*time.Second {
		t.Fatalf("cancel: %v after %v", err, time.Since(start))
	}

	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	f := c.(transport.Files)
	sum, err := f.WriteFile(ctx, p, strings.NewReader("hello"), transport.WriteOptions{Mode: 0o600})
	if err != nil || sum != "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824" {
		t.Fatalf("write: %s %v", sum, err)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode())
	}
	var sb strings.Builder
	if got, err := f.ReadFile(ctx, p, &sb, ""); err != nil || got != sum || sb.String() != "hello" {
		t.Fatalf("read: %s %q %v", got, sb.String(), err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
}

// A local command gets a clean environment: the operator's secrets, kept
// in tejun's environment, are not visible to it.
func TestLocalCleanEnvironment(t *testing.T) {
	t.Setenv("TEJUN_SECRET_PW", "hunter2-in-env")
	t.Setenv("P4PASSWD", "also-secret")
	t.Setenv("PATH", t.TempDir()+":"+os.Getenv("PATH"))
	out, err := transport.Output(context.Background(), local.Conn{}, transport.Cmd{Argv: []string{"env"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "hunter2") || strings.Contains(out, "also-secret") {
		t.Errorf("a secret variable reached a local command:\n%s", out)
	}
	for _, want := range []string{"PATH=/usr/bin:/bin:/usr/sbin:/sbin\n", "LC_ALL=C\n", "HOME="} {
		if !strings.Contains(out, want) {
			t.Errorf("environment lacks %q:\n%s", want, out)
		}
	}
}
