package main

import (
	"crypto/ed25519"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"tejun/runbook/runbooktest"
	"tejun/transport/testbed"
)

// An encrypted identity with no agent is asked for on the terminal, as ssh
// asks ("Enter passphrase for key '...': "), once per key; off a terminal,
// or with CI set, it is never asked and the host is refused saying why.
// script(1) gives the binary a real pseudo-terminal.
func TestPassphrasePromptOnTerminal(t *testing.T) {
	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("needs script(1) from util-linux for a pseudo-terminal")
	}
	b := testbed.Start(t, "pp1", "pp2")
	inv := encryptedKeyInventory(t, b, "open sesame")
	bin := tejunBinary(t)
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "TERM=dumb", "SSH_AUTH_SOCK="}

	// On a terminal: asked once for the key both hosts use, then both answer.
	cmd := exec.Command(script, "-qec", bin+" hosts -i "+inv, "/dev/null")
	cmd.Env = env
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "Enter passphrase for key") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	io.WriteString(stdin, "open sesame\n")
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("tejun hosts did not end:\n%s", out.String())
	}
	got := out.String()
	if err != nil || strings.Count(got, "Enter passphrase for key") != 1 || strings.Contains(got, "open sesame") {
		t.Fatalf("on a terminal (%v), want one prompt, both hosts reached, the passphrase not echoed:\n%s", err, got)
	}
	for _, h := range []string{"pp1", "pp2"} {
		if !strings.Contains(got, h) {
			t.Errorf("%s missing from:\n%s", h, got)
		}
	}

	// Off a terminal, and on one with CI set: never asked.
	for _, c := range []struct {
		name string
		cmd  *exec.Cmd
	}{
		{"piped", exec.Command(bin, "hosts", "-i", inv)},
		{"CI", exec.Command(script, "-qec", bin+" hosts -i "+inv, "/dev/null")},
	} {
		c.cmd.Env = env
		if c.name == "CI" {
			c.cmd.Env = append(env, "CI=true")
		}
		c.cmd.Stdin = strings.NewReader("open sesame\n")
		o, err := c.cmd.CombinedOutput()
		if err == nil || strings.Contains(string(o), "Enter passphrase") || !strings.Contains(string(o), "passphrase") {
			t.Errorf("%s: want a refusal naming the passphrase and no prompt (%v):\n%s", c.name, err, o)
		}
	}
}

// encryptedKeyInventory is an inventory of b's hosts whose identity is b's
// key encrypted with passphrase.
func encryptedKeyInventory(t *testing.T, b *testbed.Bed, passphrase string) string {
	t.Helper()
	raw, err := os.ReadFile(b.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ssh.ParseRawPrivateKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	priv, ok := k.(*ed25519.PrivateKey)
	if !ok {
		t.Skipf("the test-bed key is a %T; this test encrypts ed25519 keys", k)
	}
	block, err := ssh.MarshalPrivateKeyWithPassphrase(*priv, "", []byte(passphrase))
	if err != nil {
		t.Fatal(err)
	}
	enc := filepath.Join(t.TempDir(), "id_enc")
	if err := os.WriteFile(enc, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	inv := inventoryFor(t, b, "", nil)
	runbooktest.Edit(t, inv, fmt.Sprintf("identity_file = %q", b.KeyFile), fmt.Sprintf("identity_file = %q", enc))
	return inv
}

// The passphrase question comes while the live display says it is
// connecting: the spinner's redraws must not erase it (they clear from the
// block's top to the end of the screen, the question's line included).
func TestPassphrasePromptNotOverwrittenByTheLiveDisplay(t *testing.T) {
	b := testbed.Start(t, "pl1")
	inv := encryptedKeyInventory(t, b, "open sesame")
	rb := runbooktest.Write(t, "", "runbook.toml", `
[runbook]
name = "pp"
[[section]]
id = "s"
on = "pl1"
title.en = "s"
[[section.step]]
id = "hello"
kind = "command"
title.en = "hello"
argv = ["true"]
`)
	term := newTerminal(t, "env -u CI SSH_AUTH_SOCK= "+tejunCommand(t, "run", rb, "-i", inv, "--lang", "en"))
	asked := term.waitFor(20*time.Second, "the passphrase question", func(s string) bool {
		return strings.Contains(s, "Enter passphrase for key")
	})
	time.Sleep(5 * spinEvery())
	if s := term.screen(); !strings.Contains(s, "Enter passphrase for key") || !strings.HasSuffix(s, "':") {
		t.Fatalf("the question was drawn over:\nwhen asked:\n%s\nnow:\n%s", asked, s)
	}
	term.keys("open sesame", "Enter")
	end := term.waitFor(20*time.Second, "the run to end", func(s string) bool { return strings.Contains(s, "EXIT=") })
	if !strings.Contains(end, "EXIT=0") || strings.Contains(term.history(), "open sesame") {
		t.Errorf("run with the passphrase typed:\n%s", term.history())
	}
}
