package cli

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"
)

// spinEvery is how often the live lines are redrawn: often enough that a
// step's line appears at once and its clock visibly runs, rarely enough
// that the redraws cost nothing over a slow SSH session to the operator's
// jump host.
const spinEvery = 200 * time.Millisecond

var spinner = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// liveBlock is the bottom of the terminal: one line per running step and
// host, erased and drawn again in place. Lines that stay (finished steps,
// -v output) are written above it, so scrolling back shows the run as a
// plain log. Its methods are called with the human's lock held.
type liveBlock struct {
	w io.Writer
	// size is the terminal's width and height, asked at each redraw: a
	// line wider than the terminal wraps, and the erase would then miss it.
	size func() (int, int)
	// drawn are the display widths of the block's lines on the screen
	// now: a terminal narrowed since (most rewrap what they show) holds
	// a line in more rows than one.
	drawn  []int
	paused bool // a prompt is up
	held   []string
	// closed is set when the run is over: the block is off the screen for
	// good, and what is written after goes where the summary is, with
	// nothing drawn back under it that no erase would take away.
	closed bool
}

// erase returns the sequence that takes the block off the screen: up to
// its first line, then clear to the end of the screen.
func (b *liveBlock) erase() string {
	if len(b.drawn) == 0 {
		return ""
	}
	width, _ := b.size()
	n := 0
	for _, w := range b.drawn {
		n += max(1, (w+width-1)/width) // each line was cut to the width it was drawn at
	}
	b.drawn = nil
	return "\r\x1b[" + strconv.Itoa(n) + "A\x1b[J"
}

// fit cuts the block to the terminal: each line one row, and no more
// rows than the terminal has, so the erase always reaches its top.
func (b *liveBlock) fit(lines []string) string {
	width, height := b.size()
	if rows := max(1, height-2); len(lines) > rows {
		more := len(lines) - (rows - 1)
		lines = append(lines[:rows-1:rows-1], fmt.Sprintf("  … and %d more running", more))
	}
	var s strings.Builder
	b.drawn = b.drawn[:0]
	for _, l := range lines {
		// Cut by display width (a Japanese character takes two columns),
		// one short of the edge: a line that fills the last column leaves
		// the cursor there on some terminals, wrapping on others.
		l = ansi.Truncate(oneRow(l), width-1, "…")
		s.WriteString(l + "\n")
		b.drawn = append(b.drawn, ansi.StringWidth(l))
	}
	return s.String()
}

// oneRow keeps a line to one row of known width: mask.Visible leaves
// newlines and tabs (a host's name may hold them), and the erase counts
// one row per line, with widths that know no tab stops.
var oneRow = strings.NewReplacer("\n", "↵", "\t", " ").Replace

func (b *liveBlock) redraw(lines []string) {
	if b.paused || b.closed {
		return
	}
	io.WriteString(b.w, b.erase()+b.fit(lines))
}

// print writes lines that stay, above the block; while a prompt is up
// they wait for its answer.
func (b *liveBlock) print(stay, lines []string) {
	if b.paused {
		b.held = append(b.held, stay...)
		return
	}
	if b.closed {
		io.WriteString(b.w, strings.Join(stay, "\n")+"\n")
		return
	}
	io.WriteString(b.w, b.erase()+strings.Join(stay, "\n")+"\n"+b.fit(lines))
}

// around runs write (to another stream of this terminal) with the block
// off the screen.
func (b *liveBlock) around(write func(), lines []string) {
	if b.paused || b.closed {
		write()
		return
	}
	io.WriteString(b.w, b.erase())
	write()
	io.WriteString(b.w, b.fit(lines))
}

func (b *liveBlock) pause() {
	io.WriteString(b.w, b.erase())
	b.paused = true
}

func (b *liveBlock) resume(lines []string) {
	b.paused = false
	var s strings.Builder
	for _, l := range b.held {
		s.WriteString(l + "\n")
	}
	b.held = nil
	if !b.closed {
		s.WriteString(b.fit(lines))
	}
	io.WriteString(b.w, s.String())
}

func (b *liveBlock) clear() {
	if b.paused {
		// Whatever the prompt left, the lines held for it are not lost.
		b.resume(nil)
	}
	io.WriteString(b.w, b.erase())
	b.closed = true
}

// liveLines are the running steps, oldest first, each with a spinner, how
// long it has run, and a transfer's progress.
func (h *human) liveLines() []string {
	now := h.now()
	spin := spinner[int(now.UnixMilli()/spinEvery.Milliseconds())%len(spinner)]
	lines := make([]string, 0, len(h.running))
	if !h.anyStarted && !h.begun.IsZero() {
		// Every host is reached and locked before the first step: an
		// unreachable one can take its ConnectTimeout.
		what := " connecting to the hosts and taking their run locks "
		if h.plan {
			what = " connecting to the hosts "
		}
		lines = append(lines, h.spin.Render(spin)+what+h.faint.Render(elapsed(now.Sub(h.begun))))
	}
	for _, t := range h.running {
		lines = append(lines, h.spin.Render(spin)+" "+h.stepLine(t.step, t.host, h.faint.Render(fmt.Sprintf("%-8s", elapsed(now.Sub(t.start)))), spaced(progressText(t, now)), ""))
	}
	return lines
}

// spaced puts a space before s, if there is an s.
func spaced(s string) string {
	if s == "" {
		return ""
	}
	return " " + s
}

// progressText is a transfer's bar, bytes, rate and time left; nothing
// for a step that moves no file.
func progressText(t *task, now time.Time) string {
	if t.done <= 0 && t.total <= 0 {
		return ""
	}
	var rate float64
	if !t.complete.IsZero() {
		now = t.complete // hashing and renaming after the last byte are not the rate
	}
	if !t.moving.IsZero() {
		if secs := now.Sub(t.moving).Seconds(); secs > 0.2 {
			rate = float64(t.done) / secs
		}
	}
	var s string
	if t.total > 0 {
		frac := min(float64(t.done)/float64(t.total), 1)
		const cells = 10
		full := int(frac * cells)
		s = fmt.Sprintf("[%s%s] %3.0f%% %s/%s", strings.Repeat("█", full), strings.Repeat("░", cells-full), frac*100, bytesText(t.done), bytesText(t.total))
	} else {
		s = bytesText(t.done)
	}
	if rate > 0 {
		s += " " + bytesText(int64(rate)) + "/s"
		if t.total > 0 && t.done < t.total {
			left := time.Duration(float64(t.total-t.done) / rate * float64(time.Second)).Round(time.Second)
			if left < time.Minute {
				s += fmt.Sprintf(" ETA %ds", int(left.Seconds())) // an estimate: tenths would be noise
			} else {
				s += " ETA " + elapsed(left)
			}
		}
	}
	return s
}

// bytesText is n in binary units, as ls -h and rsync show sizes.
func bytesText(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	v := float64(n)
	for _, unit := range []string{"KiB", "MiB", "GiB", "TiB"} {
		v /= 1024
		if v < 1024 || unit == "TiB" {
			return fmt.Sprintf("%.1f %s", v, unit)
		}
	}
	return ""
}

// elapsed is a duration as a person reads it: 4.2s, 3m07s, 1h02m03s.
func elapsed(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d/time.Minute), int(d%time.Minute/time.Second))
	}
	return fmt.Sprintf("%dh%02dm%02ds", int(d/time.Hour), int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second))
}
