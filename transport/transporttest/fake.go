// Package transporttest is a fake connection for tests of code that runs
// commands: it answers by rules, refuses what no rule matches (so a test
// cannot pass by accident), and records what it received.
package transporttest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"

	"tejun/transport"
)

// Reply is what a matched command does.
type Reply struct {
	Stdout string
	Stderr string
	Code   int   // non-zero: the command fails with *transport.ExitError
	Err    error // returned as is (a lost connection)
	// Then runs after the command, to change the fake host's state (add
	// the rule that answers the next check differently).
	Then func(f *Fake)
}

type rule struct {
	re    *regexp.Regexp
	reply Reply
	fn    func(line string) Reply
}

// Fake is a transport.Conn and transport.Files.
type Fake struct {
	mu       sync.Mutex
	rules    []rule
	received []string
	stdin    map[string]string
	files    map[string]string
}

// New returns a fake with no rules: every command is an error until one
// is added.
func New() *Fake { return &Fake{stdin: map[string]string{}, files: map[string]string{}} }

// On adds a rule: commands whose shell line matches pattern get reply.
// Later rules win, so a test can change the answer as the host changes.
func (f *Fake) On(pattern string, reply Reply) *Fake {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules = append(f.rules, rule{re: regexp.MustCompile(pattern), reply: reply})
	return f
}

// OnFunc adds a rule whose reply is worked out per command line: a test
// that explores a kind's branches answers at random.
func (f *Fake) OnFunc(pattern string, fn func(line string) Reply) *Fake {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules = append(f.rules, rule{re: regexp.MustCompile(pattern), fn: fn})
	return f
}

// Run answers by the last matching rule.
func (f *Fake) Run(ctx context.Context, cmd transport.Cmd, stdio transport.Stdio) error {
	line, err := cmd.Line()
	if err != nil {
		return err
	}
	in := ""
	if stdio.Stdin != nil {
		b, _ := io.ReadAll(stdio.Stdin)
		in = string(b)
	}
	f.mu.Lock()
	f.received = append(f.received, line)
	f.stdin[line] = in
	var r *rule
	for i := len(f.rules) - 1; i >= 0; i-- {
		if f.rules[i].re.MatchString(line) {
			r = &f.rules[i]
			break
		}
	}
	f.mu.Unlock()
	if r == nil {
		return fmt.Errorf("transporttest: no rule for %q", line)
	}
	reply := r.reply
	if r.fn != nil {
		reply = r.fn(line)
	}
	if reply.Then != nil {
		reply.Then(f)
	}
	if reply.Err != nil {
		return reply.Err
	}
	if stdio.Stdout != nil {
		io.WriteString(stdio.Stdout, reply.Stdout)
	}
	if stdio.Stderr != nil {
		io.WriteString(stdio.Stderr, reply.Stderr)
	}
	if reply.Code != 0 {
		return &transport.ExitError{Cmd: line, Code: reply.Code, Stderr: strings.TrimRight(reply.Stderr, "\n")}
	}
	return nil
}

func (f *Fake) Close() error { return nil }

// WriteFile keeps the content in memory.
func (f *Fake) WriteFile(ctx context.Context, path string, r io.Reader, o transport.WriteOptions) (string, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return "", err
	}
	f.mu.Lock()
	f.files[path] = string(b)
	f.received = append(f.received, "write "+path)
	f.mu.Unlock()
	return sum(string(b)), nil
}

// Put stores a file as if the host had it already; unlike WriteFile it
// is not recorded as received.
func (f *Fake) Put(path, content string) *Fake {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.files[path] = content
	return f
}

// sum is the SHA-256 the real connections return for what they moved.
func sum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// ReadFile returns what WriteFile stored.
func (f *Fake) ReadFile(ctx context.Context, path string, w io.Writer, as string) (string, error) {
	f.mu.Lock()
	data, ok := f.files[path]
	f.mu.Unlock()
	if !ok {
		return "", fmt.Errorf("transporttest: no file %s", path)
	}
	_, err := io.WriteString(w, data)
	return sum(data), err
}

// Received lists the command lines run, in order.
func (f *Fake) Received() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.received...)
}

// Stdin returns what a command line was given on standard input.
func (f *Fake) Stdin(line string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stdin[line]
}

// AssertReceived fails t unless some command matched pattern.
func (f *Fake) AssertReceived(t testing.TB, pattern string) {
	t.Helper()
	re := regexp.MustCompile(pattern)
	for _, l := range f.Received() {
		if re.MatchString(l) {
			return
		}
	}
	t.Errorf("no command matched %q; received:\n  %s", pattern, strings.Join(f.Received(), "\n  "))
}

// AssertNotReceived fails t if any command matched pattern.
func (f *Fake) AssertNotReceived(t testing.TB, pattern string) {
	t.Helper()
	re := regexp.MustCompile(pattern)
	for _, l := range f.Received() {
		if re.MatchString(l) {
			t.Errorf("unexpected command %q", l)
		}
	}
}
