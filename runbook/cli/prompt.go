package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

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
	lines chan string
	err   chan error
	start sync.Once
	in    io.Reader
	// hold clears the live display for the question and returns what
	// brings it back; nil when there is none.
	hold func() func()
}

func newPrompter(in io.Reader, out io.Writer) *prompter {
	return &prompter{in: in, out: out, lines: make(chan string), err: make(chan error, 1)}
}

// read runs once, for the life of the process: a terminal read cannot be
// cancelled, so the goroutine is left blocked when the run ends.
func (p *prompter) read() {
	r := bufio.NewReader(p.in)
	for {
		line, err := r.ReadString('\n')
		if line != "" {
			p.lines <- line
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
	fmt.Fprintf(p.out, "%s [y/N] ", mask.Visible(question))
	select {
	case line := <-p.lines:
		ans := strings.ToLower(strings.TrimSpace(line))
		return ans == "y" || ans == "yes", nil
	case err := <-p.err:
		p.err <- err // every later question fails the same way
		return false, err
	case <-ctx.Done():
		fmt.Fprintln(p.out)
		return false, ctx.Err()
	}
}
