package run

import (
	"context"
	"strings"
	"sync"
	"testing"

	"tejun/runbook"
	"tejun/runbook/runbooktest"
	"tejun/steps"
	"tejun/transport"
	"tejun/transport/ssh"
	"tejun/transport/transporttest"
)

type recorder struct {
	mu     sync.Mutex
	events []Event
	logs   []string
}

func (r *recorder) Started(*runbook.Step, string) {}
func (r *recorder) Finished(e Event)              { r.mu.Lock(); r.events = append(r.events, e); r.mu.Unlock() }
func (r *recorder) Log(_ *runbook.Step, host, l string) {
	r.mu.Lock()
	r.logs = append(r.logs, host+": "+l)
	r.mu.Unlock()
}

func (r *recorder) status(step, host string) Status {
	for _, e := range r.events {
		if e.Step.ID == step && e.Host == host {
			return e.Status
		}
	}
	return ""
}

func bind(t *testing.T, rbSrc string) *runbook.Binding {
	t.Helper()
	return runbooktest.Bind(t, rbSrc, runbooktest.TwoHosts, runbooktest.Kinds()...)
}

func fakes(conns map[string]*transporttest.Fake) func(ctx context.Context, cfg ssh.Config) (transport.Conn, error) {
	return func(ctx context.Context, cfg ssh.Config) (transport.Conn, error) {
		return conns[cfg.Name], nil
	}
}

const wipe = `
[runbook]
name = "w"
[[section]]
id = "s"
on = "r"
title.en = "s"
[[section.step]]
id = "wipe"
kind = "remove"
title.en = "wipe"
dir = "/standby"
paths = ["db.*"]
`

// The operator's answer decides, per host; no answer, no deletion.
func TestConfirmationPerHost(t *testing.T) {
	b := bind(t, wipe)
	gone := func(f *transporttest.Fake) { f.On(`^env LC_ALL=C find /standby .* -print$`, transporttest.Reply{}) }
	h1 := transporttest.New().On(`^env LC_ALL=C find /standby .* -print$`, transporttest.Reply{Stdout: "/standby/db.have\n"}).On(`-exec rm`, transporttest.Reply{Then: gone})
	h2 := transporttest.New().On(`^env LC_ALL=C find /standby .* -print$`, transporttest.Reply{Stdout: "/standby/db.have\n"}).On(`-exec rm`, transporttest.Reply{Then: gone})
	var asked []string
	var mu sync.Mutex
	rec := &recorder{}
	_, err := Run(context.Background(), b, Options{
		Dial: fakes(map[string]*transporttest.Fake{"h1": h1, "h2": h2}),
		Confirm: func(ctx context.Context, q string) (bool, error) {
			mu.Lock()
			defer mu.Unlock()
			asked = append(asked, q)
			return strings.Contains(q, " on h1:"), nil
		},
	}, rec)
	if err != nil {
		t.Fatal(err)
	}
	if len(asked) != 2 || !strings.Contains(asked[0], "would remove db.have") {
		t.Fatalf("asked %q", asked)
	}
	h1.AssertReceived(t, `-exec rm -f -- '\{\}' \+$`)
	h2.AssertNotReceived(t, `-exec rm`)
	if rec.status("wipe", "h1") != Changed || rec.status("wipe", "h2") != Refused {
		t.Errorf("events %+v", rec.events)
	}
}

// Secrets are masked in everything the reporter gets, even when a remote
// command prints one back.
func TestSecretsMasked(t *testing.T) {
	b := bind(t, `
[runbook]
name = "m"
[[section]]
id = "s"
on = "h1"
title.en = "s"
[[section.step]]
id = "leaky"
kind = "command"
title.en = "prints too much"
argv = ["show-config"]
`)
	h1 := transporttest.New().On(`^show-config$`, transporttest.Reply{Stdout: "password=hunter2-distinctive\n", Stderr: "warning: hunter2-distinctive is weak\n", Code: 1})
	rec := &recorder{}
	if _, err := Run(context.Background(), b, Options{
		Dial:    fakes(map[string]*transporttest.Fake{"h1": h1}),
		Secrets: map[string][]byte{"pw": []byte("hunter2-distinctive")},
	}, rec); err != nil {
		t.Fatal(err)
	}
	all := strings.Join(rec.logs, "\n")
	for _, e := range rec.events {
		all += e.Reason + e.Error
	}
	if strings.Contains(all, "hunter2") || !strings.Contains(all, "********") {
		t.Errorf("secret not masked:\n%s", all)
	}
}

// A secret without a value is refused before any host is contacted.
func TestRefusesMissingSecretBeforeDialing(t *testing.T) {
	b := bind(t, `
[runbook]
name = "p"
[secrets.pw]
env = "UNSET_FOR_THIS_TEST"
[[section]]
id = "s"
on = "h1"
title.en = "s"
[[section.step]]
id = "pw"
kind = "p4.passwd"
title.en = "c"
port = "p:1"
name = "service"
secret = "pw"
`)
	dialed := false
	_, err := Run(context.Background(), b, Options{Dial: func(context.Context, ssh.Config) (transport.Conn, error) {
		dialed = true
		return nil, nil
	}}, &recorder{})
	if err == nil || dialed {
		t.Fatalf("err %v, dialed %v", err, dialed)
	}
}

const chain = `
[runbook]
name = "c"
[[section]]
id = "s"
on = "r"
title.en = "s"
[[section.step]]
id = "a"
kind = "command"
title.en = "a"
argv = ["step-a"]
[[section.step]]
id = "b"
kind = "command"
title.en = "b"
argv = ["step-b"]
[[section.step]]
id = "c"
kind = "command"
title.en = "c"
argv = ["step-c"]
`

func TestSelection(t *testing.T) {
	for _, tc := range []struct {
		name   string
		opt    Options
		h1, h2 []string // commands each host must receive
		notOn1 []string // and commands h1 must not
	}{
		{"all", Options{}, []string{"step-a", "step-b", "step-c"}, []string{"step-a", "step-c"}, nil},
		{"limit", Options{Limit: "h2"}, nil, []string{"step-a", "step-b", "step-c"}, []string{"step-a"}},
		{"from", Options{From: "b"}, []string{"step-b", "step-c"}, []string{"step-b"}, []string{"step-a"}},
		{"only", Options{Only: "b"}, []string{"step-b"}, []string{"step-b"}, []string{"step-a", "step-c"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := bind(t, chain)
			h1 := transporttest.New().On(`^step-`, transporttest.Reply{})
			h2 := transporttest.New().On(`^step-`, transporttest.Reply{})
			tc.opt.Dial = fakes(map[string]*transporttest.Fake{"h1": h1, "h2": h2})
			if _, err := Run(context.Background(), b, tc.opt, &recorder{}); err != nil {
				t.Fatal(err)
			}
			for _, c := range tc.h1 {
				h1.AssertReceived(t, "^"+c+"$")
			}
			for _, c := range tc.h2 {
				h2.AssertReceived(t, "^"+c+"$")
			}
			for _, c := range tc.notOn1 {
				h1.AssertNotReceived(t, "^"+c+"$")
			}
		})
	}
}

// --only and --from still end with the runbook's clean-up: a step run alone
// may log in (a ticket renewed with the secret), and the always section is
// what takes tejun's credentials off the host again.
func TestSelectionKeepsCleanup(t *testing.T) {
	src := chain + `
[[section]]
id = "cleanup"
on = "h1"
title.en = "clean up"
always = true
[[section.step]]
id = "z"
kind = "command"
title.en = "z"
argv = ["cleanup-z"]
`
	for _, opt := range []Options{{Only: "a"}, {From: "b"}} {
		b := bind(t, src)
		h1 := transporttest.New().On(`^(step-|cleanup-)`, transporttest.Reply{})
		h2 := transporttest.New().On(`^step-`, transporttest.Reply{})
		opt.Dial = fakes(map[string]*transporttest.Fake{"h1": h1, "h2": h2})
		rec := &recorder{}
		if _, err := Run(context.Background(), b, opt, rec); err != nil {
			t.Fatal(err)
		}
		for _, e := range rec.events {
			t.Logf("%s %s %s %s", e.Step.ID, e.Host, e.Status, e.Reason)
		}
		h1.AssertReceived(t, "^cleanup-z$")
	}
}

// A verify kind keeps checking until it holds, within its retries.
func TestWaitRetries(t *testing.T) {
	b := bind(t, `
[runbook]
name = "w"
[[section]]
id = "s"
on = "h1"
title.en = "s"
[[section.step]]
id = "wait"
kind = "wait_until"
title.en = "w"
argv = ["status"]
pattern = "^ready"
retries = 5
interval = "10ms"
`)
	n := 0
	h1 := transporttest.New()
	var answer func(*transporttest.Fake)
	answer = func(f *transporttest.Fake) {
		n++
		out := "starting\n"
		if n >= 3 {
			out = "ready\n"
		}
		f.On(`^env LC_ALL=C status$`, transporttest.Reply{Stdout: out, Then: answer})
	}
	h1.On(`^env LC_ALL=C status$`, transporttest.Reply{Stdout: "starting\n", Then: answer})
	rec := &recorder{}
	if _, err := Run(context.Background(), b, Options{Dial: fakes(map[string]*transporttest.Fake{"h1": h1})}, rec); err != nil {
		t.Fatal(err)
	}
	if rec.status("wait", "h1") != OK || len(h1.Received()) != 4 {
		t.Fatalf("status %s after %d checks", rec.status("wait", "h1"), len(h1.Received()))
	}
}

// sneaky is a kind whose Check breaks the read-only contract.
type sneaky struct{ steps.Command }

func (s *sneaky) Check(ctx context.Context, env steps.Env) (steps.Status, error) {
	if _, err := env.Run(ctx, transport.Cmd{Argv: []string{"rm", "-rf", "/srv/data"}}, nil); err != nil {
		return steps.Status{}, err
	}
	return steps.NotDone("checked"), nil
}

// Plan mode enforces what Check promises: a command that is not one of
// the step's check commands never reaches the host, and Apply never runs.
func TestPlanRefusesWhatIsNotACheck(t *testing.T) {
	kinds := append(steps.Generic(), steps.Kind{Name: "sneaky", New: func() steps.Step { return &sneaky{} }})
	b := runbooktest.Bind(t, `
[runbook]
name = "p"
[[section]]
id = "s"
on = "h1"
title.en = "s"
[[section.step]]
id = "honest"
kind = "command"
title.en = "guarded"
argv = ["make-it"]
creates = "/srv/made"
[[section.step]]
id = "bad"
kind = "sneaky"
title.en = "sneaky"
argv = ["true"]
`, "[hosts.h1]\n", kinds...)
	h1 := transporttest.New().On(`.`, transporttest.Reply{}).On(`^test -e /srv/made$`, transporttest.Reply{Code: 1})
	rec := &recorder{}
	if _, err := Plan(context.Background(), b, Options{Dial: fakes(map[string]*transporttest.Fake{"h1": h1})}, rec); err != nil {
		t.Fatal(err)
	}
	h1.AssertNotReceived(t, `^rm `)
	h1.AssertNotReceived(t, `^make-it`)
	if rec.status("honest", "h1") != WillChange || rec.status("bad", "h1") != Failed {
		t.Fatalf("events %+v", rec.events)
	}
	for _, e := range rec.events {
		if e.Step.ID == "bad" && !strings.Contains(e.Error, "not one of the step's check commands") {
			t.Errorf("refusal not explained: %s", e.Error)
		}
	}
}

// The standby rebuild of the HA manual: stop the server and remove its
// database, both guarded by the replication check that comes later.
const rebuild = `
[runbook]
name = "r"
[[section]]
id = "s"
on = "h1"
title.en = "s"
[[section.step]]
id = "stop"
done_when = "guard"
kind = "p4dctl"
title.en = "stop"
name = "standby"
state = "stopped"
[[section.step]]
id = "wipe"
done_when = "guard"
kind = "remove"
title.en = "wipe"
dir = "/standby"
paths = ["db.*"]
[[section.step]]
id = "guard"
kind = "p4.pull"
title.en = "replicating"
port = "standby:1666"
user = "super"
root = "/standby"
server_id = "standby"
retries = 2
interval = "1ms"
`

// standbyHost answers like a server that is running but no replica (the
// manual's freshly installed standby), whose database tejun would remove.
func standbyHost() *transporttest.Fake {
	stopped := func(f *transporttest.Fake) {
		f.On(`^env LC_ALL=C p4dctl status standby$`, transporttest.Reply{Stdout: "p4d 'standby' is not running.\n", Code: 1})
	}
	gone := func(f *transporttest.Fake) { f.On(`^env LC_ALL=C find /standby .* -print$`, transporttest.Reply{}) }
	return transporttest.New().
		On(`pull -lj$`, transporttest.Reply{Stderr: "Command only valid on a replica server.\n", Code: 1}).
		On(`^env LC_ALL=C p4dctl status standby$`, transporttest.Reply{Stdout: "p4d 'standby' is running with pid 42.\n"}).
		On(`^p4dctl stop standby$`, transporttest.Reply{Then: stopped}).
		On(`^env LC_ALL=C find /standby .* -print$`, transporttest.Reply{Stdout: "/standby/db.have\n"}).
		On(`-exec rm`, transporttest.Reply{Then: gone})
}

// The destructive group is confirmed once, before its first step: "no"
// leaves the standby running with its database; "yes" runs both.
func TestDestructiveGroupConfirmedOnce(t *testing.T) {
	for _, answer := range []bool{false, true} {
		h1 := standbyHost()
		var asked []string
		rec := &recorder{}
		_, err := Run(context.Background(), bind(t, rebuild), Options{
			Dial: fakes(map[string]*transporttest.Fake{"h1": h1}),
			Confirm: func(ctx context.Context, q string) (bool, error) {
				asked = append(asked, q)
				return answer, nil
			},
		}, rec)
		if err != nil {
			t.Fatal(err)
		}
		if len(asked) != 1 || !strings.Contains(asked[0], "stop") || !strings.Contains(asked[0], "wipe") {
			t.Fatalf("answer %v: asked %q, want one question naming stop and wipe", answer, asked)
		}
		if !answer {
			h1.AssertNotReceived(t, `^p4dctl stop`)
			h1.AssertNotReceived(t, `-exec rm`)
			if rec.status("stop", "h1") != Refused || rec.status("wipe", "h1") == Changed {
				t.Errorf("events %+v", rec.events)
			}
			continue
		}
		h1.AssertReceived(t, `^p4dctl stop standby$`)
		h1.AssertReceived(t, `-exec rm`)
		if rec.status("stop", "h1") != Changed || rec.status("wipe", "h1") != Changed {
			t.Errorf("events %+v", rec.events)
		}
	}
}

// A guard that cannot be evaluated stops the guarded steps, even with
// --yes: here the standby's p4d does not answer (restarting) and its root
// holds its own database, which is no proof that it is not replicating.
func TestDoneWhenUnknownFailsClosed(t *testing.T) {
	h1 := standbyHost().
		On(`pull -lj$`, transporttest.Reply{Stderr: "Perforce client error:\n\tConnect to server failed; check $P4PORT.\n\tconnect: standby:1666: Connection refused\n", Code: 1}).
		On(`^env LC_ALL=C cat -- /standby/server.id$`, transporttest.Reply{Stdout: "standby\n"}).
		On(`^env LC_ALL=C find /standby -maxdepth 1 -name 'db\.\*' -print -quit$`, transporttest.Reply{Stdout: "/standby/db.have\n"})
	rec := &recorder{}
	if _, err := Run(context.Background(), bind(t, rebuild), Options{Yes: true, Dial: fakes(map[string]*transporttest.Fake{"h1": h1})}, rec); err != nil {
		t.Fatal(err)
	}
	h1.AssertNotReceived(t, `^p4dctl stop`)
	h1.AssertNotReceived(t, `-exec rm`)
	var stop Event
	for _, e := range rec.events {
		if e.Step.ID == "stop" {
			stop = e
		}
	}
	if stop.Status != Failed || !strings.Contains(stop.Error, "cannot tell whether done_when guard holds") || !strings.Contains(stop.Error, "cannot be told from a broken one") {
		t.Errorf("stop: %+v", stop)
	}
	// With no database there, nothing can be lost: the rebuild goes ahead.
	h1.On(`^env LC_ALL=C find /standby -maxdepth 1 -name 'db\.\*' -print -quit$`, transporttest.Reply{})
	rec = &recorder{}
	if _, err := Run(context.Background(), bind(t, rebuild), Options{Yes: true, Dial: fakes(map[string]*transporttest.Fake{"h1": h1})}, rec); err != nil {
		t.Fatal(err)
	}
	if rec.status("stop", "h1") != Changed {
		t.Errorf("empty root: events %+v", rec.events)
	}
}

// A manual step whose instruction is the same on every host is one piece
// of work (an AWS console page): the operator is asked once, and the
// answer stands for every host. One that differs per host is asked per host.
func TestManualStepAskedOncePerWork(t *testing.T) {
	b := bind(t, `
[runbook]
name = "m"
[[section]]
id = "s"
on = "r"
title.en = "s"
[[section.step]]
id = "console"
kind = "manual"
title.en = "console"
instruction.en = "Set up the VPC in the AWS console."
[[section.step]]
id = "per-host"
kind = "manual"
title.en = "per host"
instruction.en = "Run passwd on {{ host.name }}."
`)
	var asked []string
	var mu sync.Mutex
	rec := &recorder{}
	_, err := Run(context.Background(), b, Options{
		Dial: fakes(map[string]*transporttest.Fake{"h1": transporttest.New(), "h2": transporttest.New()}),
		Confirm: func(ctx context.Context, q string) (bool, error) {
			mu.Lock()
			defer mu.Unlock()
			asked = append(asked, q)
			return true, nil
		},
	}, rec)
	if err != nil {
		t.Fatal(err)
	}
	console := 0
	for _, q := range asked {
		if strings.Contains(q, "AWS console") {
			console++
		}
	}
	if console != 1 || len(asked) != 3 {
		t.Errorf("asked %d times about the console, %d in all: %q", console, len(asked), asked)
	}
	for _, h := range []string{"h1", "h2"} {
		if rec.status("console", h) != Changed || rec.status("per-host", h) != Changed {
			t.Errorf("%s: console %s, per-host %s", h, rec.status("console", h), rec.status("per-host", h))
		}
	}
}

// TestQuestionLabelsInLang: an English operator is asked about step 1-1,
// a Japanese one about 1-①.
func TestQuestionLabelsInLang(t *testing.T) {
	for lang, want := range map[string]string{"en": "1-1 wipe", "ja": "1-① wipe", "": "1-① wipe"} {
		b := bind(t, wipe)
		h := func() *transporttest.Fake {
			return transporttest.New().On(`find /standby .* -print$`, transporttest.Reply{Stdout: "/standby/db.have\n"})
		}
		var mu sync.Mutex
		var asked []string
		_, err := Run(context.Background(), b, Options{Lang: lang,
			Dial: fakes(map[string]*transporttest.Fake{"h1": h(), "h2": h()}),
			Confirm: func(ctx context.Context, q string) (bool, error) {
				mu.Lock()
				defer mu.Unlock()
				asked = append(asked, q)
				return false, nil
			},
		}, &recorder{})
		if err != nil {
			t.Fatal(err)
		}
		if len(asked) == 0 || !strings.Contains(asked[0], want) {
			t.Errorf("lang %q: asked %q, want %q in it", lang, asked, want)
		}
	}
}

const withCleanup = `
[runbook]
name = "c"
max_fail = 0
[[section]]
id = "s"
on = "h1"
title.en = "s"
[[section.step]]
id = "a"
kind = "command"
title.en = "a"
argv = ["first"]
[[section.step]]
id = "b"
kind = "command"
title.en = "b"
argv = ["second"]
[[section]]
id = "cleanup"
on = "r"
always = true
title.en = "clean up"
[[section.step]]
id = "c"
kind = "command"
title.en = "c"
argv = ["cleanup"]
`

// An always section runs after max_fail stopped the run and after an
// interrupt, on the hosts the run reached only: h2 was never contacted,
// so nothing is dialled there to clean up.
func TestAlwaysSectionRunsAfterStop(t *testing.T) {
	for _, c := range []struct {
		name  string
		first transporttest.Reply
	}{
		{"failed", transporttest.Reply{Stderr: "boom\n", Code: 1}},
		{"interrupted", transporttest.Reply{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := bind(t, withCleanup)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			first := c.first
			if c.name == "interrupted" {
				first.Then = func(*transporttest.Fake) { cancel() }
			}
			h1 := transporttest.New().On(`^first$`, first).On(`^second$`, transporttest.Reply{}).On(`^cleanup$`, transporttest.Reply{})
			h2 := transporttest.New().On(`.`, transporttest.Reply{})
			dialled := map[string]bool{}
			var mu sync.Mutex
			dial := func(ctx context.Context, cfg ssh.Config) (transport.Conn, error) {
				mu.Lock()
				dialled[cfg.Name] = true
				mu.Unlock()
				return map[string]*transporttest.Fake{"h1": h1, "h2": h2}[cfg.Name], nil
			}
			rec := &recorder{}
			if _, err := Run(ctx, b, Options{Dial: dial}, rec); err != nil {
				t.Fatal(err)
			}
			h1.AssertNotReceived(t, `^second$`)
			h1.AssertReceived(t, `^cleanup$`)
			if st := rec.status("c", "h1"); st != Changed && st != OK {
				t.Errorf("clean-up on h1: %s", st)
			}
			if st := rec.status("c", "h2"); st != Skipped || dialled["h2"] {
				t.Errorf("clean-up on h2, never reached: %s (dialled %v)", st, dialled["h2"])
			}
		})
	}
}

// The question before a destructive change is asked in the run's
// language.
func TestConfirmInLang(t *testing.T) {
	for lang, want := range map[string]string{
		"en": "On h1: ",
		"ja": "h1 の ",
	} {
		var asked []string
		_, err := Run(context.Background(), bind(t, rebuild), Options{
			Lang: lang,
			Dial: fakes(map[string]*transporttest.Fake{"h1": standbyHost()}),
			Confirm: func(ctx context.Context, q string) (bool, error) {
				asked = append(asked, q)
				return false, nil
			},
		}, &recorder{})
		if err != nil {
			t.Fatal(err)
		}
		end := map[string]string{"en": ". Run them?", "ja": "。実行しますか？"}[lang]
		if len(asked) != 1 || !strings.HasPrefix(asked[0], want) || !strings.HasSuffix(asked[0], end) {
			t.Errorf("%s: asked %q, want %q…%q", lang, asked, want, end)
		}
	}
}
