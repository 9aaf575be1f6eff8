package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"tejun/runbook/mask"
)

// prompter asks the operator one question at a time. Steps on several hosts
// may want an answer at once; sharing one reader between them loses answers
// (two goroutines each buffer part of the input) and interleaves questions,
// so questions queue on a lock and one goroutine owns the reader. Reading
// happens in that goroutine so a cancelled run does not wait for a line that
// may never come: Ctrl-C interrupts a prompt.
type prompter struct {
	out   io.Writer
	mu    sync.Mutex // one question on screen at a time
	lines chan typed
	err   chan error
	start sync.Once
	in    io.Reader
	// hold clears the live display for the question and returns what
	// brings it back; nil when there is none.
	hold func() func()
	// flush drops what the terminal holds unread; set for a terminal,
	// where what was typed before a question is not its answer.
	flush func()
}

// typed is a line of input and when it was read.
type typed struct {
	line string
	at   time.Time
}

func newPrompter(in io.Reader, out io.Writer) *prompter {
	return &prompter{in: in, out: out, lines: make(chan typed), err: make(chan error, 1)}
}

// flushInput drops the input f's terminal holds unread (tcflush TCIFLUSH).
func flushInput(f *os.File) func() {
	return func() { unix.IoctlSetInt(int(f.Fd()), unix.TCFLSH, unix.TCIFLUSH) }
}

// read runs once, for the life of the process: a terminal read cannot be
// cancelled, so the goroutine is left blocked when the run ends.
func (p *prompter) read() {
	r := bufio.NewReader(p.in)
	for {
		line, err := r.ReadString('\n')
		if line != "" {
			p.lines <- typed{line, time.Now()}
		}
		if err != nil {
			p.err <- err
			return
		}
	}
}

// Ask prints question and waits for a yes or no; anything but y/yes is no.
func (p *prompter) Ask(ctx context.Context, question string) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return false, err
	}
	p.start.Do(func() { go p.read() })
	if p.hold != nil {
		defer p.hold()()
	}
	// On a terminal, what was typed while no question was up (an Enter
	// pressed twice, a "y" typed ahead during a long step) is not the
	// answer to this one, which may be destructive: the terminal's unread
	// input is dropped, and a line read before the question was shown.
	if p.flush != nil {
		p.flush()
	}
	asked := time.Now()
	fmt.Fprintf(p.out, "%s [y/N] ", mask.Visible(question))
	for {
		select {
		case l := <-p.lines:
			if p.flush != nil && l.at.Before(asked) {
				continue
			}
			ans := strings.ToLower(strings.TrimSpace(l.line))
			return ans == "y" || ans == "yes", nil
		case err := <-p.err:
			p.err <- err // every later question fails the same way
			return false, err
		case <-ctx.Done():
			fmt.Fprintln(p.out)
			return false, ctx.Err()
		}
	}
}
