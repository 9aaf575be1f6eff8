package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"tejun/runbook/runbooktest"
	"tejun/transport/testbed"
)

// What an operator sees of a run: on a terminal, live lines redrawn in
// place (driven here through tmux, a real terminal); piped, plain lines
// each stamped with the time.

// liveRunbook has one step that prints a line, then works for a while.
const liveRunbook = `
[runbook]
name = "slow"
[[section]]
id = "s"
on = "nodes"
title.en = "s"
[[section.step]]
id = "prepare"
kind = "command"
title.en = "prepare"
argv = ["true"]
[[section.step]]
id = "restore"
kind = "command"
title.en = "restore the depot"
needs = ["prepare"]
argv = ["sh", "-c", "touch /tmp/started; echo restoring halfway; sleep 3; echo restored"]
`

// normalise takes what changes from run to run out of plain output.
func normalise(out string) string {
	out = stamp.ReplaceAllString(out, "TIME ")
	out = regexp.MustCompile(`\d+\.\d\ds\b`).ReplaceAllString(out, "N.NNs")
	return regexp.MustCompile(`in \d+\.\ds:`).ReplaceAllString(out, "in N.Ns:")
}

// Off a terminal every line but the blank one before the summary carries
// the time, a step's start is said when it happens, and -v output comes
// line by line; nothing is ever redrawn.
func TestPlainOutput(t *testing.T) {
	b := testbed.Start(t, "n1")
	inv := inventoryFor(t, b, "", nil)
	rb := runbooktest.Write(t, "", "runbook.toml", liveRunbook)
	out, errOut, code := run(t, "run", rb, "-i", inv, "-v")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if l != "" && !stamp.MatchString(l) {
			t.Errorf("line without a time: %q", l)
		}
	}
	if strings.Contains(out, "\x1b") || strings.Contains(out, "\r") {
		t.Errorf("plain output redraws or styles:\n%q", out)
	}
	golden(t, normalise(out))
}

// terminal is a tmux session: a real terminal, 120 columns by 30 rows,
// running one shell command.
type terminal struct {
	t      *testing.T
	socket string
}

func newTerminal(t *testing.T, command string) *terminal {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("the live display is tested on a terminal made by tmux, which is not installed (apt-get install tmux)")
	}
	term := &terminal{t: t, socket: fmt.Sprintf("tejun-test-%d-%d", os.Getpid(), time.Now().UnixNano())}
	// The shell stays after tejun exits so the screen can be read, and
	// says how tejun exited; a Ctrl-C is tejun's (a trap, unlike an
	// ignored signal, is not inherited).
	script := "trap 'true' INT; " + command + "; echo EXIT=$?; sleep 600"
	if out, err := term.tmux("-f", "/dev/null", "new-session", "-d", "-s", "t", "-x", "120", "-y", "30", "sh", "-c", script); err != nil {
		t.Fatalf("tmux: %v\n%s", err, out)
	}
	t.Cleanup(func() { term.tmux("kill-server") })
	return term
}

func (term *terminal) tmux(args ...string) (string, error) {
	out, err := exec.Command("tmux", append([]string{"-L", term.socket}, args...)...).CombinedOutput()
	return string(out), err
}

// screen is what the terminal shows now, trailing blank lines dropped.
func (term *terminal) screen() string {
	out, err := term.tmux("capture-pane", "-p", "-t", "t")
	if err != nil {
		term.t.Fatalf("capture-pane: %v\n%s", err, out)
	}
	return strings.TrimRight(out, "\n ")
}

// history is everything the terminal has shown, scrolled-off lines too.
func (term *terminal) history() string {
	out, _ := term.tmux("capture-pane", "-p", "-t", "t", "-S", "-")
	return strings.TrimRight(out, "\n ")
}

func (term *terminal) keys(keys ...string) {
	if out, err := term.tmux(append([]string{"send-keys", "-t", "t"}, keys...)...); err != nil {
		term.t.Fatalf("send-keys: %v\n%s", err, out)
	}
}

// waitFor polls the screen until ok holds or within passes.
func (term *terminal) waitFor(within time.Duration, what string, ok func(screen string) bool) string {
	term.t.Helper()
	deadline := time.Now().Add(within)
	for {
		s := term.screen()
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			term.t.Fatalf("waited %s for %s; the screen:\n%s", within, what, s)
		}
		time.Sleep(30 * time.Millisecond)
	}
}

// command is the shell line running tejun with its own state directory.
func tejunCommand(t *testing.T, args ...string) string {
	words := []string{"env", "XDG_STATE_HOME=" + stateDir(t), tejunBinary(t)}
	for _, a := range args {
		words = append(words, "'"+strings.ReplaceAll(a, "'", `'\''`)+"'")
	}
	return strings.Join(words, " ")
}

var spinning = regexp.MustCompile(`(?m)^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] \S+\s+restore\s+n1\s+(\d+\.\d)s`)

// A step's live line shows within a second of the step starting, its
// clock runs, -v output appears as the host prints it, and when the step
// ends its line is replaced by the finished one.
func TestLiveProgress(t *testing.T) {
	b := testbed.Start(t, "n1")
	inv := inventoryFor(t, b, "", nil)
	rb := runbooktest.Write(t, "", "runbook.toml", liveRunbook)
	started := b.Host("n1").Path("/tmp/started")
	term := newTerminal(t, tejunCommand(t, "run", rb, "-i", inv, "-v", "--lang", "en"))

	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(started); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the step did not start; the screen:\n%s", term.screen())
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The command is running on the host: its line must be up by now or
	// within the second.
	first := term.waitFor(time.Second, "the running step's live line", spinning.MatchString)
	term.waitFor(2*time.Second, "-v output while the command runs", func(s string) bool {
		return strings.Contains(s, "restore n1 | restoring halfway") && spinning.MatchString(s) && !strings.Contains(s, "| restored")
	})
	later := term.waitFor(3*time.Second, "the clock to move", func(s string) bool {
		m := spinning.FindStringSubmatch(s)
		return m != nil && m[1] != spinning.FindStringSubmatch(first)[1]
	})
	if strings.Count(later, "restore  ") > 1 {
		t.Errorf("the live line was drawn twice, not in place:\n%s", later)
	}
	end := term.waitFor(15*time.Second, "the run to end", func(s string) bool { return strings.Contains(s, "EXIT=") })
	if !strings.Contains(end, "EXIT=0") || !regexp.MustCompile(`(?m)^\S+\s+restore\s+n1\s+changed`).MatchString(end) {
		t.Errorf("run did not finish well:\n%s", end)
	}
	if regexp.MustCompile(`[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]`).MatchString(end) {
		t.Errorf("a live line is left on the screen after the run:\n%s", end)
	}
	if stamp.MatchString(end) {
		t.Errorf("a terminal gets timestamps meant for logs:\n%s", end)
	}
}

// Two hosts want an answer at once: one question is on the screen at a
// time, the live lines never draw over it, and each host gets its own
// answer.
func TestLivePrompts(t *testing.T) {
	b := testbed.Start(t, "n1", "n2")
	inv := inventoryFor(t, b, "", nil)
	for _, h := range b.Hosts {
		os.MkdirAll(h.Path("/standby"), 0o755)
		os.WriteFile(h.Path("/standby/db.have"), []byte("data"), 0o644)
	}
	rb := runbooktest.Write(t, "", "runbook.toml", `
[runbook]
name = "destroy"
[[section]]
id = "s"
on = "nodes"
title.en = "s"
[[section.step]]
id = "wipe"
kind = "remove"
title.en = "remove the database"
dir = "/standby"
paths = ["db.*"]
`)
	term := newTerminal(t, tejunCommand(t, "run", rb, "-i", inv, "--lang", "en"))
	question := regexp.MustCompile(`(?m)^.* on (n[12]): .*\[y/N\]`)
	var asked []string
	for i := 0; i < 2; i++ {
		s := term.waitFor(20*time.Second, fmt.Sprintf("question %d", i+1), func(s string) bool {
			m := question.FindAllStringSubmatch(s, -1)
			return len(m) == i+1 && strings.HasSuffix(s, "[y/N]")
		})
		// The question is the last line and stays so: no live line is
		// drawn under or over it while it waits.
		time.Sleep(4 * spinEvery())
		if again := term.screen(); again != s {
			t.Errorf("the screen changed under question %d:\nbefore:\n%s\nafter:\n%s", i+1, s, again)
		}
		m := question.FindAllStringSubmatch(s, -1)
		asked = append(asked, m[i][1])
		term.keys("y", "Enter")
	}
	if asked[0] == asked[1] {
		t.Errorf("asked about %s twice", asked[0])
	}
	end := term.waitFor(20*time.Second, "the run to end", func(s string) bool { return strings.Contains(s, "EXIT=") })
	if !strings.Contains(end, "EXIT=0") {
		t.Errorf("run failed:\n%s", term.history())
	}
	for _, h := range b.Hosts {
		if _, err := os.Stat(h.Path("/standby/db.have")); err == nil {
			t.Errorf("%s answered yes but its database is still there:\n%s", h.Name, end)
		}
		if !regexp.MustCompile(`(?m)^\S+\s+wipe\s+` + h.Name + `\s+changed`).MatchString(end) {
			t.Errorf("%s: no changed line:\n%s", h.Name, end)
		}
	}
}

// Piped, even from a terminal, output is plain: no redraw, no color, a
// time on every line; the question still goes to the terminal.
func TestPipedIsPlain(t *testing.T) {
	b := testbed.Start(t, "n1")
	inv := inventoryFor(t, b, "", nil)
	rb := runbooktest.Write(t, "", "runbook.toml", liveRunbook)
	file := filepath.Join(t.TempDir(), "out")
	term := newTerminal(t, tejunCommand(t, "run", rb, "-i", inv, "-v")+" | cat > "+file)
	term.waitFor(20*time.Second, "the run to end", func(s string) bool { return strings.Contains(s, "EXIT=") })
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	out := string(data)
	if strings.Contains(out, "\x1b") || strings.Contains(out, "\r") || strings.ContainsAny(out, "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏") {
		t.Errorf("piped output redraws or styles:\n%q", out)
	}
	n := 0
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if l == "" {
			continue
		}
		n++
		if !stamp.MatchString(l) {
			t.Errorf("line without a time: %q", l)
		}
	}
	if n < 6 || !strings.Contains(out, "restore n1 | restoring halfway") {
		t.Errorf("piped output is missing lines:\n%s", out)
	}
}

// spinEvery is the live display's redraw interval, as the app sets it.
func spinEvery() time.Duration { return 200 * time.Millisecond }

// Ctrl-C on a terminal: the notice is written above the live lines, not
// through them, and no live line is left when tejun exits.
func TestLiveInterrupt(t *testing.T) {
	b := testbed.Start(t, "n1")
	inv := inventoryFor(t, b, "", nil)
	rb := runbooktest.Write(t, "", "runbook.toml", strings.Replace(liveRunbook, "sleep 3", "sleep 30", 1))
	term := newTerminal(t, tejunCommand(t, "run", rb, "-i", inv, "--lang", "en"))
	term.waitFor(20*time.Second, "the running step's live line", spinning.MatchString)
	term.keys("C-c")
	end := term.waitFor(15*time.Second, "the run to end", func(s string) bool { return strings.Contains(s, "EXIT=") })
	if !strings.Contains(end, "EXIT=130") {
		t.Errorf("exit is not 130:\n%s", end)
	}
	if !regexp.MustCompile(`(?m)^tejun: interrupted: no new steps start`).MatchString(end) {
		t.Errorf("the interrupt's notice was drawn over:\n%s", end)
	}
	if regexp.MustCompile(`[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]`).MatchString(end) {
		t.Errorf("a live line is left on the screen after the run:\n%s", end)
	}
}

// progressOnly says whether stderr holds nothing but plain progress lines
// (plan's, off a terminal): each stamped with the time.
func progressOnly(stderr string) bool {
	for _, l := range strings.Split(strings.TrimSuffix(stderr, "\n"), "\n") {
		if l != "" && !stamp.MatchString(l) {
			return false
		}
	}
	return true
}

// planRunbook's one check takes a while: sleep is its unless guard, run
// by the plan (it changes nothing) and succeeding, so the step is done.
const planRunbook = `
[runbook]
name = "slow-plan"
[[section]]
id = "s"
on = "nodes"
title.en = "s"
[[section.step]]
id = "restore"
kind = "command"
title.en = "restore the depot"
argv = ["touch", "/tmp/restored"]
unless = ["sleep", "3"]
`

// Off a terminal, plan's progress is plain lines on stderr, each stamped
// (a CI log shows what is being checked, and when); stdout is the plan
// alone, so a plan saved to a file holds nothing else.
func TestPlanPlainProgress(t *testing.T) {
	b := testbed.Start(t, "n1")
	inv := inventoryFor(t, b, "", nil)
	rb := runbooktest.Write(t, "", "runbook.toml", planRunbook)
	out, errOut, code := run(t, "plan", rb, "-i", inv, "--lang", "en")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if !progressOnly(errOut) || strings.Contains(errOut, "\x1b") || strings.Contains(errOut, "\r") {
		t.Errorf("plan's progress off a terminal is not plain stamped lines:\n%q", errOut)
	}
	if stamp.MatchString(out) || !strings.Contains(out, "restore") || strings.Contains(out, "started") {
		t.Errorf("the plan on stdout has progress in it, or no step:\n%s", out)
	}
	golden(t, normalise(errOut))
}

var planSpinning = regexp.MustCompile(`(?m)^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] \S+\s+restore\s+n1\s+(\d+\.\d)s`)

// On a terminal, plan shows a live line per running check and host, its
// clock moving, and takes it off the screen before printing the plan: the
// screen ends with the plan alone, no timestamps.
func TestPlanLiveProgress(t *testing.T) {
	b := testbed.Start(t, "n1")
	inv := inventoryFor(t, b, "", nil)
	rb := runbooktest.Write(t, "", "runbook.toml", planRunbook)
	term := newTerminal(t, tejunCommand(t, "plan", rb, "-i", inv, "--lang", "en"))
	first := term.waitFor(20*time.Second, "the running check's live line", planSpinning.MatchString)
	later := term.waitFor(3*time.Second, "the clock to move", func(s string) bool {
		m := planSpinning.FindStringSubmatch(s)
		return m != nil && m[1] != planSpinning.FindStringSubmatch(first)[1]
	})
	if strings.Count(later, "restore  ") > 1 {
		t.Errorf("the live line was drawn twice, not in place:\n%s", later)
	}
	end := term.waitFor(15*time.Second, "the plan to end", func(s string) bool { return strings.Contains(s, "EXIT=") })
	if !strings.Contains(end, "EXIT=0") || !regexp.MustCompile(`(?m)^1-1\s+restore\s+n1\s+already done`).MatchString(end) {
		t.Errorf("the plan did not print well:\n%s", end)
	}
	if regexp.MustCompile(`[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]`).MatchString(end) || strings.Contains(end, "started") {
		t.Errorf("progress is left on the screen after the plan:\n%s", end)
	}
	if stamp.MatchString(end) {
		t.Errorf("a terminal gets timestamps meant for logs:\n%s", end)
	}
	// (Not the history: tmux keeps a screen erased from its top left
	// corner in the scrollback, as no other terminal does.)
	if n := strings.Count(end, "restore"); n != 1 {
		t.Errorf("the check is on the screen %d times, want once (the plan's line):\n%s", n, end)
	}
}

// A terminal narrowed while a step runs rewraps what it shows: the live
// line drawn for the old width takes more rows now, and the redraw must
// take all of them off, or a stale row stays above the new line. Each
// line is then cut to the new width (by display width, so a Japanese
// title is cut on a character).
func TestLiveNarrowed(t *testing.T) {
	b := testbed.Start(t, "n1")
	inv := inventoryFor(t, b, "", nil)
	rb := runbooktest.Write(t, "", "runbook.toml", strings.Replace(liveRunbook, "sleep 3", "sleep 6", 1))
	term := newTerminal(t, tejunCommand(t, "run", rb, "-i", inv, "--lang", "en"))
	term.waitFor(20*time.Second, "the running step's live line", spinning.MatchString)
	if out, err := term.tmux("resize-window", "-t", "t", "-x", "30"); err != nil {
		t.Fatalf("resize-window: %v\n%s", err, out)
	}
	narrow := regexp.MustCompile(`(?m)^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] \S+\s+restore`)
	term.waitFor(3*time.Second, "the live line cut to 30 columns", func(s string) bool {
		lines := strings.Split(s, "\n")
		return narrow.MatchString(s) && !spinning.MatchString(s) && strings.HasSuffix(lines[len(lines)-1], "…")
	})
	// Two redraws later, still one row of it: nothing left of the wide
	// line, nothing wider than the terminal.
	time.Sleep(3 * spinEvery())
	s := term.screen()
	lines := strings.Split(s, "\n")
	live := 0
	for _, l := range lines {
		if w := len([]rune(l)); w > 30 {
			t.Errorf("a row of %d columns on a 30-column terminal: %q", w, l)
		}
		if strings.ContainsAny(l, "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏") {
			live++
		}
	}
	if live != 1 {
		t.Errorf("%d live rows after narrowing, want 1:\n%s", live, s)
	}
	end := term.waitFor(20*time.Second, "the run to end", func(s string) bool { return strings.Contains(s, "EXIT=") })
	if regexp.MustCompile(`[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]`).MatchString(end) {
		t.Errorf("a live line is left on the screen after the run:\n%s", end)
	}
}
