package cli

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

// Two hosts asking at once must each get one answer: before the prompter,
// both goroutines read from one bufio.Reader (a data race), and one "y" was
// lost into the other's buffer.
func TestPromptsOnTwoHostsBothGetTheirAnswer(t *testing.T) {
	var out syncBuffer
	p := newPrompter(strings.NewReader("y\nyes\n"), &out)
	var wg sync.WaitGroup
	answers := make([]bool, 2)
	errs := make([]error, 2)
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i], errs[i] = p.Ask(context.Background(), "run it on h"+string(rune('1'+i))+"?")
		}()
	}
	wg.Wait()
	for i := range answers {
		if errs[i] != nil || !answers[i] {
			t.Errorf("question %d: answer %v, err %v; want yes", i, answers[i], errs[i])
		}
	}
	if got := strings.Count(out.String(), "[y/N] "); got != 2 {
		t.Errorf("asked %d times, want 2:\n%s", got, out.String())
	}
	// Questions are whole lines, never interleaved.
	for _, q := range []string{"run it on h1? [y/N] ", "run it on h2? [y/N] "} {
		if !strings.Contains(out.String(), q) {
			t.Errorf("output lacks %q:\n%s", q, out.String())
		}
	}
}

// Ctrl-C while a prompt waits ends the prompt, with the context's error.
func TestPromptEndsOnCancel(t *testing.T) {
	r, w := io.Pipe()
	defer w.Close()
	p := newPrompter(r, io.Discard)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := p.Ask(ctx, "destroy?")
		done <- err
	}()
	cancel()
	select {
	case err := <-done:
		if err != context.Canceled {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("prompt did not end after cancel")
	}
}

// Anything but y or yes is a no, and end of input fails every later question.
func TestPromptAnswers(t *testing.T) {
	p := newPrompter(strings.NewReader("n\nY\n"), io.Discard)
	for i, want := range []bool{false, true} {
		got, err := p.Ask(context.Background(), "q")
		if err != nil || got != want {
			t.Errorf("answer %d = %v, %v; want %v", i, got, err, want)
		}
	}
	for i := 0; i < 2; i++ {
		if _, err := p.Ask(context.Background(), "q"); err != io.EOF {
			t.Errorf("after end of input: err = %v, want EOF", err)
		}
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// What the operator typed while no question was up (an Enter pressed
// twice, a "y" typed ahead during a long step) must not answer the next
// question, a destructive one perhaps, before it is even read: on a
// terminal, input from before a question is dropped, as Ansible's pause
// flushes it.
func TestTypeAheadDoesNotAnswer(t *testing.T) {
	tty, master := openPTYPair(t)
	p := newPrompter(tty, io.Discard)
	p.flush = flushInput(tty)
	answer := func() chan bool {
		c := make(chan bool, 1)
		go func() {
			ok, _ := p.Ask(context.Background(), "destroy?")
			c <- ok
		}()
		return c
	}
	first := answer()
	time.Sleep(100 * time.Millisecond)
	master.Write([]byte("n\n"))
	if <-first {
		t.Fatal("n read as yes")
	}
	master.Write([]byte("y\ny\n")) // typed ahead, no question up
	time.Sleep(200 * time.Millisecond)
	second := answer()
	select {
	case ok := <-second:
		t.Fatalf("typed-ahead input answered the question before it was asked (yes: %v)", ok)
	case <-time.After(300 * time.Millisecond):
	}
	master.Write([]byte("n\n"))
	select {
	case ok := <-second:
		if ok {
			t.Error("the answer after the question was n, read as yes")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the answer typed after the question was not read")
	}
}
