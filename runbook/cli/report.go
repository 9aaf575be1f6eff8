package cli

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
	"golang.org/x/sys/unix"

	"tejun/runbook"
	"tejun/runbook/mask"
	"tejun/runbook/msg"
	"tejun/runbook/run"
)

// human prints one line per step and host as they finish, and -v detail
// as it comes. On a terminal (live) it also keeps, under those lines, one
// line per step running on a host, redrawn in place; elsewhere (a pipe,
// a CI log) it never redraws, says when each step starts, and stamps
// every line with the time, since nobody watched it happen.
type human struct {
	w       io.Writer
	lang    string
	verbose bool
	mu      sync.Mutex
	styles  map[run.Status]lipgloss.Style
	faint   lipgloss.Style
	spin    lipgloss.Style // the live lines' spinner and bar
	titles  map[*runbook.Step]string

	now func() time.Time
	// live is set on a terminal; nil for plain lines.
	live *liveBlock
	// stillEvery, off a terminal, is how often a step that keeps running
	// is said to be running still: a CI job silent for ten minutes is
	// taken for hung and killed.
	stillEvery time.Duration
	running    []*task
	plainHeld  *strings.Builder // plain lines made while a question is up
	holds      int              // questions up now (hold)
	begun      time.Time        // the run's start, for the live "connecting" line
	anyStarted bool
	stop       chan struct{}
	stopped    sync.WaitGroup
	skips      *skipped // said once, grouped by cause, in the summary
	// plan is set for tejun plan's progress: no run lock is taken, and a
	// finished check leaves no line on a terminal (the plan that follows
	// says it), only a stamped verdict off one.
	plan bool
}

// task is a step running on a host.
type task struct {
	step        *runbook.Step
	host        string
	start       time.Time
	done, total int64     // bytes of a transfer; total -1 while unknown
	moving      time.Time // first report of a transfer
	complete    time.Time // its last byte: the rate stops there
	noted       time.Time // last "still running" line, off a terminal
}

func newHuman(w io.Writer, b *runbook.Binding, lang string, verbose, color bool) *human {
	r := lipgloss.NewRenderer(w)
	if !color {
		r.SetColorProfile(termenv.Ascii)
	}
	h := &human{w: w, lang: lang, verbose: verbose, faint: r.NewStyle().Faint(true), spin: r.NewStyle().Foreground(lipgloss.Color("6")),
		titles: map[*runbook.Step]string{},
		now:    time.Now, stillEvery: time.Minute, stop: make(chan struct{}),
		styles: map[run.Status]lipgloss.Style{
			run.OK:      r.NewStyle().Foreground(lipgloss.Color("2")),
			run.Changed: r.NewStyle().Foreground(lipgloss.Color("3")).Bold(true),
			run.Failed:  r.NewStyle().Foreground(lipgloss.Color("1")).Bold(true),
			run.Refused: r.NewStyle().Foreground(lipgloss.Color("1")).Bold(true),
			run.Skipped: r.NewStyle().Faint(true),
		}}
	for id, ins := range b.Instances {
		if len(ins) > 0 {
			h.titles[b.Runbook.Step(id)] = ins[0].Title.In(lang)
		}
	}
	h.skips = newSkipped(lang, func(id string) string {
		if st := b.Runbook.Step(id); st != nil {
			return st.LabelIn(lang)
		}
		return ""
	})
	return h
}

// start begins the redraws of a live display, or the "still running"
// notes of plain output; finish ends them.
func (h *human) start() {
	every := time.Second
	h.mu.Lock()
	h.begun = h.now()
	if h.live != nil {
		every = spinEvery
		h.live.redraw(h.liveLines())
	}
	h.mu.Unlock()
	// A resized terminal is redrawn at once, cut to its new width, rather
	// than at the next tick: a narrowed one has rewrapped the live lines
	// into rows that the next erase must reach (liveBlock.erase).
	winch := make(chan os.Signal, 1)
	if h.live != nil {
		signal.Notify(winch, unix.SIGWINCH)
	}
	h.stopped.Add(1)
	go func() {
		defer h.stopped.Done()
		defer signal.Stop(winch)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-h.stop:
				return
			case <-t.C:
				h.tick()
			case <-winch:
				h.tick()
			}
		}
	}()
}

// finish stops the display and takes the live lines off the screen, before
// the summary.
func (h *human) finish() {
	select {
	case <-h.stop:
		return
	default:
	}
	close(h.stop)
	h.stopped.Wait()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.live != nil {
		h.live.clear()
	}
}

func (h *human) tick() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.live != nil {
		h.live.redraw(h.liveLines())
		return
	}
	now := h.now()
	for _, t := range h.running {
		if now.Sub(t.noted) >= h.stillEvery {
			t.noted = now
			h.printLocked(h.stepLine(t.step, t.host, h.faint.Render(fmt.Sprintf("%-8s", "running")), h.faint.Render(" "+elapsed(now.Sub(t.start)))+spaced(progressText(t, now)), ""))
		}
	}
}

func (h *human) Started(st *runbook.Step, host string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.now()
	h.anyStarted = true
	h.running = append(h.running, &task{step: st, host: host, start: now, total: -1, noted: now})
	if h.live != nil {
		h.live.redraw(h.liveLines())
		return
	}
	h.printLocked(h.stepLine(st, host, h.faint.Render("started"), "", ""))
}

// Progress keeps a transfer's byte count for the live line
// (run.Progresser).
func (h *human) Progress(st *runbook.Step, host string, done, total int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, t := range h.running {
		if t.step == st && t.host == host {
			if t.moving.IsZero() {
				t.moving = h.now()
			}
			t.done, t.total = done, total
			if total > 0 && done >= total && t.complete.IsZero() {
				t.complete = h.now()
			}
		}
	}
}

func (h *human) Finished(ev run.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, t := range h.running {
		if t.step == ev.Step && t.host == ev.Host {
			h.running = append(h.running[:i], h.running[i+1:]...)
			break
		}
	}
	if h.plan {
		if h.live != nil {
			h.live.redraw(h.liveLines())
			return
		}
		dur := ""
		if ev.Host != "" {
			dur = h.faint.Render(fmt.Sprintf(" %6.2fs", ev.Duration.Seconds()))
		}
		h.printLocked(h.stepLine(ev.Step, ev.Host, verdict(ev.Status).Word(h.lang), dur, ""))
		return
	}
	if ev.Status == run.Skipped && ev.Reason != "" {
		h.skips.add(ev)
		return
	}
	dur := ""
	if ev.Host != "" {
		dur = h.faint.Render(fmt.Sprintf(" %6.2fs", ev.Duration.Seconds()))
	}
	detail := ev.Reason
	if ev.Error != "" {
		detail = ev.Error
	}
	h.printLocked(h.stepLine(ev.Step, ev.Host, h.styles[ev.Status].Render(fmt.Sprintf("%-8s", ev.Status)), dur, detail))
}

// stepLine is the line of a step on a host. Hosts' names come from the
// inventory, reasons and errors from what the hosts printed: neither may
// drive the terminal.
func (h *human) stepLine(st *runbook.Step, host, status, dur, detail string) string {
	host = mask.Visible(host)
	if host == "" {
		host = "-"
	}
	line := fmt.Sprintf("%-5s %-28s %-10s %s", st.LabelIn(h.lang), trim(mask.Visible(st.ID), 28), host, status) + dur
	if detail != "" {
		line += "  "
		// A reason's further lines (a diff, with the host's old lines)
		// go under its first, where they cannot pass for a step's line.
		under := "\n" + strings.Repeat(" ", lipgloss.Width(line))
		line += strings.ReplaceAll(strings.TrimRight(mask.Visible(msg.Translate(h.lang, detail)), "\n"), "\n", under)
	}
	return line
}

func (h *human) Log(st *runbook.Step, host, line string) {
	if !h.verbose {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, l := range strings.Split(line, "\n") {
		h.printLocked(h.faint.Render(mask.Visible(fmt.Sprintf("      %s %s | %s", st.ID, host, l))))
	}
}

// printLocked writes lines that stay: above the live lines on a terminal,
// stamped with the time elsewhere.
func (h *human) printLocked(lines ...string) {
	if h.live != nil {
		h.live.print(lines, h.liveLines())
		return
	}
	var b strings.Builder
	for _, l := range lines {
		for _, row := range strings.Split(l, "\n") { // every row stamped
			b.WriteString(h.now().Format(stampFormat) + " " + row + "\n")
		}
	}
	if h.plainHeld != nil {
		h.plainHeld.WriteString(b.String()) // stamped when it happened
		return
	}
	io.WriteString(h.w, b.String())
}

// stampFormat is RFC 3339 to the second with the zone: plain output is
// read later, often elsewhere, and sorted or compared across machines.
const stampFormat = "2006-01-02T15:04:05Z07:00"

// hold takes the live lines off the screen while the operator answers a
// prompt, and keeps what steps print meanwhile until the answer is in, so
// nothing is drawn over the question. The returned func puts it all back.
func (h *human) hold() func() {
	h.mu.Lock()
	defer h.mu.Unlock()
	// Two questions may be up at once (a key's passphrase and a step's
	// confirmation hold the screen each): it is let go after the last.
	h.holds++
	if h.holds == 1 {
		if h.live == nil {
			// Plain lines may share the terminal with the question
			// (TERM=dumb): they wait too, keeping the times they happened at.
			h.plainHeld = &strings.Builder{}
		} else {
			h.live.pause()
		}
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			h.mu.Lock()
			defer h.mu.Unlock()
			if h.holds--; h.holds > 0 {
				return
			}
			if h.live == nil {
				io.WriteString(h.w, h.plainHeld.String())
				h.plainHeld = nil
				return
			}
			h.live.resume(h.liveLines())
		})
	}
}

// writer is for messages written to another stream of the same terminal
// (an interrupt's notice on stderr): they go above the live lines too.
func (h *human) writer(w io.Writer) io.Writer {
	if h.live == nil {
		return w
	}
	return writerFunc(func(p []byte) (int, error) {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.live.around(func() { w.Write(p) }, h.liveLines())
		return len(p), nil
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func (h *human) summary(r *run.Result, took time.Duration) {
	h.mu.Lock()
	for _, l := range h.skips.lines() {
		if h.live == nil {
			l = h.now().Format(stampFormat) + " " + l
		}
		fmt.Fprintln(h.w, h.styles[run.Skipped].Render(l))
	}
	h.mu.Unlock()
	counts := []string{}
	for _, s := range []run.Status{run.OK, run.Changed, run.Failed, run.Refused, run.Skipped} {
		if n := r.Count(s); n > 0 {
			counts = append(counts, h.styles[s].Render(fmt.Sprintf("%s=%d", s, n)))
		}
	}
	state := "finished"
	if r.Interrupted {
		state = "interrupted"
	}
	line := fmt.Sprintf("%s in %.1fs: %s", state, took.Seconds(), strings.Join(counts, " "))
	if h.live == nil {
		line = h.now().Format(stampFormat) + " " + line
	}
	fmt.Fprintf(h.w, "\n%s\n", line)
}

func trim(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}
