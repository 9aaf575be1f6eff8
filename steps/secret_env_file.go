package steps

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"

	"tejun/transport"
)

// SecretEnvFile writes declared secrets (cloud API keys) as shell exports
// into a file a profile sources, readable by its owner only from the first
// byte. The values never appear in a plan, a dry-run or a command line: the
// check compares the file's SHA-256 with the wanted content's, so it does
// not read the secrets back either.
type SecretEnvFile struct {
	Path  string `toml:"path" doc:"The file on the host to write, sourced by a profile."`
	Owner string `toml:"owner" doc:"The user to own the file."`
	Group string `toml:"group" doc:"The group to own the file."`
	// Mode defaults to 0600 and may not let group or others read.
	Mode string `toml:"mode" default:"0600" doc:"The permissions in octal; group and others may not read."`
	// Exports are "VARIABLE = secret_name" lines, in the file's order.
	Exports []string `toml:"exports" doc:"VARIABLE = secret_name lines: each declared secret exported under its variable, in this order."`
}

var exportLine = regexp.MustCompile(`^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*([A-Za-z0-9_.-]+)\s*$`)

func (s *SecretEnvFile) mode() string {
	if s.Mode == "" {
		return "0600"
	}
	return s.Mode
}

func (s *SecretEnvFile) Validate() []Problem {
	ps := append(Require("secret_env_file", "path", s.Path), Absolute("path", s.Path)...)
	if len(s.Exports) == 0 {
		ps = append(ps, Problem{"exports", "secret_env_file needs exports (\"VARIABLE = secret_name\")"})
	}
	for i, e := range s.Exports {
		if exportLine.FindStringSubmatch(e) == nil {
			ps = append(ps, Problem{fmt.Sprintf("exports[%d]", i), fmt.Sprintf("%q: want VARIABLE = secret_name", e)})
		}
	}
	if !validMode(s.mode()) {
		ps = append(ps, Problem{"mode", "mode " + s.Mode + " is not an octal mode such as 0600"})
	} else if parseMode(s.mode())&0o077 != 0 {
		ps = append(ps, Problem{"mode", "mode " + s.Mode + " lets others read the secrets: use 0600 or 0400"})
	}
	return ps
}

func (s *SecretEnvFile) pairs() [][2]string {
	var out [][2]string
	for _, e := range s.Exports {
		if m := exportLine.FindStringSubmatch(e); m != nil {
			out = append(out, [2]string{m[1], m[2]})
		}
	}
	return out
}

// Secrets are the declared secrets the file holds.
func (s *SecretEnvFile) Secrets() []string {
	var names []string
	for _, p := range s.pairs() {
		names = append(names, p[1])
	}
	return names
}

func (s *SecretEnvFile) Describe(lang string) Description {
	var lines []string
	for _, p := range s.pairs() {
		lines = append(lines, "export "+p[0]+"=<secret "+p[1]+">")
	}
	return Description{
		Notes: []string{
			ownerModeNote(lang, s.Owner, s.Group, s.mode()+" ("+symbolic(parseMode(s.mode()))+")"),
			T(lang, "値は秘密情報で、表示も記録もされません。内容（SHA-256）・所有者・パーミッションが同じであれば作業不要です",
				"The values are secrets, never shown or logged. Nothing to do if content (SHA-256), owner and mode already match"),
		},
		Blocks: []Block{{Heading: s.Path, Lines: lines, Code: Literal}},
	}
}

func (s *SecretEnvFile) sum() transport.Cmd {
	return Parsed(transport.Cmd{Argv: []string{"sha256sum", "--", s.Path}})
}

// look refuses a symlink, FIFO or device before sha256sum could follow or
// block on it, and gives the owner and mode.
func (s *SecretEnvFile) look() transport.Cmd { return lookCmd(s.Path, false, "") }

func (s *SecretEnvFile) Plan() Plan {
	return Plan{
		Check: Ops(s.look(), s.sum()),
		Apply: []Op{{Action: "sftp write " + s.Path + " (secrets, mode " + s.mode() + " from the first byte)",
			ActionJa: "sftp で " + s.Path + " に書き込み（秘密情報。最初の1バイトからパーミッション " + s.mode() + "）"}},
	}
}

// content is the file: each value shell-quoted, so a key holding $ or a
// quote stays a value when the profile sources it.
func (s *SecretEnvFile) content(env Env) (string, error) {
	var b strings.Builder
	for _, p := range s.pairs() {
		v, err := env.Secret(p[1])
		if err != nil {
			return "", err
		}
		q, err := transport.Quote(string(v))
		if err != nil {
			return "", fmt.Errorf("secret %s: %w", p[1], err)
		}
		fmt.Fprintf(&b, "export %s=%s\n", p[0], q)
	}
	return b.String(), nil
}

func (s *SecretEnvFile) Check(ctx context.Context, env Env) (Status, error) {
	want, err := s.content(env)
	if err != nil {
		return Status{}, err
	}
	have, err := inspect(ctx, env, s.look(), s.Path, false)
	if err != nil {
		return Status{}, err
	}
	if !have.Exists {
		return NotDone("%s does not exist", s.Path), nil
	}
	out, err := env.Run(ctx, s.sum(), nil)
	if err != nil {
		return Status{}, err
	}
	got, _, _ := strings.Cut(out, " ")
	sum := sha256.Sum256([]byte(want))
	if got != hex.EncodeToString(sum[:]) {
		return NotDone("%s holds other values", s.Path), nil
	}
	if diff := ownerModeDiff(have, s.Owner, s.Group, s.mode()); diff != "" {
		return NotDone("%s has %s", s.Path, diff), nil
	}
	return Done("%s holds the secrets", s.Path), nil
}

func (s *SecretEnvFile) Apply(ctx context.Context, env Env) error {
	want, err := s.content(env)
	if err != nil {
		return err
	}
	files, err := env.Files()
	if err != nil {
		return err
	}
	_, err = files.WriteFile(ctx, s.Path, strings.NewReader(want), transport.WriteOptions{Mode: parseMode(s.mode()), Owner: s.Owner, Group: s.Group})
	return err
}

func (s *SecretEnvFile) Verify(ctx context.Context, env Env) error { return VerifyByCheck(ctx, env, s) }
