package transport

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors, matched with errors.Is, never by message text.
var (
	// ErrUnreachable: the host did not answer (refused, no route, timeout).
	ErrUnreachable = errors.New("host unreachable")
	// ErrAuth: the host answered but accepted none of our credentials.
	ErrAuth = errors.New("authentication failed")
	// ErrHostKeyUnknown: the host is not in known_hosts and the policy is
	// strict. Accepting it is a decision for a person, not for tejun.
	ErrHostKeyUnknown = errors.New("host key unknown")
	// ErrHostKeyChanged: known_hosts holds another key for the host. Always
	// refused: it is either a reinstalled host or someone in the middle.
	ErrHostKeyChanged = errors.New("host key changed")
	// ErrConnectionLost: the connection died while a command ran, so
	// whether the command finished is unknown.
	ErrConnectionLost = errors.New("connection lost")
	// ErrNoSpace: the host's file system is full (ENOSPC, or no free blocks
	// or inodes after a failed write). SFTP reports it only as a generic
	// failure, which would send an operator looking in the wrong place.
	ErrNoSpace = errors.New("no space left on the host")
)

// ExitError is a command that ran and exited non-zero.
type ExitError struct {
	Cmd    string
	Code   int
	Stderr string
}

func (e *ExitError) Error() string {
	msg := fmt.Sprintf("%s: exit status %d", e.Cmd, e.Code)
	if e.Stderr != "" {
		msg += ": " + lastLines(e.Stderr, 5)
	}
	return msg
}

// SudoError is sudo refusing to run a command as another user. It has its
// own type because the fix (a sudoers rule) is not in the command.
type SudoError struct {
	User   string
	Stderr string
}

func (e *SudoError) Error() string {
	return fmt.Sprintf("sudo refused to run as %s without a password (sudo -n): %s; give the SSH user a NOPASSWD sudo rule for it",
		e.User, lastLines(e.Stderr, 2))
}

// HostKeyError explains a host-key refusal and how to resolve it.
type HostKeyError struct {
	Host        string
	Fingerprint string
	KnownHosts  string
	Err         error // ErrHostKeyUnknown or ErrHostKeyChanged
}

func (e *HostKeyError) Error() string {
	if errors.Is(e.Err, ErrHostKeyChanged) {
		return fmt.Sprintf("%s: host key changed (now %s); not in agreement with %s. If the host was reinstalled, remove its old line from %s and connect again",
			e.Host, e.Fingerprint, e.KnownHosts, e.KnownHosts)
	}
	return fmt.Sprintf("%s: host key %s is not in %s; check the fingerprint with the host's owner, then add it (ssh-keyscan, or set host_key = \"accept-new\" for this host)",
		e.Host, e.Fingerprint, e.KnownHosts)
}

func (e *HostKeyError) Unwrap() error { return e.Err }

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " / ")
}

// SudoRefusal recognises sudo's own refusals (sudo -n exits 1 before
// running anything) so they are not mistaken for the command failing. It
// is exported for the connections in transport/ssh and transport/local,
// which must classify a refusal the same way.
func SudoRefusal(cmd Cmd, code int, stderr string) error {
	if cmd.User == "" || code != 1 {
		return nil
	}
	for _, s := range []string{"sudo: a password is required", "is not in the sudoers file", "is not allowed to execute", "sudo: unknown user"} {
		if strings.Contains(stderr, s) {
			return &SudoError{User: cmd.User, Stderr: stderr}
		}
	}
	return nil
}
