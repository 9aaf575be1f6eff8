package app

import (
	"bytes"
	"os"
	"testing"
)

func TestColorOnlyOnTerminals(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	a := New(nil, w, w, WithEnv(func(string) string { return "" }))
	if a.colorFor(w) {
		t.Error("color on a pipe")
	}
	if a.colorFor(&bytes.Buffer{}) {
		t.Error("color into a buffer")
	}
	tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0)
	if err != nil {
		t.Skip("no terminal to test the positive case:", err)
	}
	defer tty.Close()
	if !a.colorFor(tty) {
		t.Error("no color on a terminal")
	}
	noColor := New(nil, tty, tty, WithEnv(func(k string) string {
		if k == "NO_COLOR" {
			return "1"
		}
		return ""
	}))
	if noColor.colorFor(tty) {
		t.Error("color on a terminal despite NO_COLOR")
	}
}

func TestInterspersedFlags(t *testing.T) {
	a := New(nil, nil, nil)
	got := interspersed(a.cli(), []string{"tejun", "dry-run", "rb.toml", "--lang", "en", "--show-exec", "-i", "inv.toml", "--", "-x"})
	want := []string{"tejun", "dry-run", "--lang", "en", "--show-exec", "-i", "inv.toml", "rb.toml", "--", "-x"}
	if len(got) != len(want) {
		t.Fatalf("got %q", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
}
