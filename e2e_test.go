package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/skeema/knownhosts"

	"tejun/runbook/cli"
	"tejun/runbook/runbooktest"
	"tejun/transport/testbed"
)

// inventoryFor writes an inventory for a test-bed: every host with its
// address, port, the bed's key and known_hosts, in role "nodes" unless
// roles says otherwise.
func inventoryFor(t *testing.T, b *testbed.Bed, extra string, vars map[string]map[string]string) string {
	t.Helper()
	var s strings.Builder
	fmt.Fprintf(&s, "[defaults]\nuser = \"root\"\nidentity_file = %q\nknown_hosts = %q\n\n", b.KeyFile, b.KnownHosts)
	for _, h := range b.Hosts {
		fmt.Fprintf(&s, "[hosts.%s]\naddress = %q\nport = %d\nroles = [\"nodes\"]\n", h.Name, h.Address, h.Port)
		if v := vars[h.Name]; len(v) > 0 {
			fmt.Fprintf(&s, "[hosts.%s.vars]\n", h.Name)
			for k, val := range v {
				fmt.Fprintf(&s, "%s = %q\n", k, val)
			}
		}
		s.WriteString("\n")
	}
	s.WriteString(extra)
	path := runbooktest.Write(t, "", "inventory.toml", s.String())
	return path
}

// stamp is the time plain run output starts each line with.
var stamp = regexp.MustCompile(`(?m)^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:Z|[+-]\d\d:\d\d) `)

// unstamp takes the times off plain run output.
func unstamp(out string) string { return stamp.ReplaceAllString(out, "") }

// statuses reads the run's lines into "step host" → status.
func statuses(out string) map[string]string {
	got := map[string]string{}
	line := regexp.MustCompile(`^\S+\s+(\S+)\s+(\S+)\s+(ok|changed|failed|skipped|refused)\b`)
	for _, l := range strings.Split(unstamp(out), "\n") {
		if m := line.FindStringSubmatch(l); m != nil {
			got[m[1]+" "+m[2]] = m[3]
		}
		// Skips are said once per cause at the end:
		// "skipped: 2 steps after 1-① breaks failed on n1: 1-② after, 1-③ next (n2)".
		if rest, ok := strings.CutPrefix(l, "skipped: "); ok {
			if i := strings.LastIndex(rest, ": "); i >= 0 {
				for _, item := range strings.Split(rest[i+2:], ", ") {
					f := strings.Fields(item)
					if len(f) == 2 {
						got[f[1]+" -"] = "skipped"
					} else if len(f) == 3 {
						got[f[1]+" "+strings.Trim(f[2], "()")] = "skipped"
					}
				}
			}
		}
	}
	return got
}

func owner(t *testing.T, path string) (uint32, os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Uid, fi.Mode().Perm()
}

func mtimes(t *testing.T, paths ...string) map[string]time.Time {
	m := map[string]time.Time{}
	for _, p := range paths {
		if fi, err := os.Stat(p); err == nil {
			m[p] = fi.ModTime()
		}
	}
	return m
}

func TestRunGenericKinds(t *testing.T) {
	b := testbed.Start(t, "n1", "n2")
	hostile := "$(touch /tmp/pwned); `touch /tmp/pwned2` 'q' \"d\" \\ end"
	inv := inventoryFor(t, b, "", map[string]map[string]string{"n1": {"motd": hostile}, "n2": {"motd": "plain"}})
	for _, h := range b.Hosts {
		h.Install(t, "testdata/stand-ins/systemctl")
		os.MkdirAll(h.Path("/var/lib/tejun-systemctl"), 0o755)
		os.WriteFile(h.Path("/var/lib/tejun-systemctl/firewalld.active"), nil, 0o644)
		os.WriteFile(h.Path("/var/lib/tejun-systemctl/firewalld.enabled"), nil, 0o644)
		os.MkdirAll(h.Path("/var/tmp/junk/cache/deep"), 0o755)
		os.WriteFile(h.Path("/var/tmp/junk/a.tmp"), nil, 0o644)
		os.WriteFile(h.Path("/var/tmp/junk/keep.txt"), nil, 0o644)
	}
	args := []string{"run", "testdata/e2e/generic.toml", "-i", inv, "--yes", "--assume-done", "sign-off"}

	out, errOut, code := run(t, args...)
	if code != 0 {
		t.Fatalf("first run: exit %d\n%s\n%s", code, out, errOut)
	}
	first := statuses(out)
	// own changes too: files the steps created as root are handed over.
	for _, key := range []string{"app-dir n1", "app-dir n2", "app-conf n1", "initialize n2", "motd n1", "firewall n1", "junk n2", "send n1", "place n2", "own n1", "own n2"} {
		if first[key] != "changed" {
			t.Errorf("first run: %s is %q, want changed\n%s", key, first[key], out)
		}
	}
	for _, key := range []string{"conf-ready n1", "sign-off n1"} {
		if first[key] != "ok" {
			t.Errorf("first run: %s is %q, want ok", key, first[key])
		}
	}

	n1, n2 := b.Host("n1"), b.Host("n2")
	if uid, mode := owner(t, n1.Path("/srv/app")); uid != 1666 || mode != 0o750 {
		t.Errorf("/srv/app: uid %d mode %o", uid, mode)
	}
	if uid, mode := owner(t, n2.Path("/srv/app/app.conf")); uid != 1666 || mode != 0o640 {
		t.Errorf("app.conf: uid %d mode %o", uid, mode)
	}
	if got, _ := os.ReadFile(n1.Path("/srv/app/motd")); string(got) != hostile {
		t.Errorf("motd = %q, want the inventory value literally", got)
	}
	for _, p := range []string{"/tmp/pwned", "/tmp/pwned2"} {
		if _, err := os.Stat(n1.Path(p)); err == nil {
			t.Errorf("an inventory value was run by a shell: %s exists", p)
		}
	}
	want, _ := os.ReadFile("testdata/e2e/files/app.conf")
	if got, _ := os.ReadFile(n2.Path("/srv/app/from-n1.conf")); string(got) != string(want) {
		t.Errorf("transferred file = %q", got)
	}
	if _, err := os.Stat(n2.Path("/var/tmp/junk/cache")); err == nil {
		t.Error("cache/ was not removed")
	}
	if _, err := os.Stat(n2.Path("/var/tmp/junk/keep.txt")); err != nil {
		t.Error("remove took a file it should have left")
	}
	if _, err := os.Stat(n1.Path("/var/lib/tejun-systemctl/firewalld.active")); err == nil {
		t.Error("firewalld still active")
	}

	second := rerunChangesNothing(t, args, n1.Path("/srv/app/app.conf"), n2.Path("/srv/app/from-n1.conf"),
		n1.Path("/srv/app/.initialized"), n1.Path("/srv/app/motd"), n1.Path("/var/lib/tejun-systemctl/firewalld.log"))
	if len(second) != len(first) {
		t.Errorf("second run reported %d step runs, first %d", len(second), len(first))
	}
}

// rerunChangesNothing runs args again: every step must report ok (already
// done), and none of the watched files may be touched. It returns the
// second run's statuses.
func rerunChangesNothing(t *testing.T, args []string, watched ...string) map[string]string {
	t.Helper()
	before := mtimes(t, watched...)
	time.Sleep(20 * time.Millisecond)
	out, errOut, code := run(t, args...)
	if code != 0 {
		t.Fatalf("second run: exit %d\n%s\n%s", code, out, errOut)
	}
	st := statuses(out)
	if len(st) == 0 {
		t.Fatalf("the second run reported no step:\n%s", out)
	}
	for key, s := range st {
		if s != "ok" {
			t.Errorf("second run: %s is %s, want ok (already done)", key, s)
		}
	}
	if after := mtimes(t, watched...); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("the second run touched files:\nbefore %v\nafter  %v", before, after)
	}
	return st
}

func TestRunFailureSkipsDependentsOnce(t *testing.T) {
	b := testbed.Start(t, "n1")
	inv := inventoryFor(t, b, "", nil)
	rb := runbooktest.Write(t, "", "runbook.toml", `
[runbook]
name = "fails"
[[section]]
id = "s"
on = "n1"
title.en = "s"
[[section.step]]
id = "breaks"
kind = "command"
title.en = "fails"
argv = ["sh", "-c", "echo the disk is full >&2; exit 4"]
[[section.step]]
id = "after"
kind = "command"
title.en = "needs breaks"
argv = ["touch", "/tmp/after"]
[[section.step]]
id = "after-after"
kind = "command"
title.en = "needs after"
argv = ["touch", "/tmp/after-after"]
[[section.step]]
id = "independent"
kind = "command"
title.en = "own chain"
needs = []
argv = ["touch", "/tmp/independent"]
[[section.step]]
id = "slow"
kind = "command"
title.en = "times out"
needs = []
timeout = "300ms"
argv = ["sleep", "20"]
`)
	start := time.Now()
	out, _, code := run(t, "run", rb, "-i", inv)
	if code != cli.ExitFailed {
		t.Fatalf("exit %d, want %d\n%s", code, cli.ExitFailed, out)
	}
	if time.Since(start) > 10*time.Second {
		t.Error("the step timeout did not stop the slow command")
	}
	got := statuses(out)
	if got["breaks n1"] != "failed" || got["after -"] != "skipped" || got["after-after -"] != "skipped" || got["independent n1"] != "changed" || got["slow n1"] != "failed" {
		t.Errorf("statuses %v\n%s", got, out)
	}
	// The failure once with its reason (besides its "started" line); its
	// dependents once, naming it
	// (after-after was skipped for after, itself skipped for breaks).
	if !strings.Contains(out, "the disk is full") || strings.Count(out, "breaks") != 3 ||
		!strings.Contains(out, "skipped: 2 件（1-① breaks が n1 で失敗したため）: 1-② after, 1-③ after-after\n") {
		t.Errorf("want the failure's stderr and one line for its dependents:\n%s", out)
	}
	if _, err := os.Stat(b.Hosts[0].Path("/tmp/after")); err == nil {
		t.Error("a dependent of a failed step ran")
	}
}

func TestRunDestructiveNeedsYes(t *testing.T) {
	b := testbed.Start(t, "n1")
	inv := inventoryFor(t, b, "", nil)
	h := b.Hosts[0]
	os.MkdirAll(h.Path("/standby"), 0o755)
	os.WriteFile(h.Path("/standby/db.have"), []byte("data"), 0o644)
	rb := runbooktest.Write(t, "", "runbook.toml", `
[runbook]
name = "destroy"
[[section]]
id = "s"
on = "n1"
title.en = "s"
[[section.step]]
id = "wipe"
kind = "remove"
title.en = "remove the database"
dir = "/standby"
paths = ["db.*"]
`)
	out, errOut, code := run(t, "run", rb, "-i", inv)
	if code != cli.ExitRefused || statuses(out)["wipe n1"] != "refused" || !strings.Contains(out, "--yes") {
		t.Fatalf("without --yes: exit %d\n%s%s", code, out, errOut)
	}
	if _, err := os.Stat(h.Path("/standby/db.have")); err != nil {
		t.Fatal("the database was removed without confirmation")
	}
	if out, _, code := run(t, "run", rb, "-i", inv, "--yes"); code != 0 || statuses(out)["wipe n1"] != "changed" {
		t.Fatalf("with --yes: exit %d\n%s", code, out)
	}
	// Nothing left to remove: no confirmation needed at all.
	if out, _, code := run(t, "run", rb, "-i", inv); code != 0 || statuses(out)["wipe n1"] != "ok" {
		t.Fatalf("already done without --yes: exit %d\n%s", code, out)
	}
}

func TestRunInterrupted(t *testing.T) {
	b := testbed.Start(t, "n1")
	inv := inventoryFor(t, b, "", nil)
	rb := runbooktest.Write(t, "", "runbook.toml", `
[runbook]
name = "interrupt"
[[section]]
id = "s"
on = "n1"
title.en = "s"
[[section.step]]
id = "long"
kind = "command"
title.en = "long"
argv = ["sleep", "41"]
[[section.step]]
id = "next"
kind = "command"
title.en = "next"
argv = ["touch", "/tmp/next"]
`)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(time.Second, cancel)
	out, _, code := runCtx(t, ctx, "run", rb, "-i", inv)
	if code != cli.ExitInterrupted {
		t.Fatalf("exit %d, want %d\n%s", code, cli.ExitInterrupted, out)
	}
	if got := statuses(out); got["long n1"] != "failed" || got["next -"] != "skipped" || !strings.Contains(out, "interrupted") {
		t.Errorf("statuses %v\n%s", got, out)
	}
	if strings.Contains(out, "context canceled") {
		t.Errorf("the operator is shown Go's context error, not what happened:\n%s", out)
	}
	if _, err := os.Stat(b.Hosts[0].Path("/tmp/next")); err == nil {
		t.Error("a step started after the interrupt")
	}
	if procs, _ := filepath.Glob("/proc/[0-9]*/cmdline"); len(procs) > 0 {
		for _, p := range procs {
			if data, _ := os.ReadFile(p); strings.Contains(string(data), "sleep\x0041") {
				t.Error("the interrupted remote command still runs")
			}
		}
	}
}

func TestRunHostKeyAndUnreachable(t *testing.T) {
	b := testbed.Start(t, "n1")
	other := testbed.Start(t, "imposter")
	// n1's address with another host's key in known_hosts.
	kh := filepath.Join(t.TempDir(), "known_hosts")
	line := knownhosts.Line([]string{knownhosts.Normalize(b.Hosts[0].Addr())}, other.Hosts[0].HostKey)
	os.WriteFile(kh, []byte(line+"\n"), 0o600)
	inv := inventoryFor(t, b, "", nil)
	runbooktest.Edit(t, inv, b.KnownHosts, kh)
	rb := runbooktest.Write(t, "", "runbook.toml", `
[runbook]
name = "hk"
[[section]]
id = "s"
on = "n1"
title.en = "s"
[[section.step]]
id = "touch"
kind = "command"
title.en = "touch"
argv = ["touch", "/tmp/x"]
`)
	out, _, code := run(t, "run", rb, "-i", inv)
	if code != cli.ExitUnreachable || !strings.Contains(out, "host key changed") {
		t.Fatalf("changed host key: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(b.Hosts[0].Path("/tmp/x")); err == nil {
		t.Fatal("ran on a host whose key did not match")
	}
	b.Hosts[0].Stop()
	out, _, code = run(t, "run", rb, "-i", inventoryFor(t, b, "", nil))
	if code != cli.ExitUnreachable || !strings.Contains(out, "unreachable") {
		t.Fatalf("stopped host: exit %d\n%s", code, out)
	}
}

func TestRunThroughBastion(t *testing.T) {
	b := testbed.StartHosts(t, testbed.HostSpec{Name: "bastion", Gateway: true}, testbed.HostSpec{Name: "db", Private: true})
	inv := inventoryFor(t, b, "", nil)
	runbooktest.Edit(t, inv, "[hosts.db]\n", "[hosts.db]\njump = \"bastion\"\n")
	rb := runbooktest.Write(t, "", "runbook.toml", `
[runbook]
name = "jump"
[[section]]
id = "s"
on = "db"
title.en = "s"
[[section.step]]
id = "mark"
kind = "command"
title.en = "mark"
argv = ["sh", "-c", "hostname > /tmp/where"]
creates = "/tmp/where"
`)
	out, errOut, code := run(t, "run", rb, "-i", inv)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if _, err := os.Stat(b.Host("db").Path("/tmp/where")); err != nil {
		t.Fatal("the step did not run on db")
	}
}

// exampleVars is the [vars] table of an example inventory, for tests that
// run the example's runbook against test-bed hosts.
func exampleVars(t *testing.T, inventory string) string {
	t.Helper()
	data, err := os.ReadFile(inventory)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	return s[strings.Index(s, "[vars]"):strings.Index(s, "[hosts.")]
}

func TestRunFilesLinesPackages(t *testing.T) {
	b := testbed.Start(t, "n1", "n2")
	inv := inventoryFor(t, b, "", nil)
	n1 := b.Host("n1")
	os.WriteFile(n1.Path("/etc/tejun-selinux"), []byte("# comment\nSELINUX=enforcing\nSELINUXTYPE=targeted\n"), 0o600)
	out, errOut, code := run(t, "run", "testdata/e2e/files.toml", "-i", inv)
	if code != 0 {
		t.Fatalf("first run: exit %d\n%s%s", code, out, errOut)
	}
	st := statuses(out)
	for _, k := range []string{"conf n1", "script n2", "hosts n1", "selinux n1", "selinux n2"} {
		if st[k] != "changed" {
			t.Errorf("%s = %q, want changed", k, st[k])
		}
	}
	for _, k := range []string{"sudo-installed n1", "not-installed n2"} {
		if st[k] != "ok" {
			t.Errorf("%s = %q, want ok", k, st[k])
		}
	}
	conf, _ := os.ReadFile(n1.Path("/etc/tejun-demo.conf"))
	if string(conf) != "# written by tejun\nserver = n1\nquote = \"it's $(not) run\"\n" {
		t.Errorf("conf = %q", conf)
	}
	if _, mode := owner(t, b.Host("n2").Path("/usr/local/bin/tejun-restart.sh")); mode != 0o755 {
		t.Errorf("script mode %o", mode)
	}
	sel, _ := os.ReadFile(n1.Path("/etc/tejun-selinux"))
	if string(sel) != "# comment\nSELINUX=disabled\nSELINUXTYPE=targeted\n" {
		t.Errorf("selinux file = %q", sel)
	}
	if _, mode := owner(t, n1.Path("/etc/tejun-selinux")); mode != 0o600 {
		t.Errorf("the line edit changed the file's mode to %o", mode)
	}
	hosts, _ := os.ReadFile(n1.Path("/etc/hosts"))
	if strings.Count(string(hosts), "db-01") != 1 {
		t.Errorf("hosts:\n%s", hosts)
	}
	rerunChangesNothing(t, []string{"run", "testdata/e2e/files.toml", "-i", inv},
		n1.Path("/etc/tejun-demo.conf"), n1.Path("/etc/hosts"), n1.Path("/etc/tejun-selinux"))
}

// The ProcessSaver runbook on two real hosts: files with the guide's
// owners and modes on both nodes, the output check on the active one.
// ProcessSaver itself is proprietary: padmin is a stand-in that reads the
// pfile (testdata/stand-ins/padmin); everything else is real.
// A real apt-get install on a test host (figlet: small, needs only libc),
// from Debian's package archive, into the host's own /usr overlay; the
// re-run finds it installed.
func TestRunPackageInstall(t *testing.T) {
	if lists, _ := filepath.Glob("/var/lib/apt/lists/*Packages*"); len(lists) == 0 {
		t.Skip("no apt lists on this machine (apt-get update has not run); .ci/run runs it")
	}
	b := testbed.StartHosts(t, testbed.HostSpec{Name: "n1", Packages: true})
	inv := inventoryFor(t, b, "", nil)
	rb := runbooktest.Write(t, "", "runbook.toml", `
[runbook]
name = "pkg"
[[section]]
id = "s"
on = "n1"
title.en = "s"
[[section.step]]
id = "figlet"
kind = "package"
title.en = "install figlet"
name = "figlet"
`)
	out, errOut, code := run(t, "run", rb, "-i", inv, "-v")
	if code != 0 {
		t.Fatalf("install: exit %d\n%s%s", code, out, errOut)
	}
	if statuses(out)["figlet n1"] != "changed" {
		t.Fatalf("first run:\n%s", out)
	}
	// /usr/bin/figlet is an alternatives link: it exists, pointing on.
	if _, err := os.Lstat(filepath.Join(b.Hosts[0].Root, "usr-upper", "bin", "figlet")); err != nil {
		t.Fatalf("figlet is not in the host's /usr: %v", err)
	}
	out, _, code = run(t, "run", rb, "-i", inv)
	if code != 0 || statuses(out)["figlet n1"] != "ok" {
		t.Fatalf("re-run: exit %d\n%s", code, out)
	}
}

// reboot: SELinux disabled in the config is applied by a reboot, after
// which tejun reconnects and the check holds; a re-run does not reboot
// again. The host's "reboot" is a restart of its sshd and everything in
// its namespace, done by the test when the systemctl stand-in asks.
func TestRunReboot(t *testing.T) {
	b := testbed.Start(t, "n1")
	h := b.Hosts[0]
	inv := inventoryFor(t, b, "", nil)
	for _, tool := range []string{"systemctl", "getenforce"} {
		h.Install(t, "testdata/stand-ins/"+tool)
	}
	os.MkdirAll(h.Path("/etc/selinux"), 0o755)
	os.WriteFile(h.Path("/etc/selinux/config"), []byte("SELINUX=enforcing\n"), 0o644)
	rb := runbooktest.Write(t, "", "runbook.toml", `
[runbook]
name = "reboot"
[[section]]
id = "s"
on = "n1"
title.en = "s"
[[section.step]]
id = "selinux"
kind = "line"
title.en = "SELinux off"
path = "/etc/selinux/config"
line = "SELINUX=disabled"
regexp = "^SELINUX="
[[section.step]]
id = "reboot"
kind = "reboot"
title.en = "reboot"
check = ["getenforce"]
pattern = "^Disabled"
wait = "60s"
[[section.step]]
id = "after"
kind = "command"
title.en = "after the reboot"
argv = ["touch", "/tmp/after-reboot"]
creates = "/tmp/after-reboot"
`)
	// The getenforce stand-in reads the config; make it report the state at
	// the last boot instead, as the kernel does.
	os.WriteFile(h.Path("/usr/local/bin/getenforce"), []byte("#!/bin/sh\ncat /var/lib/tejun-selinux-at-boot 2>/dev/null || echo Enforcing\n"), 0o755)
	stop := make(chan struct{})
	rebooted := make(chan struct{}, 1)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			if _, err := os.Stat(h.Path("/var/lib/tejun-reboot-requested")); err == nil {
				os.Remove(h.Path("/var/lib/tejun-reboot-requested"))
				state := "Enforcing\n"
				if cfg, _ := os.ReadFile(h.Path("/etc/selinux/config")); strings.Contains(string(cfg), "SELINUX=disabled") {
					state = "Disabled\n"
				}
				os.WriteFile(h.Path("/var/lib/tejun-selinux-at-boot"), []byte(state), 0o644)
				time.Sleep(500 * time.Millisecond)
				h.Restart()
				rebooted <- struct{}{}
			}
		}
	}()
	defer close(stop)
	out, errOut, code := run(t, "run", rb, "-i", inv, "--yes")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	select {
	case <-rebooted:
	default:
		t.Fatal("the host was not rebooted")
	}
	if st := statuses(out); st["reboot n1"] != "changed" || st["after n1"] != "changed" {
		t.Fatalf("statuses %v\n%s", st, out)
	}
	out, _, code = run(t, "run", rb, "-i", inv, "--yes")
	if code != 0 || statuses(out)["reboot n1"] != "ok" {
		t.Fatalf("re-run: exit %d\n%s", code, out)
	}
	select {
	case <-rebooted:
		t.Error("the re-run rebooted again")
	default:
	}
}
