package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"syscall"

	"golang.org/x/term"

	"tejun/runbook"
	"tejun/steps"
)

// secrets collects the values of the secrets the run's steps use, before
// any host is contacted: from --secret NAME=@FILE, the declared env var,
// the declared file, or (on a terminal only) a prompt that does not echo.
func (a *App) secrets(b *runbook.Binding, overrides []string) (map[string][]byte, error) {
	given := map[string]string{}
	for _, o := range overrides {
		name, file, ok := strings.Cut(o, "=@")
		if !ok {
			return nil, invalid(fmt.Errorf("--secret %s: want NAME=@FILE (values never go on a command line)", strings.SplitN(o, "=", 2)[0]))
		}
		given[name] = file
	}
	needed := map[string]bool{}
	for _, ins := range b.Instances {
		for _, in := range ins {
			if su, ok := in.Impl.(steps.SecretUser); ok {
				for _, s := range su.Secrets() {
					needed[s] = true
				}
			}
		}
	}
	out := map[string][]byte{}
	var problems []string
	for _, s := range b.Runbook.Secrets {
		if !needed[s.Name] {
			continue
		}
		v, err := a.secret(s, given[s.Name])
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		out[s.Name] = v
	}
	if len(problems) > 0 {
		return nil, invalid(errors.New(strings.Join(problems, "\n")))
	}
	return out, nil
}

func (a *App) secret(s *runbook.Secret, file string) ([]byte, error) {
	if file != "" {
		return readSecretFile(file)
	}
	if s.Env != "" {
		if v := a.getenv(s.Env); v != "" {
			return []byte(v), nil
		}
	}
	if s.File != "" {
		// A declared file that is not there leaves the next source; one
		// that is there but refused (too open) stops, rather than
		// prompting as if the file did not exist.
		v, err := readSecretFile(s.File)
		if err == nil {
			return v, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	if s.Prompt {
		if f, ok := a.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			out := a.askOn(f)
			fmt.Fprintf(out, "%s (%s): ", s.Name, s.Description.In("en"))
			v, err := term.ReadPassword(int(f.Fd()))
			fmt.Fprintln(out)
			if err != nil {
				return nil, err
			}
			return v, nil
		}
	}
	var from []string
	if s.Env != "" {
		from = append(from, "env "+s.Env)
	}
	if s.File != "" {
		from = append(from, "file "+s.File)
	}
	if s.Prompt {
		from = append(from, "a prompt (only on a terminal)")
	}
	from = append(from, "--secret "+s.Name+"=@FILE")
	return nil, fmt.Errorf("secret %s has no value: set %s", s.Name, strings.Join(from, ", or "))
}

// readSecretFile reads a secret, without the final newline an editor adds.
// A regular file that others can read or write is refused, as OpenSSH
// refuses an unprotected private key (sshkey_perm_ok): the secret has
// already leaked, or can be swapped, and using it would hide that. As for
// OpenSSH, that is the rule for the user's own files; a file another user
// owns (root:ssl-cert 0640) is shared by that owner's choice, and the user
// could not chmod it anyway, unless everyone may read it. A pipe
// (--secret pw=@/dev/stdin from a CI's secret store) is read as given.
// The mode checked is the open file's, so no swap after a check counts.
func readSecretFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("secret file: %w", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return nil, fmt.Errorf("secret file: %w", err)
	} else if err := secretFileMode(path, fi); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("secret file: %w", err)
	}
	return []byte(strings.TrimRight(string(b), "\r\n")), nil
}

func secretFileMode(path string, fi fs.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return nil
	}
	perm := fi.Mode().Perm()
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		if perm&0o006 != 0 {
			return fmt.Errorf("secret file %s is readable by everyone (mode %04o): its owner must chmod o-rwx it; tejun will not use a secret anyone could have read", path, perm)
		}
		return nil
	}
	if perm&0o077 != 0 {
		return fmt.Errorf("secret file %s is readable or writable by others (mode %04o): chmod go-rwx %s; tejun will not use a secret others could have read or changed", path, perm, path)
	}
	return nil
}

// confirm asks on the terminal; it is nil (no one to ask) otherwise.
func (a *App) confirm(hold func() func()) func(ctx context.Context, question string) (bool, error) {
	f, ok := a.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	p := newPrompter(f, a.askOn(f))
	p.hold, p.flush = hold, flushInput(f)
	return p.Ask
}

// askOn is where a question whose answer is typed on the terminal in goes:
// stderr when it is a terminal, else that terminal itself. With stderr
// sent to a file (2>run.err) the question would go there, unseen, and the
// run would wait for an answer to nothing the operator can see.
func (a *App) askOn(in *os.File) io.Writer {
	if ef, ok := a.stderr.(*os.File); ok && term.IsTerminal(int(ef.Fd())) {
		return a.stderr
	}
	return in
}
