package app

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"tejun/runbook"
	"tejun/runbook/executor"
	"tejun/runbook/mask"
)

// human prints one line per step and host as they finish, and -v detail.
type human struct {
	w       io.Writer
	lang    string
	verbose bool
	mu      sync.Mutex
	styles  map[executor.Status]lipgloss.Style
	faint   lipgloss.Style
	titles  map[*runbook.Step]string
	skips   *skipped // said once, grouped by cause, in the summary
}

func newHuman(w io.Writer, b *runbook.Binding, lang string, verbose, color bool) *human {
	r := lipgloss.NewRenderer(w)
	if !color {
		r.SetColorProfile(termenv.Ascii)
	}
	h := &human{w: w, lang: lang, verbose: verbose, faint: r.NewStyle().Faint(true), titles: map[*runbook.Step]string{},
		styles: map[executor.Status]lipgloss.Style{
			executor.OK:      r.NewStyle().Foreground(lipgloss.Color("2")),
			executor.Changed: r.NewStyle().Foreground(lipgloss.Color("3")).Bold(true),
			executor.Failed:  r.NewStyle().Foreground(lipgloss.Color("1")).Bold(true),
			executor.Refused: r.NewStyle().Foreground(lipgloss.Color("1")).Bold(true),
			executor.Skipped: r.NewStyle().Faint(true),
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

func (h *human) Started(*runbook.Step, string) {}

func (h *human) Finished(ev executor.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if ev.Status == executor.Skipped && ev.Reason != "" {
		h.skips.add(ev)
		return
	}
	// Hosts' names come from the inventory, reasons and errors from what
	// the hosts printed: neither may drive the terminal.
	host := mask.Visible(ev.Host)
	if host == "" {
		host = "-"
	}
	line := fmt.Sprintf("%-5s %-28s %-10s %s", ev.Step.LabelIn(h.lang), trim(mask.Visible(ev.Step.ID), 28), host, h.styles[ev.Status].Render(fmt.Sprintf("%-8s", ev.Status)))
	if ev.Host != "" {
		line += h.faint.Render(fmt.Sprintf(" %6.2fs", ev.Duration.Seconds()))
	}
	detail := ev.Reason
	if ev.Error != "" {
		detail = ev.Error
	}
	if detail != "" {
		line += "  " + mask.Visible(detail)
	}
	fmt.Fprintln(h.w, line)
}

func (h *human) Log(st *runbook.Step, host, line string) {
	if !h.verbose {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, l := range strings.Split(line, "\n") {
		fmt.Fprintln(h.w, h.faint.Render(mask.Visible(fmt.Sprintf("      %s %s | %s", st.ID, host, l))))
	}
}

func (h *human) summary(r *executor.Result, elapsed time.Duration) {
	h.mu.Lock()
	for _, l := range h.skips.lines() {
		fmt.Fprintln(h.w, h.styles[executor.Skipped].Render(l))
	}
	h.mu.Unlock()
	counts := []string{}
	for _, s := range []executor.Status{executor.OK, executor.Changed, executor.Failed, executor.Refused, executor.Skipped} {
		if n := r.Count(s); n > 0 {
			counts = append(counts, h.styles[s].Render(fmt.Sprintf("%s=%d", s, n)))
		}
	}
	state := "finished"
	if r.Interrupted {
		state = "interrupted"
	}
	fmt.Fprintf(h.w, "\n%s in %.1fs: %s\n", state, elapsed.Seconds(), strings.Join(counts, " "))
}

func trim(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}
