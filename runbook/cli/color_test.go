package cli

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// openPTY returns the terminal end of a new pseudo-terminal.
func openPTY(t *testing.T) *os.File {
	t.Helper()
	tty, _ := openPTYPair(t)
	return tty
}

// openPTYPair returns a new pseudo-terminal's terminal end and the end
// that types into it.
func openPTYPair(t *testing.T) (tty, master *os.File) {
	t.Helper()
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skip("no pseudo-terminals:", err)
	}
	t.Cleanup(func() { ptmx.Close() })
	if err := unix.IoctlSetPointerInt(int(ptmx.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Skip("cannot unlock a pseudo-terminal:", err)
	}
	n, err := unix.IoctlGetInt(int(ptmx.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Skip("no pseudo-terminal number:", err)
	}
	tty, err = os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skip("cannot open the pseudo-terminal:", err)
	}
	t.Cleanup(func() { tty.Close() })
	return tty, ptmx
}

// NO_COLOR turns color off when it is set and not empty
// (https://no-color.org: "when present and not an empty string"), read
// from the App's environment like every other variable: NO_COLOR= in a
// wrapper script, which unsets nothing, keeps the colors.
func TestNoColorIsNonEmpty(t *testing.T) {
	tty := openPTY(t)
	for v, color := range map[string]bool{"": true, "1": false, "0": false, "false": false} {
		t.Setenv("NO_COLOR", v) // as main runs it: the process's environment
		if got := New(nil, tty, tty).colorFor(tty); got != color {
			t.Errorf("NO_COLOR=%q: color %v, want %v", v, got, color)
		}
	}
	// Tests (and anything embedding the App) set the environment with WithEnv.
	os.Unsetenv("NO_COLOR")
	a := New(nil, tty, tty, WithEnv(func(k string) string {
		if k == "NO_COLOR" {
			return "1"
		}
		return ""
	}))
	if a.colorFor(tty) {
		t.Error("WithEnv NO_COLOR=1: color")
	}
}

// TERM=dumb says the terminal takes no escape sequences (Emacs's shell,
// some CI consoles): no color, as git and ls decide, in tejun report as
// in a run.
func TestNoColorOnADumbTerminal(t *testing.T) {
	tty := openPTY(t)
	for term, color := range map[string]bool{"dumb": false, "xterm-256color": true, "": true} {
		a := New(nil, tty, tty, WithEnv(func(k string) string {
			if k == "TERM" {
				return term
			}
			return ""
		}))
		if got := a.colorFor(tty); got != color {
			t.Errorf("TERM=%q: color %v, want %v", term, got, color)
		}
	}
}

// A narrow terminal (a tmux pane of 15 columns) is drawn at its own width:
// taken for 80 columns, every live line wrapped into several rows, and
// each redraw, erasing one row a line, left the rest behind.
func TestLiveOnANarrowTerminal(t *testing.T) {
	tty := openPTY(t)
	if err := unix.IoctlSetWinsize(int(tty.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 2, Col: 15}); err != nil {
		t.Skip("cannot size the pseudo-terminal:", err)
	}
	a := New(nil, tty, tty, WithEnv(func(k string) string {
		if k == "TERM" {
			return "xterm"
		}
		return ""
	}))
	b := a.liveFor(tty)
	if b == nil {
		t.Fatal("no live display on a terminal")
	}
	if w, h := b.size(); w != 15 || h != 2 {
		t.Errorf("a 15x2 terminal taken for %dx%d", w, h)
	}
	var buf bytes.Buffer
	b.w = &buf
	b.redraw([]string{strings.Repeat("x", 40), strings.Repeat("y", 40), "z"})
	rows := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(rows) > 1 {
		t.Errorf("%d rows drawn on a terminal of 2: %q", len(rows), rows)
	}
	for _, r := range rows {
		if n := len([]rune(r)); n > 14 {
			t.Errorf("a row of %d columns on a 15-column terminal: %q", n, r)
		}
	}
}
