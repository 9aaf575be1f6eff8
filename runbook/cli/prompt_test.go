package cli

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"tejun/runbook"
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

// The question is asked on the terminal its answer is read from: with
// stderr sent to a file (tejun run … 2>run.err) it went there, and the
// operator saw a run that had stopped for no reason.
func TestQuestionOnTheAnsweringTerminal(t *testing.T) {
	tty, master := openPTYPair(t)
	var errFile bytes.Buffer
	a := New(tty, io.Discard, &errFile)
	ask := a.confirm(func() func() { return func() {} })
	if ask == nil {
		t.Fatal("no prompt on a terminal")
	}
	got := make(chan bool, 1)
	go func() {
		ok, _ := ask(context.Background(), "remove /standby/db.* on n1?")
		got <- ok
	}()
	seen := make(chan string, 1)
	go func() {
		var b []byte
		buf := make([]byte, 256)
		for !strings.Contains(string(b), "[y/N]") {
			n, err := master.Read(buf)
			if err != nil {
				break
			}
			b = append(b, buf[:n]...)
		}
		seen <- string(b)
	}()
	select {
	case s := <-seen:
		if !strings.Contains(s, "remove /standby/db.* on n1? [y/N]") {
			t.Errorf("the terminal shows %q", s)
		}
	case <-time.After(3 * time.Second):
		t.Fatalf("the question is not on the terminal; stderr has %q", errFile.String())
	}
	master.Write([]byte("y\n"))
	if !<-got {
		t.Error("y read as no")
	}
}

// A secret's prompt too: asked where it is typed, not in a redirected stderr.
func TestSecretPromptOnTheAnsweringTerminal(t *testing.T) {
	tty, master := openPTYPair(t)
	var errFile bytes.Buffer
	a := New(tty, io.Discard, &errFile)
	got := make(chan string, 1)
	go func() {
		v, _ := a.secret(&runbook.Secret{Name: "key", Prompt: true}, "")
		got <- string(v)
	}()
	var b []byte
	buf := make([]byte, 256)
	deadline := time.Now().Add(3 * time.Second)
	for !strings.Contains(string(b), "key (") && time.Now().Before(deadline) {
		master.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		n, _ := master.Read(buf)
		b = append(b, buf[:n]...)
	}
	master.Write([]byte("s3cret\n")) // before any failure: the read would hold the terminal open
	if !strings.Contains(string(b), "key (") {
		t.Errorf("the prompt is not on the terminal; stderr has %q", errFile.String())
	}
	if v := <-got; v != "s3cret" {
		t.Errorf("read %q", v)
	}
}
