package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"tejun/runbook/runbooktest"
	"tejun/transport"
	"tejun/transport/ssh"
	"tejun/transport/testbed"
)

// pair is a master and a standby host as the HA manual describes them,
// before the build: the master runs with the manual's protections table,
// the standby has p4dctl configured but no P4ROOT yet.
type pair struct {
	bed             *testbed.Bed
	master, standby *testbed.Host
	mport, sport    string
	inventory       string
	secret          string
	superSecret     string
	unicode         bool // the master runs in unicode mode: the test's p4 commands send -C utf8
	ssh             map[string]*ssh.Conn
	ports           map[string]string // each host's P4PORT, replicas' too
	service         func(h *testbed.Host) string
}

func freeLoopbackPort(t *testing.T, addr string) int {
	l, err := net.Listen("tcp", addr+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func newPair(t *testing.T) *pair {
	t.Helper()
	return newPairWith(t, false)
}

// newPairWith makes the pair; with unicode the master runs in unicode
// mode (p4d -xi before its first start).
func newPairWith(t *testing.T, unicode bool, extra ...string) *pair {
	t.Helper()
	return newPairOn(t, pairOpts{unicode: unicode}, extra...)
}

// pairOpts: service is where each host's p4d listens instead of the
// host's SSH address (nil: the SSH address), as a site whose Perforce
// network is not its SSH network; ssl makes both P4PORTs ssl: ones.
type pairOpts struct {
	service      func(h *testbed.Host) string
	unicode, ssl bool
}

func newPairOn(t *testing.T, opts pairOpts, extra ...string) *pair {
	t.Helper()
	unicode, service := opts.unicode, opts.service
	sim := testbed.P4Sim(t)
	b := testbed.Start(t, append([]string{"master", "standby"}, extra...)...)
	p := &pair{bed: b, master: b.Host("master"), standby: b.Host("standby"), ssh: map[string]*ssh.Conn{}, ports: map[string]string{}}
	if service == nil {
		service = func(h *testbed.Host) string { return h.Address }
	}
	p.service = service
	proto := ""
	if opts.ssl {
		proto = "ssl:"
	}
	p.mport = fmt.Sprintf("%s%s:%d", proto, service(p.master), freeLoopbackPort(t, service(p.master)))
	p.sport = fmt.Sprintf("%s%s:%d", proto, service(p.standby), freeLoopbackPort(t, service(p.standby)))
	for _, h := range b.Hosts {
		h.Install(t, sim, "p4", "p4d", "p4dctl")
		root, port := "/"+h.Name, p.mport
		switch {
		case h == p.standby:
			port = p.sport
		case h != p.master: // a replica or edge of the master, set up by its test
			port = fmt.Sprintf("%s:%d", service(h), freeLoopbackPort(t, service(h)))
		}
		p.ports[h.Name] = port
		os.MkdirAll(h.Path("/etc/perforce/p4dctl.conf.d"), 0o755)
		conf := fmt.Sprintf("p4d %s\n{\n    Owner = perforce\n    Execute = /usr/local/bin/p4d\n    Environment\n    {\n        P4ROOT = %s\n        P4PORT = %s\n    }\n}\n", h.Name, root, port)
		os.WriteFile(h.Path("/etc/perforce/p4dctl.conf.d/"+h.Name+".conf"), []byte(conf), 0o644)
		c, err := ssh.Dial(context.Background(), ssh.Config{Name: h.Name, Address: h.Address, Port: h.Port, User: "root",
			IdentityFiles: []string{b.KeyFile}, KnownHosts: []string{b.KnownHosts}, AgentSocket: "/nonexistent"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		p.ssh[h.Name] = c
	}
	os.MkdirAll(p.master.Path("/master"), 0o755)
	os.Chown(p.master.Path("/master"), 1666, 1666)
	p.on(t, "master", "", "p4d", "-r", "/master", "-xD", "master")
	if unicode {
		p.unicode = true
		p.on(t, "master", "", "p4d", "-r", "/master", "-xi")
		files, _ := filepath.Glob(p.master.Path("/master/db.*"))
		for _, f := range files {
			os.Chown(f, 1666, 1666)
		}
	}
	os.Chown(p.master.Path("/master/server.id"), 1666, 1666)
	p.on(t, "master", "", "p4dctl", "start", "master")
	p.on(t, "master", "Protections:\n\twrite user * * //...\n\tlist user * * -//spec/...\n\tsuper user super * //...\n", "p4", "-u", "super", "-p", p.mport, "protect", "-i")
	// A real master: the super user has a password and nobody is logged
	// in; tejun gets it as a secret and logs in itself.
	p.on(t, "master", superPassword+"\n"+superPassword+"\n", "p4", "-u", "super", "-p", p.mport, "passwd")
	spec := p.on(t, "master", "", "p4", "-u", "super", "-p", p.mport, "server", "-o", "master")
	spec = strings.Replace(spec, "Services:\tstandard", "Services:\tcommit-server", 1) + "DistributedConfig:\n\tmonitor=1\n"
	p.on(t, "master", spec, "p4", "-u", "super", "-p", p.mport, "server", "-i")

	p.noTicketsAnywhere(t)

	p.secret = filepath.Join(t.TempDir(), "service-password")
	os.WriteFile(p.secret, []byte("s3rvice-Passw0rd-unique\n"), 0o600)
	p.superSecret = filepath.Join(t.TempDir(), "super-password")
	os.WriteFile(p.superSecret, []byte(superPassword+"\n"), 0o600)
	p.inventory = p.writeInventory(t)
	return p
}

const superPassword = "Sup3r-Passw0rd-unique"

// noTicketsAnywhere ends the fixture's own login, so that every test
// starts as a new operator's first build does: nobody logged in on the
// master, no ticket file on either host, no ticket the server would take.
func (p *pair) noTicketsAnywhere(t *testing.T) {
	t.Helper()
	p.on(t, "master", "", "p4", "-u", "super", "-p", p.mport, "logout", "-a")
	p.on(t, "master", "", "rm", "-f", "--", fixtureTickets)
	for _, h := range []*testbed.Host{p.master, p.standby} {
		for _, f := range []string{fixtureTickets, "/root/.p4tickets", "/root/.p4tickets-tejun", "/standby/.p4tickets", "/home/perforce/.p4tickets"} {
			if _, err := os.Stat(h.Path(f)); err == nil {
				t.Fatalf("%s:%s exists before the build", h.Name, f)
			}
		}
	}
	// The server agrees: super's ticket no longer lets anyone in.
	if out, err := transport.Output(context.Background(), p.ssh["master"], transport.Cmd{Argv: p.charsetArgv("p4", "-u", "super", "-p", p.mport, "login", "-s")}, nil); err == nil {
		t.Fatalf("super is still logged in on the master: %s", out)
	}
}

// charsetArgv is a p4 command line with the charset a unicode master wants.
func (p *pair) charsetArgv(argv ...string) []string {
	if p.unicode && argv[0] == "p4" {
		return append([]string{"p4", "-C", "utf8"}, argv[1:]...)
	}
	return argv
}

// passTime moves both hosts' clocks (the simulator's, see
// testdata/p4sim) on by d seconds: tickets issued before then may expire.
func (p *pair) passTime(t *testing.T, d int64) {
	t.Helper()
	for _, h := range []*testbed.Host{p.master, p.standby} {
		var now int64
		if b, err := os.ReadFile(h.Path("/etc/perforce/p4sim.clock")); err == nil {
			fmt.Sscan(string(b), &now)
		}
		if err := os.WriteFile(h.Path("/etc/perforce/p4sim.clock"), []byte(fmt.Sprint(now+d)+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// fixtureTickets is the test's own ticket file on each host, apart from
// tejun's: the test logs in there for its own p4 commands.
const fixtureTickets = "/tmp/fixture-p4tickets"

// fixtureTrust is the test's own P4TRUST file on each host.
const fixtureTrust = "/tmp/fixture-p4trust"

// portOf is the -p value of a p4 command line.
func portOf(argv []string) string {
	for i, a := range argv {
		if a == "-p" && i+1 < len(argv) {
			return argv[i+1]
		}
	}
	return ""
}

// on runs a command on a host as root (over the test's own connection).
// The test's p4 commands as super use the fixture's ticket file and log in
// when they need to.
func (p *pair) on(t *testing.T, host, stdin string, argv ...string) string {
	t.Helper()
	out, err := p.try(host, stdin, argv...)
	if err != nil {
		t.Fatalf("%s: %v", strings.Join(argv, " "), err)
	}
	return out
}

func (p *pair) try(host, stdin string, argv ...string) (string, error) {
	super := len(argv) > 2 && argv[0] == "p4" && argv[1] == "-u" && argv[2] == "super"
	charset := []string{}
	if p.unicode && argv[0] == "p4" {
		charset = []string{"-C", "utf8"}
	}
	if super {
		argv = append(append([]string{"p4", "-E", "P4TICKETS=" + fixtureTickets}, charset...), argv[1:]...)
	} else if len(charset) > 0 {
		argv = append(append([]string{"p4"}, charset...), argv[1:]...)
	}
	if argv[0] == "p4" {
		// The fixture's own trust file, apart from the ones tejun writes.
		argv = append([]string{"p4", "-E", "P4TRUST=" + fixtureTrust}, argv[1:]...)
	}
	runIt := func(argv []string, stdin string) (string, error) {
		var in io.Reader // a nil *strings.Reader here would be a non-nil Reader
		if stdin != "" {
			in = strings.NewReader(stdin)
		}
		return transport.Output(context.Background(), p.ssh[host], transport.Cmd{Argv: argv}, in)
	}
	out, err := runIt(argv, stdin)
	var ee *transport.ExitError
	if errors.As(err, &ee) && strings.Contains(ee.Stderr, "can't be established") && argv[0] == "p4" {
		// The fixture trusts what answers: it is the test, not under it.
		if _, terr := runIt([]string{"p4", "-E", "P4TRUST=" + fixtureTrust, "-p", portOf(argv), "trust", "-y"}, ""); terr != nil {
			return "", fmt.Errorf("fixture trust: %v", terr)
		}
		out, err = runIt(argv, stdin)
	}
	if super && errors.As(err, &ee) && (strings.Contains(ee.Stderr, "P4PASSWD") || strings.Contains(ee.Stderr, "Your session has expired")) {
		port := ""
		for i, a := range argv {
			if a == "-p" && i+1 < len(argv) {
				port = argv[i+1]
			}
		}
		if _, lerr := runIt(append(append([]string{"p4", "-E", "P4TRUST=" + fixtureTrust, "-E", "P4TICKETS=" + fixtureTickets}, charset...), "-u", "super", "-p", port, "login"), superPassword+"\n"); lerr != nil {
			return "", fmt.Errorf("fixture login: %v", lerr)
		}
		out, err = runIt(argv, stdin)
	}
	return out, err
}

func (p *pair) writeInventory(t *testing.T) string {
	mp, sp := p.mport[strings.LastIndexByte(p.mport, ':')+1:], p.sport[strings.LastIndexByte(p.sport, ':')+1:]
	inv := fmt.Sprintf(`[defaults]
user = "root"
identity_file = %q
known_hosts = %q

[vars]
super_user = "super"
service_user = "service"
os_user = "perforce"

[hosts.master]
address = %q
port = %d
roles = ["master"]
label = { ja = "マスターサーバ", en = "master server" }
[hosts.master.vars]
server_id = "master"
services = "commit-server"
p4port = %s
p4root = "/master"
p4dctl = "master"

[hosts.standby]
address = %q
port = %d
roles = ["standby"]
label = { ja = "スタンバイサーバ", en = "standby server" }
[hosts.standby.vars]
server_id = "standby"
services = "standby"
p4port = %s
p4root = "/standby"
p4dctl = "standby"
`, p.bed.KeyFile, p.bed.KnownHosts, p.master.Address, p.master.Port, mp, p.standby.Address, p.standby.Port, sp)
	path := runbooktest.Write(t, "", "inventory.toml", inv)
	return path
}

func (p *pair) build(t *testing.T, extra ...string) (string, int) {
	t.Helper()
	args := append([]string{"run", "examples/perforce-ha/standby.toml", "-i", p.inventory, "--yes", "--secret", "service_password=@" + p.secret,
		"--secret", "super_password=@" + p.superSecret}, extra...)
	out, errOut, code := run(t, args...)
	return out + errOut, code
}

func (p *pair) journal(t *testing.T) string {
	return strings.TrimSpace(p.on(t, "master", "", "p4", "-u", "super", "-p", p.mport, "counter", "journal"))
}

func TestPerforceStandbyBuild(t *testing.T) {
	p := newPair(t)
	out, code := p.build(t, "-v")
	if code != 0 {
		t.Fatalf("build: exit %d\n%s", code, out)
	}
	first := statuses(out)
	if first["standby-nomandatory master"] != "ok" {
		t.Errorf("a new standby's spec is nomandatory already: standby-nomandatory = %q", first["standby-nomandatory master"])
	}
	for _, key := range []string{"create-spec master", "checkpoint master", "transfer-checkpoint master", "restore standby", "start-standby standby", "service-login standby", "set-mandatory master"} {
		if first[key] != "changed" {
			t.Errorf("%s = %q, want changed", key, first[key])
		}
	}
	for _, key := range []string{"pull-lj standby", "journals-agree master", "mandatory-shown master", "ticket-file standby"} {
		if first[key] != "ok" {
			t.Errorf("%s = %q, want ok (verified)", key, first[key])
		}
	}
	// 5-③ holds on the master's word, not on the parity the restore left.
	if !strings.Contains(out, "standby replicates from master: journalcopy at") {
		t.Errorf("pull-lj did not prove replication from the master's servers -J:\n%s", out)
	}
	// The standby is mandatory, and the files the manual's pitfalls are
	// about belong to perforce.
	servers := p.on(t, "master", "", "p4", "-u", "super", "-p", p.mport, "-ztag", "servers")
	if !regexp.MustCompile(`(?s)ServerID standby.*Options mandatory`).MatchString(servers) {
		t.Errorf("standby is not mandatory:\n%s", servers)
	}
	for _, f := range []string{"/standby/server.id", "/standby/.p4tickets", "/standby/db.tejunsim"} {
		if uid, _ := owner(t, p.standby.Path(f)); uid != 1666 {
			t.Errorf("%s owned by uid %d, want perforce", f, uid)
		}
	}
	if strings.Contains(out, "s3rvice-Passw0rd-unique") {
		t.Error("the service password appears in the run's output")
	}

	// Acceptance 6: every command executed is one dry-run --show-exec printed.
	showExec, _, _ := run(t, "dry-run", "examples/perforce-ha/standby.toml", "-i", p.inventory, "--show-exec", "--lang", "en")
	// The checkpoint's number is the server's choice: show-exec says N.
	shown := showExecPatterns(showExec)
	for _, m := range regexp.MustCompile(`(?m)^\s+(\S+) (\S+) \| \$ (.*)$`).FindAllStringSubmatch(unstamp(out), -1) {
		if !matchesLine(shown, m[3]) {
			t.Errorf("step %s on %s ran a command dry-run --show-exec does not show:\n  %s", m[1], m[2], m[3])
		}
	}

	// The standby's spec set the standby's configurables only: nothing
	// global (any#...) that would change the master too.
	if spec := p.on(t, "master", "", "p4", "-u", "super", "-p", p.mport, "server", "-o", "master"); strings.Contains(spec, "any#") {
		t.Errorf("the build set global configurables, seen in the master's spec:\n%s", spec)
	}
	if spec := p.on(t, "master", "", "p4", "-u", "super", "-p", p.mport, "server", "-o", "standby"); !strings.Contains(spec, "P4JOURNAL=../journals/journal") {
		t.Errorf("the standby's own P4JOURNAL is not set:\n%s", spec)
	}

	// tejun logged in as super only into its own ticket file, and removed
	// it at the end; the operator's ~/.p4tickets was never written.
	p.noTejunTickets(t)

	// Acceptance 2: an immediate re-run changes nothing.
	journal := p.journal(t)
	pidBefore, _ := os.ReadFile(p.standby.Path("/run/p4dctl-standby.pid"))
	dbBefore := mtimes(t, p.standby.Path("/standby/db.have"), p.standby.Path("/standby/server.id"))
	inodes := p.dbFiles(t)
	out, code = p.build(t)
	if code != 0 {
		t.Fatalf("re-run: exit %d\n%s", code, out)
	}
	p.rerunOK(t, out)
	if after := p.dbFiles(t); after != inodes {
		t.Errorf("re-run touched the standby's db.*:\nbefore %s\nafter  %s", inodes, after)
	}
	if j := p.journal(t); j != journal {
		t.Errorf("re-run took a checkpoint: journal %s → %s", journal, j)
	}
	pidAfter, _ := os.ReadFile(p.standby.Path("/run/p4dctl-standby.pid"))
	if string(pidAfter) != string(pidBefore) {
		t.Error("re-run restarted the standby")
	}
	if after := mtimes(t, p.standby.Path("/standby/db.have"), p.standby.Path("/standby/server.id")); fmt.Sprint(after) != fmt.Sprint(dbBefore) {
		t.Error("re-run touched the standby's database or server.id")
	}
}

// rerunOK: every step of a re-run found its work done, except the logouts
// at the end, which end the session the re-run's own checks logged in to.
func (p *pair) rerunOK(t *testing.T, out string) {
	t.Helper()
	for key, st := range statuses(out) {
		logout := strings.HasPrefix(key, "logout-")
		if st != "ok" && !(logout && st == "changed") {
			t.Errorf("re-run: %s is %s, want ok", key, st)
		}
	}
}

// noTejunTickets: no ticket file of tejun's is left on either host, and
// the operator's default ticket file was never made.
func (p *pair) noTejunTickets(t *testing.T) {
	t.Helper()
	for _, h := range []*testbed.Host{p.master, p.standby} {
		for _, f := range []string{"/root/.p4tickets-tejun", "/root/.p4tickets"} {
			if _, err := os.Stat(h.Path(f)); err == nil {
				t.Errorf("%s:%s exists after the run", h.Name, f)
			}
		}
	}
}

// dbFiles is the standby's db.* files with inode and mtime: a database
// rebuilt or rewritten changes one or the other.
func (p *pair) dbFiles(t *testing.T) string {
	t.Helper()
	files, _ := filepath.Glob(p.standby.Path("/standby/db.*"))
	var b strings.Builder
	for _, f := range files {
		if filepath.Base(f) == "db.tejunsim" {
			continue // the running server's live state, written as it works (a login records a ticket)
		}
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s:%d:%d ", filepath.Base(f), fi.Sys().(*syscall.Stat_t).Ino, fi.ModTime().UnixNano())
	}
	if len(files) == 0 {
		t.Fatal("no db.* on the standby")
	}
	return b.String()
}

// showExecPatterns turns each command line of an English --show-exec
// dry-run into an anchored pattern; the checkpoint's N matches a number.
func showExecPatterns(showExec string) []*regexp.Regexp {
	var pats []*regexp.Regexp
	for _, m := range regexp.MustCompile(`(?m)^\s+(?:check|apply)  (.*)$`).FindAllStringSubmatch(showExec, -1) {
		cmd := m[1]
		if i := strings.Index(cmd, "  < "); i >= 0 {
			cmd = cmd[:i]
		}
		cmd = strings.TrimPrefix(cmd, "[standby] ")
		cmd = strings.TrimPrefix(cmd, "[master] ")
		pats = append(pats, regexp.MustCompile("^"+strings.ReplaceAll(regexp.QuoteMeta(cmd), `ckp\.N`, `ckp\.\d+`)+"$"))
	}
	return pats
}

func matchesLine(pats []*regexp.Regexp, line string) bool {
	if i := strings.Index(line, "  < "); i >= 0 {
		line = line[:i]
	}
	for _, p := range pats {
		if p.MatchString(line) {
			return true
		}
	}
	return false
}

func (p *pair) failover(t *testing.T, section string, extra ...string) (string, int) {
	t.Helper()
	args := append([]string{"run", "examples/perforce-ha/failover.toml", "-i", p.inventory, "--section", section, "--secret", "super_password=@" + p.superSecret}, extra...)
	out, errOut, code := run(t, args...)
	return out + errOut, code
}

func (p *pair) serverID(t *testing.T, host, port string) string {
	out := p.on(t, host, "", "p4", "-u", "super", "-p", port, "-ztag", "info")
	m := regexp.MustCompile(`(?m)^\.\.\. ServerID (\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no ServerID in:\n%s", out)
	}
	return m[1]
}

func TestPerforceFailoverMasterUp(t *testing.T) {
	p := newPair(t)
	if out, code := p.build(t); code != 0 {
		t.Fatalf("build: exit %d\n%s", code, out)
	}
	// Without --yes, off a terminal, the real failover is refused and
	// nothing happens; the preview runs.
	out, code := p.failover(t, "master-up")
	if code != 4 || statuses(out)["preview standby"] != "ok" || statuses(out)["failover standby"] != "refused" {
		t.Fatalf("without --yes: exit %d\n%s", code, out)
	}
	if id := p.serverID(t, "standby", p.sport); id != "standby" {
		t.Fatalf("failed over without confirmation: %s", id)
	}
	out, code = p.failover(t, "master-up", "--yes")
	if code != 0 || statuses(out)["failover standby"] != "changed" {
		t.Fatalf("failover: exit %d\n%s", code, out)
	}
	if id := p.serverID(t, "standby", p.sport); id != "master" {
		t.Errorf("after failover the standby is %s, want master", id)
	}
	if _, err := transport.Output(context.Background(), p.ssh["master"], transport.Cmd{Argv: []string{"p4", "-u", "super", "-p", p.mport, "info"}}, nil); err == nil {
		t.Error("the old master still answers after failover")
	}
	// Again: already done, nothing to fail over.
	out, code = p.failover(t, "master-up", "--yes")
	if code != 0 || statuses(out)["failover standby"] != "ok" {
		t.Fatalf("second failover: exit %d\n%s", code, out)
	}
}

func TestPerforceFailoverMasterDown(t *testing.T) {
	p := newPair(t)
	if out, code := p.build(t); code != 0 {
		t.Fatalf("build: exit %d\n%s", code, out)
	}
	// The master still answers: -s is refused, split brain explained.
	out, code := p.failover(t, "master-down", "--yes")
	if code != 1 || !strings.Contains(out, "split brain") || p.serverID(t, "standby", p.sport) != "standby" {
		t.Fatalf("-s with the master up: exit %d\n%s", code, out)
	}
	p.on(t, "master", "", "p4dctl", "stop", "master")
	out, code = p.failover(t, "master-down", "--yes")
	if code != 0 || statuses(out)["failover-master-down standby"] != "changed" {
		t.Fatalf("-s master -y: exit %d\n%s", code, out)
	}
	if id := p.serverID(t, "standby", p.sport); id != "master" {
		t.Errorf("after failover the standby is %s, want master", id)
	}
	// The old master is fenced: p4dctl cannot start it again.
	if _, err := os.Stat(p.master.Path("/etc/perforce/p4dctl.conf.d/master.conf")); err == nil {
		t.Error("the old master's p4dctl entry is still enabled")
	}
	if _, err := p.try("master", "", "p4dctl", "start", "master"); err == nil {
		t.Error("p4dctl started the fenced old master")
	}
}

// A hung master (its p4d stopped with SIGSTOP: the port accepts, nothing
// answers) is not a down one: the drill refuses, shows why, and the
// standby stays a standby.
func TestPerforceFailoverHungMaster(t *testing.T) {
	p := newPair(t)
	if out, code := p.build(t); code != 0 {
		t.Fatalf("build: exit %d\n%s", code, out)
	}
	pid := strings.TrimSpace(p.on(t, "master", "", "cat", "/run/p4dctl-master.pid"))
	p.on(t, "master", "", "kill", "-STOP", pid)
	defer p.on(t, "master", "", "kill", "-CONT", pid)
	out, code := p.failover(t, "master-down", "--yes")
	if code != 1 || !strings.Contains(out, "hung") || !strings.Contains(out, "no answer on "+p.mport) {
		t.Fatalf("-s with a hung master: exit %d\n%s", code, out)
	}
	p.on(t, "master", "", "kill", "-CONT", pid)
	if id := p.serverID(t, "standby", p.sport); id != "standby" {
		t.Errorf("the standby failed over from a hung master: %s", id)
	}
}

// failover -s needs a mandatory standby: the drill stops at its preview,
// and the clean-up removes the ticket file the preview logged in to.
func TestPerforceFailoverNeedsMandatory(t *testing.T) {
	p := newPair(t)
	// Built only up to replication: the standby is not mandatory yet.
	if out, code := p.build(t, "--limit", "standby"); code != 0 && !strings.Contains(out, "skipped") {
		t.Logf("partial build: exit %d\n%s", code, out)
	}
	out, code := p.build(t)
	if code != 0 {
		t.Fatalf("build: exit %d\n%s", code, out)
	}
	spec := p.on(t, "master", "", "p4", "-u", "super", "-p", p.mport, "server", "-o", "standby")
	p.on(t, "master", strings.Replace(spec, "Options:\tmandatory", "Options:\tnomandatory", 1), "p4", "-u", "super", "-p", p.mport, "server", "-i")
	p.on(t, "master", "", "sleep", "1") // let the standby replicate its spec
	p.on(t, "master", "", "p4dctl", "stop", "master")
	out, code = p.failover(t, "master-down", "--yes")
	if code != 1 || !strings.Contains(out, "not a mandatory standby") || p.serverID(t, "standby", p.sport) != "standby" {
		t.Fatalf("-s on a nomandatory standby: exit %d\n%s", code, out)
	}
	// The drill stopped half-way (max_fail = 0), after tejun had logged in
	// on the standby: the always clean-up still logged out there and
	// removed its ticket file.
	st := statuses(out)
	if st["failover-master-down -"] != "skipped" || st["logout-standby standby"] != "changed" {
		t.Errorf("clean-up after the stopped drill: failover-master-down %q, logout-standby %q\n%s", st["failover-master-down -"], st["logout-standby standby"], out)
	}
	p.noTejunTickets(t)
}

// An interrupted build (stopped once the checkpoint is on the standby)
// finishes on the re-run without taking another checkpoint or sending it
// again.
func TestPerforceInterruptedBuild(t *testing.T) {
	p := newPair(t)
	for _, step := range []string{"create-spec", "standby-spec", "create-service-user", "service-password", "service-protect", "checkpoint", "transfer-checkpoint"} {
		if out, code := p.build(t, "--only", step); code != 0 {
			t.Fatalf("--only %s: exit %d\n%s", step, code, out)
		}
	}
	journal := p.journal(t)
	sent := mtimes(t, p.standby.Path("/tmp/checkpoint.ckp."+journal))
	if len(sent) != 1 {
		t.Fatalf("the checkpoint is not on the standby after the transfer")
	}
	out, code := p.build(t)
	if code != 0 {
		t.Fatalf("re-run: exit %d\n%s", code, out)
	}
	st := statuses(out)
	if st["checkpoint master"] != "ok" || st["transfer-checkpoint master"] != "ok" || st["restore standby"] != "changed" {
		t.Errorf("re-run statuses %v", st)
	}
	if j := p.journal(t); j != journal {
		t.Errorf("another checkpoint was taken: journal %s → %s", journal, j)
	}
}

// A wrong service password is named as the ticket problem it is.
func TestPerforceWrongPassword(t *testing.T) {
	p := newPair(t)
	if out, code := p.build(t); code != 0 {
		t.Fatalf("build: exit %d\n%s", code, out)
	}
	// Someone changes the service user's password on the master: the
	// standby's ticket dies and replication stops.
	p.on(t, "master", "An0ther-passw0rd\nAn0ther-passw0rd\n", "p4", "-u", "super", "-p", p.mport, "passwd", "service")
	p.on(t, "master", "", "sleep", "1")
	out, code := p.build(t, "--only", "pull-lj")
	if code != 1 || !strings.Contains(out, "replication cannot log in to the master") || !strings.Contains(out, "P4TICKETS") {
		t.Fatalf("pull verify with a dead ticket: exit %d\n%s", code, out)
	}
	// The failure names the replication's credential, never super's own.
	if strings.Contains(out, "super's own") || strings.Contains(out, "super cannot log in") {
		t.Errorf("the service user's dead ticket is blamed on super:\n%s", out)
	}
	out, code = p.build(t, "--from", "service-login")
	if code != 1 || statuses(out)["service-login standby"] != "failed" || !strings.Contains(out, "secret service_password") {
		t.Fatalf("login with the old password: exit %d\n%s", code, out)
	}
	// A full run sets the password to the secret again, then stops before
	// the rebuild: a standby that cannot pull is not proven to be no
	// replica, so it is not wiped.
	inodes := p.dbFiles(t)
	out, code = p.build(t)
	if st := statuses(out); code != 1 || st["service-password master"] != "changed" || st["checkpoint master"] != "failed" ||
		!strings.Contains(out, "cannot tell whether done_when pull-lj holds") || p.dbFiles(t) != inodes {
		t.Fatalf("full run with a dead replication ticket: exit %d\n%s", code, out)
	}
	// Renewing the ticket repairs it: replication resumes.
	if out, code = p.build(t, "--from", "service-login"); code != 0 {
		t.Fatalf("repairing run: exit %d\n%s", code, out)
	}
}

// 5-③ run by tejun as super on the standby, with no ticket there and a
// wrong super password: the failure names super's credential (the secret
// super_password), not the service user's replication ticket, which is
// fine.
func TestPerforcePullNamesSuperCredential(t *testing.T) {
	p := newPair(t)
	if out, code := p.build(t); code != 0 {
		t.Fatalf("build: exit %d\n%s", code, out)
	}
	wrong := filepath.Join(t.TempDir(), "wrong-super")
	os.WriteFile(wrong, []byte("N0t-the-Passw0rd\n"), 0o600)
	out, errOut, code := run(t, "run", "examples/perforce-ha/standby.toml", "-i", p.inventory, "--yes", "--only", "pull-lj",
		"--secret", "service_password=@"+p.secret, "--secret", "super_password=@"+wrong)
	out += errOut
	if code != 1 || statuses(out)["pull-lj standby"] != "failed" || !strings.Contains(out, "super cannot log in to "+p.sport) ||
		!strings.Contains(out, "secret super_password") || strings.Contains(out, "replication cannot log in") {
		t.Fatalf("pull-lj with a wrong super password: exit %d\n%s", code, out)
	}
	if strings.Contains(out, "N0t-the-Passw0rd") {
		t.Error("the wrong password appears in the output")
	}
}

// The standby in another time zone than the master: the build stops before
// anything is changed.
func TestPerforcePreconditions(t *testing.T) {
	p := newPair(t)
	zone, err := os.ReadFile("/usr/share/zoneinfo/Asia/Tokyo")
	if err != nil {
		t.Skip("no time zone data on this machine")
	}
	os.Remove(p.standby.Path("/etc/localtime"))
	os.WriteFile(p.standby.Path("/etc/localtime"), zone, 0o644)
	out, code := p.build(t)
	if code != 1 || statuses(out)["parity master"] != "failed" || !strings.Contains(out, "time zone") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if st := statuses(out)["create-spec -"]; st != "skipped" {
		t.Errorf("a step ran after the failed precondition: %s", st)
	}
}

// snapshot lists every file of a host's own tree with what a change would
// alter (size, mode, owner, mtime).
func snapshot(t *testing.T, h *testbed.Host) map[string]string {
	out := map[string]string{}
	filepath.Walk(h.Root, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(h.Root, p)
		for _, skip := range []string{"proc", "dev", "usr", "run", "tmp/p4d-"} {
			if strings.HasPrefix(rel, skip) {
				if fi.IsDir() && rel == skip {
					return filepath.SkipDir
				}
				return nil
			}
		}
		st := fi.Sys().(*syscall.Stat_t)
		out[rel] = fmt.Sprintf("%d %o %d %d", fi.Size(), fi.Mode(), st.Uid, fi.ModTime().UnixNano())
		return nil
	})
	return out
}

func TestPerforcePlan(t *testing.T) {
	p := newPair(t)
	plan := func() (string, map[string]string) {
		before := map[string]string{}
		for _, h := range []*testbed.Host{p.master, p.standby} {
			for k, v := range snapshot(t, h) {
				before[h.Name+":"+k] = v
			}
		}
		out, errOut, code := run(t, "plan", "examples/perforce-ha/standby.toml", "-i", p.inventory, "--lang", "en", "--secret", "service_password=@"+p.secret,
			"--secret", "super_password=@"+p.superSecret)
		if code != 0 && code != 1 {
			t.Fatalf("plan: exit %d\n%s%s", code, out, errOut)
		}
		after := map[string]string{}
		for _, h := range []*testbed.Host{p.master, p.standby} {
			for k, v := range snapshot(t, h) {
				after[h.Name+":"+k] = v
			}
		}
		// The Perforce servers' own files (their database, and so their
		// root directories) may change: a check that logs in records a
		// ticket, as p4 login -p does on a real server.
		// So may tejun's own ticket file (and so root's home): a check
		// that needs a ticket logs in, into that file only; the run's
		// clean-up section removes it.
		serverOwn := func(k string) bool {
			return strings.Contains(k, "/db.") || strings.HasSuffix(k, ":master") || strings.HasSuffix(k, ":standby") ||
				strings.HasSuffix(k, ":root/.p4tickets-tejun") || strings.HasSuffix(k, ":root")
		}
		for k, v := range after {
			if before[k] != v && !serverOwn(k) {
				t.Errorf("plan changed %s: %q → %q", k, before[k], v)
			}
		}
		for k := range before {
			if _, ok := after[k]; !ok {
				t.Errorf("plan removed %s", k)
			}
		}
		return out, after
	}
	out, _ := plan()
	for _, want := range []string{"create-spec", "will change", "may change"} {
		if !strings.Contains(out, want) {
			t.Errorf("fresh pair's plan lacks %q:\n%s", want, out)
		}
	}
	verdicts := regexp.MustCompile(`(?m)^\S+\s+\S+\s+(master|standby)\s+(already done|will change|may change|could not check|not checked)`)
	done, changes := 0, 0
	for _, l := range verdicts.FindAllStringSubmatch(out, -1) {
		switch l[2] {
		case "already done":
			done++
		case "will change", "may change":
			changes++
		}
	}
	if changes < 15 || done >= changes {
		t.Errorf("a fresh pair's plan: %d steps already done, %d to change; want mostly changes:\n%s", done, changes, out)
	}
	if o, code := p.build(t); code != 0 {
		t.Fatalf("build: exit %d\n%s", code, o)
	}
	out, _ = plan()
	lines := verdicts.FindAllStringSubmatch(out, -1)
	if len(lines) < 20 {
		t.Fatalf("plan of a built pair has %d step lines:\n%s", len(lines), out)
	}
	for _, l := range lines {
		if l[2] != "already done" && !strings.Contains(l[0], "logout-") {
			t.Errorf("built pair: %q", l[0])
		}
	}
}

// A service user that already exists without a password: p4 login answers
// "'login' not necessary" with exit 0 for it, which must not pass for
// "password already set". The build gives it the secret as its password.
func TestPerforceServiceUserWithoutPassword(t *testing.T) {
	p := newPair(t)
	spec := "User:\tservice\n\nType:\tservice\n\nEmail:\tservice@example\n\nFullName:\tservice\n"
	p.on(t, "master", spec, "p4", "-u", "super", "-p", p.mport, "user", "-i", "-f")
	if out := p.on(t, "master", "", "p4", "-u", "super", "-p", p.mport, "-ztag", "users", "-a", "service"); strings.Contains(out, "Password") {
		t.Fatalf("the fixture's service user has a password:\n%s", out)
	}
	out, code := p.build(t)
	if code != 0 {
		t.Fatalf("build: exit %d\n%s", code, out)
	}
	if st := statuses(out)["service-password master"]; st != "changed" {
		t.Errorf("service-password = %q, want changed\n%s", st, out)
	}
	if out := p.on(t, "master", "", "p4", "-u", "super", "-p", p.mport, "-ztag", "users", "-a", "service"); !strings.Contains(out, "... Password enabled") {
		t.Errorf("the service user has no password after the build:\n%s", out)
	}
}

// A re-run on a live standby touches nothing when its guard cannot be
// evaluated: every ticket expired, the master unreachable, the standby's
// p4d restarting. It either finds everything done or stops before the
// rebuild (stop, remove db.*, restore), saying why.
func TestPerforceRerunFailsClosed(t *testing.T) {
	p := newPair(t)
	if out, code := p.build(t); code != 0 {
		t.Fatalf("build: exit %d\n%s", code, out)
	}
	untouched := func(name string, out string) {
		t.Helper()
		if strings.Contains(out, "remove-db standby    changed") || statuses(out)["remove-db standby"] == "changed" || statuses(out)["restore standby"] == "changed" {
			t.Errorf("%s: the re-run rebuilt the standby:\n%s", name, out)
		}
	}
	type state struct{ db, pid, journal string }
	now := func() state {
		pid, _ := os.ReadFile(p.standby.Path("/run/p4dctl-standby.pid"))
		return state{p.dbFiles(t), string(pid), p.journal(t)}
	}

	// Every ticket expired: super's and the service user's, on both servers.
	before := now()
	p.on(t, "master", "", "p4", "-u", "super", "-p", p.mport, "logout", "-a", "service")
	p.on(t, "master", "", "p4", "-u", "super", "-p", p.mport, "logout", "-a", "super")
	p.on(t, "standby", "", "p4", "-u", "super", "-p", p.sport, "logout", "-a", "super")
	out, _ := p.build(t)
	untouched("expired tickets", out)
	if after := now(); after != before {
		t.Errorf("expired tickets: the re-run changed the standby:\nbefore %+v\nafter  %+v\n%s", before, after, out)
	}
	if !strings.Contains(out, "cannot tell whether done_when pull-lj holds") {
		t.Errorf("expired tickets: no reason given for stopping:\n%s", out)
	}
	// The service login renews the replication ticket; then all is well.
	if out, code := p.build(t, "--from", "service-login"); code != 0 {
		t.Fatalf("renewing the service ticket: exit %d\n%s", code, out)
	}

	// The master briefly unreachable: the guard sees the standby unable to
	// pull, which proves nothing about the standby.
	before = now()
	p.on(t, "master", "", "p4dctl", "stop", "master")
	out, _ = p.build(t, "--from", "stop-standby")
	untouched("master down", out)
	p.on(t, "master", "", "p4dctl", "start", "master")
	if after := now(); after.db != before.db || after.pid != before.pid {
		t.Errorf("master down: the re-run changed the standby:\n%s", out)
	}

	// The standby's p4d restarting (not answering): its root still holds
	// its database, so it cannot be taken for a fresh host.
	p.on(t, "standby", "", "p4dctl", "stop", "standby")
	before = now()
	out, code := p.build(t, "--from", "stop-standby")
	untouched("standby restarting", out)
	if after := now(); after.db != before.db || code == 0 || !strings.Contains(out, "cannot be told from a broken one") {
		t.Errorf("standby restarting: exit %d, db before %s after %s\n%s", code, before.db, after.db, out)
	}
}

// Twelve hours on, every ticket has expired, as real ones do (the default
// group Timeout, 43200 s): tejun's own super ticket, kept by a partial run,
// and the service user's replication ticket. tejun renews its own with the
// secret instead of failing a step; the dead replication ticket makes the
// guard unknown, so the re-run stops before the rebuild and the live
// standby is left as it was. Renewing the replication ticket (from 5-①)
// makes all well.
func TestPerforceRerunExpiredTickets(t *testing.T) {
	p := newPair(t)
	if out, code := p.build(t); code != 0 {
		t.Fatalf("build: exit %d\n%s", code, out)
	}
	if out, code := p.build(t, "--only", "show-standby-spec"); code != 0 {
		t.Fatalf("--only show-standby-spec: exit %d\n%s", code, out)
	}
	// Even a run of one step ends with the clean-up.
	if _, err := os.Stat(p.master.Path("/root/.p4tickets-tejun")); err == nil {
		t.Fatal("--only left tejun's ticket file behind")
	}
	// A run killed before its clean-up leaves tejun's ticket file.
	p.on(t, "master", superPassword+"\n", "p4", "-u", "super", "-p", p.mport, "-E", "P4TICKETS=/root/.p4tickets-tejun", "login")
	if _, err := os.Stat(p.master.Path("/root/.p4tickets-tejun")); err != nil {
		t.Fatalf("no ticket of tejun's to expire: %v", err)
	}
	// The build put the service user in a group whose tickets never
	// expire; someone has since set the group back to the default 12
	// hours and the service user logged in again, so its ticket expires.
	p.on(t, "master", "Group:\tservice_users\n\nTimeout:\t43200\n\nPasswordTimeout:\tunlimited\n\nUsers:\n\tservice\n", "p4", "-u", "super", "-p", p.mport, "group", "-i")
	p.on(t, "standby", "s3rvice-Passw0rd-unique\n", "sudo", "-u", "perforce", "p4", "-u", "service", "-p", p.mport, "-E", "P4TICKETS=/standby/.p4tickets", "login")
	pid, _ := os.ReadFile(p.standby.Path("/run/p4dctl-standby.pid"))
	db, journal := p.dbFiles(t), p.journal(t)
	p.passTime(t, 43200+60)
	if out, err := p.try("standby", "", "sudo", "-u", "perforce", "p4", "-u", "service", "-p", p.mport, "-E", "P4TICKETS=/standby/.p4tickets", "login", "-s"); err == nil || !strings.Contains(err.Error(), "Your session has expired, please login again.") {
		t.Fatalf("the replication ticket has not expired: %s %v", out, err)
	}
	out, code := p.build(t)
	st := statuses(out)
	if code == 0 || st["create-spec master"] != "ok" || st["service-password master"] != "ok" || st["checkpoint master"] != "failed" {
		t.Fatalf("re-run with expired tickets: exit %d\n%s", code, out)
	}
	if strings.Contains(out, "Your session has expired") {
		t.Errorf("tejun's own expired ticket was reported instead of renewed:\n%s", out)
	}
	if !strings.Contains(out, "cannot tell whether done_when pull-lj holds") || !strings.Contains(out, "service user's ticket") {
		t.Errorf("the stop does not say the replication ticket failed:\n%s", out)
	}
	after, _ := os.ReadFile(p.standby.Path("/run/p4dctl-standby.pid"))
	if p.dbFiles(t) != db || string(after) != string(pid) || p.journal(t) != journal {
		t.Errorf("the re-run touched the live standby (db, pid or a checkpoint):\n%s", out)
	}
	if out, code := p.build(t, "--from", "service-login"); code != 0 {
		t.Fatalf("renewing the replication ticket: exit %d\n%s", code, out)
	}
	out, code = p.build(t)
	if code != 0 {
		t.Fatalf("re-run after renewal: exit %d\n%s", code, out)
	}
	p.rerunOK(t, out)
	if p.dbFiles(t) != db {
		t.Error("the standby was rebuilt")
	}
}

// The service user's ticket outlives the default 12 hours: the build puts
// it in a group with Timeout unlimited (the admin guide's service_users),
// so 13 hours on the standby still replicates and a re-run changes nothing.
func TestPerforceServiceTicketNeverExpires(t *testing.T) {
	p := newPair(t)
	if out, code := p.build(t); code != 0 {
		t.Fatalf("build: exit %d\n%s", code, out)
	}
	g := p.on(t, "master", "", "p4", "-u", "super", "-p", p.mport, "-ztag", "group", "-o", "service_users")
	for _, want := range []string{"... Timeout unlimited\n", "... PasswordTimeout unlimited\n", "... Users0 service\n"} {
		if !strings.Contains(g, want) {
			t.Errorf("group service_users lacks %q:\n%s", strings.TrimSpace(want), g)
		}
	}
	pid, _ := os.ReadFile(p.standby.Path("/run/p4dctl-standby.pid"))
	db, journal := p.dbFiles(t), p.journal(t)
	p.passTime(t, 13*3600)
	if out, err := p.try("standby", "", "sudo", "-u", "perforce", "p4", "-u", "service", "-p", p.mport, "-E", "P4TICKETS=/standby/.p4tickets", "login", "-s"); err != nil {
		t.Fatalf("the replication ticket did not outlive 12 hours: %s %v", out, err)
	}
	// The re-run's 5-③ waits until the standby's journalcopy and pull -L
	// reach the master's journal position: replication, not a ticket.
	out, code := p.build(t)
	if code != 0 {
		t.Fatalf("re-run 13 hours on: exit %d\n%s", code, out)
	}
	p.rerunOK(t, out)
	after, _ := os.ReadFile(p.standby.Path("/run/p4dctl-standby.pid"))
	if p.dbFiles(t) != db || string(after) != string(pid) || p.journal(t) != journal {
		t.Errorf("the re-run touched the live standby (db, pid or a checkpoint):\n%s", out)
	}
	if out, err := p.try("standby", "", "p4", "-u", "super", "-p", p.sport, "-ztag", "pull", "-lj"); err != nil || strings.Contains(out, "masterJournalSequence -1") {
		t.Errorf("the standby does not replicate 13 hours on: %s %v", out, err)
	}
}

// A unicode master: every p4 command must send a charset, or the server
// refuses it. tejun learns it from p4 -ztag info (the parity step) and
// the standby's spec gets the manual's unicode line.
func TestPerforceUnicodeMaster(t *testing.T) {
	p := newPairWith(t, true)
	out, code := p.build(t)
	if code != 0 {
		t.Fatalf("build on a unicode master: exit %d\n%s", code, out)
	}
	if spec := p.on(t, "master", "", "p4", "-u", "super", "-p", p.mport, "server", "-o", "standby"); !strings.Contains(spec, "unicode=1") {
		t.Errorf("the standby's spec lacks unicode=1:\n%s", spec)
	}
	out, code = p.build(t)
	if code != 0 {
		t.Fatalf("re-run: exit %d\n%s", code, out)
	}
	p.rerunOK(t, out)
	// The drill has no parity step: its commands learn the charset from
	// the server's refusal.
	out, code = p.failover(t, "master-up", "--yes")
	if code != 0 || statuses(out)["failover standby"] != "changed" {
		t.Fatalf("failover on a unicode pair: exit %d\n%s", code, out)
	}
}

// A build that fails midway (max_fail = 0 stops both hosts) still ends
// tejun's login: the clean-up section is always = true, so its ticket file
// on the master does not outlive the failed run.
func TestPerforceFailedBuildCleansUp(t *testing.T) {
	p := newPair(t)
	if _, err := os.Stat(p.standby.Path("/standby")); err == nil {
		t.Fatal("the fixture already has /standby")
	}
	// 4-① cannot make P4ROOT where a plain file is: the build fails after
	// tejun has logged in to the master for sections 1 to 3.
	if err := os.WriteFile(p.standby.Path("/standby"), []byte("not a directory\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code := p.build(t)
	st := statuses(out)
	if code == 0 || st["make-root standby"] != "failed" || st["checkpoint master"] == "failed" {
		t.Fatalf("want the build to fail at 4-①: exit %d\n%s", code, out)
	}
	if st["restore -"] != "skipped" || !strings.Contains(out, "max_fail = 0") {
		t.Errorf("max_fail = 0 did not stop the build:\n%s", out)
	}
	if st["logout-master master"] != "changed" || st["logout-standby standby"] != "ok" {
		t.Errorf("the clean-up did not run after the stop (logout-master %q, logout-standby %q):\n%s", st["logout-master master"], st["logout-standby standby"], out)
	}
	p.noTejunTickets(t)
}

// A standby that answers but no longer replicates (its journalcopy thread
// gone from startup.N after a restart) makes 5-③ time out, and the message
// says where journalcopy, pull -L and pull -lj stood against the master's
// journal position the check began from.
func TestPerforcePullStalledStandby(t *testing.T) {
	p := newPair(t)
	if out, code := p.build(t); code != 0 {
		t.Fatalf("build: exit %d\n%s", code, out)
	}
	spec := p.on(t, "master", "", "p4", "-u", "super", "-p", p.mport, "server", "-o", "standby")
	if !strings.Contains(spec, "startup.1=journalcopy -i 1") {
		t.Fatalf("the standby's spec has no journalcopy thread:\n%s", spec)
	}
	spec = strings.Replace(spec, "startup.1=journalcopy -i 1", "startup.1=pull -u -i 1", 1)
	p.on(t, "master", spec, "p4", "-u", "super", "-p", p.mport, "server", "-i")
	// The standby takes the new startup.1 by replication, then restarts
	// with it (startup.N is read when p4d starts).
	for i := 0; ; i++ {
		b, _ := os.ReadFile(p.standby.Path("/standby/db.tejunsim"))
		if strings.Contains(string(b), `"standby#startup.1": "pull -u -i 1"`) {
			break
		}
		if i == 100 {
			t.Fatalf("the standby never took the new startup.1:\n%s", b)
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.on(t, "standby", "", "p4dctl", "stop", "standby")
	p.on(t, "standby", "", "p4dctl", "start", "standby")
	// A change on the master the stalled standby will never copy.
	p.on(t, "master", "User:\tstalled\n\nEmail:\tstalled@example.com\n\nFullName:\tStalled\n", "p4", "-u", "super", "-p", p.mport, "user", "-i", "-f")

	// The example's 30 tries 2 s apart, cut short for the test.
	src, err := os.ReadFile("examples/perforce-ha/standby.toml")
	if err != nil {
		t.Fatal(err)
	}
	short := strings.Replace(string(src), "retries = 30\ninterval = \"2s\"", "retries = 2\ninterval = \"1s\"", 1)
	if short == string(src) {
		t.Fatal("pull-lj's retries/interval not found in standby.toml")
	}
	rb := runbooktest.Write(t, "", "standby.toml", short)
	out, errOut, code := run(t, "run", rb, "-i", p.inventory, "--yes", "--only", "pull-lj", "--secret", "service_password=@"+p.secret,
		"--secret", "super_password=@"+p.superSecret)
	out += errOut
	if code == 0 || statuses(out)["pull-lj standby"] != "failed" {
		t.Fatalf("a stalled standby passed 5-③: exit %d\n%s", code, out)
	}
	for _, want := range []string{"has not reached the master's", "journalcopy at", "pull -L at", "pull -lj on standby shows"} {
		if !strings.Contains(out, want) {
			t.Errorf("the timeout message lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "service user's ticket") || strings.Contains(out, "cannot log in") {
		t.Errorf("a stall is reported as a credential problem:\n%s", out)
	}
}
