package steps

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"tejun/transport"
)

// Reconnector is implemented by an Env that can drop its connection and
// dial again: after a reboot the old connection is dead.
type Reconnector interface {
	Reconnect(ctx context.Context, wait time.Duration) error
}

// Reboot restarts a host for a change that needs it (SELinux disabled),
// then waits until SSH answers again. It is done when its check command's
// output already matches: a host already in the wanted state is not
// rebooted again.
type Reboot struct {
	CheckArgv []string `toml:"check" doc:"A read-only command whose output says whether the host is already as wanted (getenforce)."`
	Pattern   string   `toml:"pattern" doc:"The regular expression check's output matches once the reboot is done: then no reboot."`
	// Wait bounds how long the host may take to come back (default 10m).
	Wait string `toml:"wait" default:"10m" doc:"How long the host may take to answer SSH again."`
}

func (r *Reboot) Validate() []Problem {
	var ps []Problem
	if len(r.CheckArgv) == 0 {
		ps = append(ps, Problem{"check", "reboot needs a check command whose output shows the reboot is done (getenforce)"})
	}
	if _, err := regexp.Compile(r.Pattern); err != nil || r.Pattern == "" {
		ps = append(ps, Problem{"pattern", "reboot needs a pattern for the check's output"})
	}
	if r.Wait != "" {
		if _, err := time.ParseDuration(r.Wait); err != nil {
			ps = append(ps, Problem{"wait", "wait " + r.Wait + ": want a duration such as 10m"})
		}
	}
	return ps
}

// Destructive: a reboot stops everything on the host.
func (r *Reboot) Destructive() bool { return true }

func (r *Reboot) wait() time.Duration {
	if d, err := time.ParseDuration(r.Wait); err == nil && d > 0 {
		return d
	}
	return 10 * time.Minute
}

func (r *Reboot) check() transport.Cmd { return Parsed(transport.Cmd{Argv: r.CheckArgv}) }

// rebootCmd detaches the reboot so the command returns before the connection
// goes down with the host.
func rebootCmd() transport.Cmd {
	return transport.Cmd{Argv: []string{"sh", "-c", "nohup sh -c 'sleep 1; systemctl reboot || reboot' >/dev/null 2>&1 &"}}
}

func (r *Reboot) Describe(lang string) Description {
	return Description{
		Notes: []string{T(lang, "設定を反映させる為、再起動します。再起動後、下のコマンドの出力を確認します", "Reboots so the change takes effect; afterwards the output of the command below is checked")},
		Blocks: []Block{
			CommandBlock(lang, transport.Cmd{Argv: []string{"reboot"}}),
			{Heading: T(lang, "再起動後の確認", "After the reboot"), Lines: []string{ManualLine(r.check())}, Code: Shell},
			{Heading: T(lang, "確認する内容", "Expected"), Lines: ExpectedLines(lang, "出力", r.Pattern)},
		},
	}
}

func (r *Reboot) Plan() Plan {
	return Plan{Check: Ops(r.check()), Apply: []Op{{Cmd: rebootCmd()}, {Action: "wait until SSH answers again (up to " + r.wait().String() + ")",
		ActionJa: "SSH が再び応答するまで待機（最大 " + r.wait().String() + "）"}}}
}

func (r *Reboot) Check(ctx context.Context, env Env) (Status, error) {
	out, err := env.Run(ctx, r.check(), nil)
	if err != nil && exitCode(err) < 0 {
		return Status{}, err
	}
	if err == nil && regexp.MustCompile(r.Pattern).MatchString(out) {
		return Done("%s: %s", r.CheckArgv[0], firstLineOf(out)), nil
	}
	return NotDone("%s: %s; a reboot applies the change", r.CheckArgv[0], firstLineOf(out)), nil
}

func (r *Reboot) Apply(ctx context.Context, env Env) error {
	rc, ok := env.(Reconnector)
	if !ok {
		return fmt.Errorf("this connection cannot wait for a reboot")
	}
	if _, err := env.Run(ctx, rebootCmd(), nil); err != nil {
		return err
	}
	return rc.Reconnect(ctx, r.wait())
}

func (r *Reboot) Verify(ctx context.Context, env Env) error { return VerifyByCheck(ctx, env, r) }

func firstLineOf(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}
