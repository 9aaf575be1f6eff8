// Package transport says what runs on a host and how it can fail: Cmd, its
// quoting and sudo, the errors, and the Conn and Files a connection offers.
// It knows nothing of runbooks (steps describe what to run as a Cmd) and
// holds no connection itself: the SSH client is transport/ssh and the local
// one transport/local, so a package that only describes or prints commands
// (the model, the dry-run) is never built with a way to reach a host.
package transport

import (
	"errors"
	"fmt"
	"strings"
)

// Cmd is one remote command. Commands are argv vectors, never shell text
// assembled from values, because a value from an inventory (a path, a server
// ID) must reach the remote program as exactly one literal argument whatever
// characters it holds. Shell is only for lines a runbook author wrote as a
// shell line on purpose.
type Cmd struct {
	// Argv is the program and its arguments.
	Argv []string
	// Shell, when set instead of Argv, is run by /bin/sh -c.
	Shell string
	// User, when set, runs the command as that user through sudo -n, which
	// fails at once instead of waiting on a password prompt nobody will answer.
	User string
	// Stdin names what the command reads on standard input, for people
	// reading the plan; the bytes themselves (often a secret) are supplied at
	// run time and never appear in a command line.
	Stdin string
	// CLocale runs the program under "env LC_ALL=C": tejun reads what it
	// prints (stat fields, p4's tagged output, a pattern matched on a
	// check's output), and a host whose login locale is ja_JP.UTF-8
	// would otherwise answer in words no parser expects. It is in the
	// argv, inside sudo, rather than in the session's environment:
	// sshd passes a client's variables only where AcceptEnv says so,
	// and sudoers may drop or keep them. Commands whose output is not
	// read (a runbook's own command, a service start) keep the host's
	// locale: a JVM started under LC_ALL=C writes Japanese as '?'.
	CLocale bool
	// StdinJa is Stdin for the Japanese procedure (--show-exec); empty:
	// Stdin is shown as it is.
	StdinJa string
}

// ErrNUL is returned for an argument holding a NUL byte: no command line can
// carry one, so quoting it would silently cut the value short.
var ErrNUL = errors.New("argument contains a NUL byte")

// Words returns the full argument vector the remote side executes, sudo and
// sh -c included.
func (c Cmd) Words() []string {
	var w []string
	if c.User != "" {
		w = append(w, "sudo", "-n", "-u", c.User, "--")
	}
	if c.CLocale {
		w = append(w, "env", "LC_ALL=C")
	}
	if c.Shell != "" {
		return append(w, "/bin/sh", "-c", c.Shell)
	}
	return append(w, c.Argv...)
}

// Sent is c as it goes to a host whose default run-as user (its
// inventory's ssh.become) is become: under that user when c names none of
// its own. It is the one place this is worked out: the executor sends it
// and plan mode's gate compares it (runbook/host), and the dry-run's
// --show-exec prints it (runbook/render, which may not import the
// executor), so the commands a reviewer signs off are the ones that run.
func (c Cmd) Sent(become string) Cmd {
	if c.User == "" {
		c.User = become
	}
	return c
}

// Line renders the command as one POSIX shell line, each word quoted so that
// the shell hands it to the program unchanged. SSH transmits a command as a
// single string interpreted by the remote login shell, so this quoting is what
// keeps inventory values from being interpreted.
func (c Cmd) Line() (string, error) {
	words := c.Words()
	out := make([]string, len(words))
	for i, w := range words {
		q, err := Quote(w)
		if err != nil {
			return "", fmt.Errorf("word %d of %q: %w", i, words[0], err)
		}
		out[i] = q
	}
	return strings.Join(out, " "), nil
}

// String is Line for display; an unquotable command shows its error instead.
func (c Cmd) String() string {
	l, err := c.Line()
	if err != nil {
		return "<" + err.Error() + ">"
	}
	if c.Stdin != "" {
		l += "  < " + c.Stdin
	}
	return l
}

// Quote returns s as one POSIX shell word. Single quotes keep every byte
// literal in every POSIX shell, so only the single quote itself needs care.
// Words made only of safe characters are left bare for readability.
func Quote(s string) (string, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return "", ErrNUL
	}
	if s == "" {
		return "''", nil
	}
	if isSafe(s) {
		return s, nil
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'", nil
}

func isSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("@%+=:,./_-", c) >= 0:
		default:
			return false
		}
	}
	return true
}
