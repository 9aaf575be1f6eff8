package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"tejun/runbook/runbooktest"
	"tejun/transport"
	"tejun/transport/testbed"
)

// roleInventory is the pair's inventory written as the example is: host
// names apart from role names, the roles' values (server ID, services)
// under [roles.*], the machines' (P4ROOT, P4PORT, p4dctl entry) under
// [hosts.*], so --swap-roles can turn the pair round. extra is appended
// (replica hosts).
func (p *pair) roleInventory(t *testing.T, extra string) string {
	t.Helper()
	port := func(hp string) string { return hp[strings.LastIndexByte(hp, ':')+1:] }
	// A P4PORT host apart from the SSH address is written as the host's
	// service_address.
	svc := func(h *testbed.Host, hp string) string {
		hp = strings.TrimPrefix(hp, "ssl:")
		if host := hp[:strings.LastIndexByte(hp, ':')]; host != h.Address {
			return fmt.Sprintf("service_address = %q\n", host)
		}
		return ""
	}
	// An ssl: pair: the protocol and each machine's key fingerprint, as
	// p4d -Gf prints it there.
	tls := func(host, root, hp string) string {
		if !strings.HasPrefix(hp, "ssl:") {
			return ""
		}
		fp := strings.TrimSpace(strings.TrimPrefix(p.on(t, host, "", "p4d", "-r", root, "-Gf"), "Fingerprint: "))
		return fmt.Sprintf("p4_protocol = \"ssl:\"\np4_ssl_fingerprint = %q\n", fp)
	}
	inv := fmt.Sprintf(`[defaults]
user = "root"
identity_file = %q
known_hosts = %q

[vars]
super_user = "super"
service_user = "service"
os_user = "perforce"

[roles.master]
label = { ja = "マスターサーバ", en = "master server" }
[roles.master.vars]
server_id = "master"
services = "commit-server"

[roles.standby]
label = { ja = "スタンバイサーバ", en = "standby server" }
[roles.standby.vars]
server_id = "standby"
services = "standby"

[hosts.p4-1]
address = %q
%sport = %d
roles = ["master"]
[hosts.p4-1.vars]
p4port = %s
p4root = "/master"
p4dctl = "master"
%s
[hosts.p4-2]
address = %q
%sport = %d
roles = ["standby"]
[hosts.p4-2.vars]
p4port = %s
p4root = "/standby"
p4dctl = "standby"
%s`, p.bed.KeyFile, p.bed.KnownHosts, p.master.Address, svc(p.master, p.mport), p.master.Port, port(p.mport), tls("master", "/master", p.mport),
		p.standby.Address, svc(p.standby, p.sport), p.standby.Port, port(p.sport), tls("standby", "/standby", p.sport)) + extra
	path := runbooktest.Write(t, "", "inventory.toml", inv)
	return path
}

// addReplica makes host name a read-only replica of the master by hand, as
// an administrator would have before the HA pair existed: its server spec
// (P4TARGET the master), a checkpoint restored into its root as perforce,
// its server ID, p4d started, and its service user logged in to the
// master with the ticket file its spec names.
func (p *pair) addReplica(t *testing.T, name string) {
	t.Helper()
	root, h := "/"+name, p.bed.Host(name)
	spec := fmt.Sprintf("ServerID:\t%s\nType:\tserver\nServices:\treplica\nReplicatingFrom:\tmaster\nDescription:\n\treplica\nDistributedConfig:\n\tP4TARGET=%s\n\tserviceUser=service\n\tP4TICKETS=%s/.p4tickets\n\tdb.replication=readonly\n", name, p.mport, root)
	if strings.HasPrefix(p.mport, "ssl:") {
		spec += fmt.Sprintf("\tP4TRUST=%s/.p4trust\n", root)
	}
	p.on(t, "master", spec, "p4", "-u", "super", "-p", p.mport, "server", "-i")
	out := p.on(t, "master", "", "p4", "-u", "super", "-p", p.mport, "admin", "checkpoint", "/tmp/"+name)
	ckp := regexp.MustCompile(`Checkpointing to (\S+)\.\.\.`).FindStringSubmatch(out)
	if ckp == nil {
		t.Fatalf("no checkpoint in %q", out)
	}
	data, err := os.ReadFile(p.master.Path("/tmp/" + ckp[1]))
	if err != nil {
		t.Fatal(err)
	}
	p.on(t, name, "", "install", "-d", "-o", "perforce", "-g", "perforce", root)
	os.WriteFile(h.Path(root+"/replica.ckp"), data, 0o600)
	os.Chown(h.Path(root+"/replica.ckp"), 1666, 1666)
	p.on(t, name, "", "sudo", "-u", "perforce", "p4d", "-r", root, "-jr", root+"/replica.ckp")
	p.on(t, name, "", "sudo", "-u", "perforce", "p4d", "-r", root, "-xD", name)
	p.on(t, name, "", "p4dctl", "start", name)
	pw, _ := os.ReadFile(p.secret)
	login := []string{"sudo", "-u", "perforce", "p4", "-p", p.mport, "-u", "service", "-E", "P4TICKETS=" + root + "/.p4tickets"}
	if strings.HasPrefix(p.mport, "ssl:") {
		// The administrator trusted the master for perforce, by hand.
		login = append(login, "-E", "P4TRUST="+root+"/.p4trust")
		p.on(t, name, "", append(login[:len(login):len(login)], "trust", "-y")...)
	}
	p.on(t, name, string(pw), append(login, "login")...)
	p.waitInSync(t, name)
}

// waitInSync waits until the replica on host name has the journal
// position its master has.
func (p *pair) waitInSync(t *testing.T, name string) string {
	t.Helper()
	var out string
	for i := 0; i < 100; i++ {
		out, _ = p.try(name, "", "p4", "-u", "super", "-p", p.ports[name], "pull", "-lj")
		m := regexp.MustCompile(`replica journal state is: Journal (\d+), Sequence (\d+)\.\nCurrent master journal state is: Journal (\d+), Sequence (\d+)\.`).FindStringSubmatch(out)
		if m != nil && m[1] == m[3] && m[2] == m[4] {
			return out
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s does not catch up:\n%s", name, out)
	return ""
}

func (p *pair) runFailover(t *testing.T, args ...string) (string, int) {
	t.Helper()
	out, errOut, code := run(t, append([]string{"run", "examples/perforce-ha/failover.toml", "-i", p.inventory,
		"--secret", "super_password=@" + p.superSecret, "--secret", "service_password=@" + p.secret}, args...)...)
	return out + errOut, code
}

// failedLines are a run's lines of failed steps (label, step, host, the
// reason), put first in a test's failure message: a run's whole output
// scrolls the one line that says why out of sight in a loaded CI log.
func failedLines(out string) string {
	line := regexp.MustCompile(`^\S+\s+\S+\s+\S+\s+failed\b`)
	var got []string
	for _, l := range strings.Split(unstamp(out), "\n") {
		if line.MatchString(l) {
			got = append(got, l)
		}
	}
	if len(got) == 0 {
		return "(no step failed)"
	}
	return strings.Join(got, "\n")
}

// The failover chapter's last part: after the drill, the replica that
// pulled from the old master pulls from the new one. tejun changes its
// P4TARGET with p4d -cset as perforce, the new master's db.config agrees
// (p4 configure set), the replica's service user has a ticket for the new
// master, and replication catches up; run again, nothing changes.
func TestPerforceFailoverRepointsReplica(t *testing.T) {
	p := newPairWith(t, false, "replica1")
	rport := p.ports["replica1"]
	p.inventory = p.roleInventory(t, fmt.Sprintf(`
[hosts.replica1]
address = %q
port = %d
roles = ["replica"]
[hosts.replica1.vars]
server_id = "replica1"
p4port = %s
p4root = "/replica1"
master_alias = ""
`, p.bed.Host("replica1").Address, p.bed.Host("replica1").Port, rport[strings.LastIndexByte(rport, ':')+1:]))
	if out, code := p.build(t); code != 0 {
		t.Fatalf("build: exit %d\n%s\n%s", code, failedLines(out), out)
	}
	p.addReplica(t, "replica1")

	out, code := p.runFailover(t, "--section", "master-up", "--yes")
	if code != 0 {
		t.Fatalf("drill: exit %d\n%s\n%s", code, failedLines(out), out)
	}
	st := statuses(out)
	for key, want := range map[string]string{
		"failover p4-2": "changed", "new-master-info p4-2": "ok", "master-spec-address p4-2": "changed", "configure-set replica1": "changed",
		"replica-service-login replica1": "changed", "replica-status replica1": "ok", "set-p4target replica1": "changed",
		"show-p4target replica1": "ok", "replica-pull-lj replica1": "ok",
	} {
		if st[key] != want {
			t.Errorf("%s = %q, want %s\n%s", key, st[key], want, out)
		}
	}
	if !strings.Contains(out, "cannot reach its P4TARGET") {
		t.Errorf("the replica's state before the change is not reported:\n%s", out)
	}
	show := p.on(t, "replica1", "", "sudo", "-u", "perforce", "p4d", "-r", "/replica1", "-cshow")
	if !strings.Contains(show, "replica1: P4TARGET = "+p.sport) {
		t.Errorf("the replica's P4TARGET after the drill:\n%s", show)
	}
	cfg := p.on(t, "standby", "", "p4", "-u", "super", "-p", p.sport, "configure", "show", "allservers")
	if !strings.Contains(cfg, "replica1: P4TARGET = "+p.sport) {
		t.Errorf("the new master's db.config still points the replica elsewhere:\n%s", cfg)
	}
	if spec := p.on(t, "standby", "", "p4", "-u", "super", "-p", p.sport, "server", "-o", "master"); !strings.Contains(spec, "Address:\t"+p.sport) {
		t.Errorf("the master's server spec does not give the new master's address:\n%s", spec)
	}
	// A change on the new master reaches the replica.
	p.on(t, "standby", "User:\tnewuser\nEmail:\tn@x\nFullName:\tn\n", "p4", "-u", "super", "-p", p.sport, "user", "-i", "-f")
	p.waitInSync(t, "replica1")
	if users := p.on(t, "replica1", "", "p4", "-u", "super", "-p", rport, "users", "newuser"); !strings.Contains(users, "newuser") {
		t.Errorf("a user made on the new master did not replicate:\n%s", users)
	}
	for _, f := range []string{"/root/.p4tickets-tejun"} {
		for _, h := range []string{"standby", "replica1"} {
			if _, err := os.Stat(p.bed.Host(h).Path(f)); err == nil {
				t.Errorf("%s:%s left behind", h, f)
			}
		}
	}

	// Again, alone: everything is found done.
	out, code = p.runFailover(t, "--section", "repoint")
	if code != 0 {
		t.Fatalf("repoint again: exit %d\n%s\n%s", code, failedLines(out), out)
	}
	p.rerunOK(t, out)
}

// Drill, then failback: the old master's machine is rebuilt as the
// standby of the new master with the same inventory and --swap-roles, and
// the next drill fails over back to it. Without replicas the after-failover
// sections say there is nothing to repoint.
func TestPerforceFailback(t *testing.T) {
	p := newPair(t)
	p.inventory = p.roleInventory(t, "")
	if out, code := p.build(t); code != 0 {
		t.Fatalf("build: exit %d\n%s", code, out)
	}
	out, code := p.runFailover(t, "--section", "master-up", "--yes")
	if code != 0 || statuses(out)["failover p4-2"] != "changed" {
		t.Fatalf("drill 1: exit %d\n%s", code, out)
	}
	if !strings.Contains(out, "no replica or edge server") {
		t.Errorf("the repoint is not said to be unneeded:\n%s", out)
	}
	if id := p.serverID(t, "standby", p.sport); id != "master" {
		t.Fatalf("after drill 1 the standby machine is %s", id)
	}

	// Failback forgotten: the same inventory without --swap-roles names
	// the old master's machine (down since the drill) as the master and
	// the new master as the standby to rebuild. Refused before anything
	// changes, and the message says how to run it.
	before := p.dbFiles(t)
	specBefore := p.on(t, "standby", "", "p4", "-u", "super", "-p", p.sport, "server", "-o", "standby")
	out, code = p.build(t)
	st := statuses(out)
	if code != 1 || st["parity p4-1"] != "failed" || !strings.Contains(out, "--swap-roles master,standby") || !strings.Contains(out, "(role standby) is ServerID master") {
		t.Fatalf("failback without --swap-roles: exit %d\n%s", code, out)
	}
	if st["create-spec -"] != "skipped" || st["stop-standby -"] != "skipped" {
		t.Errorf("a step ran after the refusal:\n%s", out)
	}
	if after := p.dbFiles(t); after != before {
		t.Errorf("the new master's db.* changed:\n%s\n-> %s", before, after)
	}
	if spec := p.on(t, "standby", "", "p4", "-u", "super", "-p", p.sport, "server", "-o", "standby"); spec != specBefore {
		t.Errorf("the standby spec changed:\n%s\n-> %s", specBefore, spec)
	}
	if id := p.serverID(t, "standby", p.sport); id != "master" {
		t.Fatalf("after the refused run the new master is %s", id)
	}

	// Failback: the standby is rebuilt on the old master's machine.
	out, code = p.build(t, "--swap-roles", "master,standby")
	if code != 0 {
		t.Fatalf("failback build: exit %d\n%s", code, out)
	}
	st = statuses(out)
	// The checkpoint is new: the one of the first build, in the new
	// master's root under the current journal's number, predates the
	// standby's new P4TARGET.
	for _, key := range []string{"standby-nomandatory p4-2", "checkpoint p4-2", "transfer-checkpoint p4-2", "restore p4-1", "start-standby p4-1", "set-mandatory p4-2"} {
		if st[key] != "changed" {
			t.Errorf("failback: %s = %q, want changed", key, st[key])
		}
	}
	// The new master's spec for the standby was mandatory from the first
	// build: it is nomandatory before the rebuild stops anything, and
	// mandatory again only at 6-③.
	nomandatory := regexp.MustCompile(`(?m)standby-nomandatory\s+p4-2\s+changed`).FindStringIndex(out)
	stop := regexp.MustCompile(`(?m)stop-standby\s+p4-1\s+(changed|ok)`).FindStringIndex(out)
	mandatory := regexp.MustCompile(`(?m)set-mandatory\s+p4-2\s+changed`).FindStringIndex(out)
	if nomandatory == nil || stop == nil || mandatory == nil || !(nomandatory[0] < stop[0] && stop[0] < mandatory[0]) {
		t.Errorf("failback: nomandatory, stop, mandatory not in that order:\n%s", out)
	}
	if id := p.serverID(t, "master", p.mport); id != "standby" {
		t.Fatalf("after failback the old master's machine is %s, want standby", id)
	}
	servers := p.on(t, "standby", "", "p4", "-u", "super", "-p", p.sport, "-ztag", "servers")
	if !regexp.MustCompile(`(?s)ServerID standby.*Options mandatory`).MatchString(servers) {
		t.Errorf("the rebuilt standby is not mandatory:\n%s", servers)
	}
	// Re-run of the failback changes nothing.
	out, code = p.build(t, "--swap-roles", "master,standby")
	if code != 0 {
		t.Fatalf("failback re-run: exit %d\n%s", code, out)
	}
	p.rerunOK(t, out)

	// Drill 2 forgotten the same way: without --swap-roles the standby
	// role names the new master, which is ServerID master already; that is
	// not "already failed over", since the master role's server answers,
	// as a standby. Refused naming --swap-roles, nothing changes.
	before = p.dbFiles(t)
	out, code = p.runFailover(t, "--section", "master-up", "--yes")
	st = statuses(out)
	if code != 1 || st["preview p4-2"] != "failed" || !strings.Contains(out, "--swap-roles master,standby") ||
		!strings.Contains(out, "is ServerID standby with services standby") {
		t.Fatalf("drill 2 without --swap-roles: exit %d\n%s", code, out)
	}
	if st["failover p4-2"] == "changed" || st["failover p4-2"] == "ok" {
		t.Errorf("the failover step ran after the refusal:\n%s", out)
	}
	if after := p.dbFiles(t); after != before {
		t.Errorf("the new master's db.* changed:\n%s\n-> %s", before, after)
	}
	if id := p.serverID(t, "standby", p.sport); id != "master" {
		t.Fatalf("after the refused drill the new master is %s", id)
	}
	if id := p.serverID(t, "master", p.mport); id != "standby" {
		t.Fatalf("after the refused drill the rebuilt standby is %s", id)
	}

	// Drill 2, the other way round.
	out, code = p.runFailover(t, "--section", "master-up", "--yes", "--swap-roles", "master,standby")
	if code != 0 || statuses(out)["failover p4-1"] != "changed" {
		t.Fatalf("drill 2: exit %d\n%s", code, out)
	}
	if id := p.serverID(t, "master", p.mport); id != "master" {
		t.Errorf("after drill 2 the first machine is %s, want master", id)
	}
	if _, err := p.try("standby", "", "p4", "-u", "super", "-p", p.sport, "info"); err == nil {
		t.Error("the second machine still answers after drill 2")
	}
}

// Failback after the drill without the master: the old master's machine
// was fenced (its p4dctl entry disabled); rebuilt as the standby, its
// entry is re-enabled only then, and it replicates from the new master.
func TestPerforceFailbackAfterMasterDown(t *testing.T) {
	p := newPair(t)
	p.inventory = p.roleInventory(t, "")
	if out, code := p.build(t); code != 0 {
		t.Fatalf("build: exit %d\n%s", code, out)
	}
	p.on(t, "master", "", "p4dctl", "stop", "master")
	out, code := p.runFailover(t, "--section", "master-down", "--yes")
	if code != 0 || statuses(out)["failover-master-down p4-2"] != "changed" {
		t.Fatalf("drill: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(p.master.Path("/etc/perforce/p4dctl.conf.d/master.conf.fenced-by-tejun")); err != nil {
		t.Fatalf("the old master is not fenced: %v", err)
	}
	// Starting the fenced old master alone, not rebuilt, is refused.
	out, code = p.build(t, "--swap-roles", "master,standby", "--only", "start-standby")
	if code != 1 || !strings.Contains(out, "is fenced") {
		t.Fatalf("start of the fenced old master: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(p.master.Path("/etc/perforce/p4dctl.conf.d/master.conf")); err == nil {
		t.Fatal("the fenced old master's entry was re-enabled without a rebuild")
	}
	out, code = p.build(t, "--swap-roles", "master,standby")
	if code != 0 {
		t.Fatalf("failback build: exit %d\n%s", code, out)
	}
	st := statuses(out)
	if st["stop-standby p4-1"] != "ok" || st["start-standby p4-1"] != "changed" {
		t.Errorf("fenced entry: stop %q, start %q\n%s", st["stop-standby p4-1"], st["start-standby p4-1"], out)
	}
	if _, err := os.Stat(p.master.Path("/etc/perforce/p4dctl.conf.d/master.conf")); err != nil {
		t.Errorf("the rebuilt standby's p4dctl entry is not re-enabled: %v", err)
	}
	if id := p.serverID(t, "master", p.mport); id != "standby" {
		t.Errorf("the old master's machine is %s after failback, want standby", id)
	}
}

// The pair's Perforce network apart from its SSH network: each p4d listens
// on another loopback address than its host's sshd, given as the host's
// service_address. Every P4PORT and P4TARGET the runbooks compose names
// it (nothing listens at SSH-address:port, so a command that used the SSH
// address would fail), and a drill fails over with it.
func TestPerforceServiceAddress(t *testing.T) {
	p := newPairOn(t, pairOpts{service: func(h *testbed.Host) string { return strings.Replace(h.Address, "127.0.0.", "127.0.5.", 1) }})
	if strings.HasPrefix(p.mport, p.master.Address+":") {
		t.Fatalf("the master's P4PORT %s is on its SSH address", p.mport)
	}
	p.inventory = p.roleInventory(t, "")
	if inv, err := os.ReadFile(p.inventory); err != nil || !strings.Contains(string(inv), "service_address = ") {
		t.Fatal("the inventory has no service_address")
	}
	out, code := p.build(t, "-v")
	if code != 0 {
		t.Fatalf("build: exit %d\n%s", code, out)
	}
	if strings.Contains(out, "-p "+p.master.Address+":") || strings.Contains(out, "-p "+p.standby.Address+":") {
		t.Errorf("a p4 command went to an SSH address:\n%s", out)
	}
	cfg := p.on(t, "master", "", "p4", "-u", "super", "-p", p.mport, "configure", "show", "allservers")
	if !strings.Contains(cfg, "standby: P4TARGET = "+p.mport) {
		t.Errorf("the standby's P4TARGET is not the master's service address %s:\n%s", p.mport, cfg)
	}
	out, code = p.runFailover(t, "--section", "master-up", "--yes")
	if code != 0 || statuses(out)["failover p4-2"] != "changed" {
		t.Fatalf("drill: exit %d\n%s", code, out)
	}
	if spec := p.on(t, "standby", "", "p4", "-u", "super", "-p", p.sport, "server", "-o", "master"); !strings.Contains(spec, "Address:\t"+p.sport) {
		t.Errorf("the master's server spec does not give the new master's service address %s:\n%s", p.sport, spec)
	}
}

// master_alias is a DNS alias that follows the master, so the repoint
// leaves that replica alone; the old master's own P4PORT (its
// service_address) given as an "alias" would leave the replica pulling
// from a machine that is no longer the master, and is refused before
// anything runs. An option-like value is refused too.
func TestRepointAliasIsAnAlias(t *testing.T) {
	src, err := os.ReadFile("testdata/edge-inventory.toml")
	if err != nil {
		t.Fatal(err)
	}
	for alias, want := range map[string]string{
		"192.168.56.114:1666":   "not a DNS alias",
		"-oProxy=x:1666":        "not a P4PORT",
		"perforce master:1666":  "not a P4PORT",
		"perforce-master:1666x": "not a P4PORT",
	} {
		inv := strings.Replace(string(src), `master_alias = "perforce-master.example.com:1666"`, fmt.Sprintf("master_alias = %q", alias), 1)
		path := filepath.Join(t.TempDir(), "inventory.toml")
		if err := os.WriteFile(path, []byte(inv), 0o644); err != nil {
			t.Fatal(err)
		}
		out, errOut, code := run(t, "dry-run", "examples/perforce-ha/failover.toml", "-i", path)
		if code == 0 || !strings.Contains(errOut, want) {
			t.Errorf("master_alias %q: exit %d, want a refusal saying %q\n%s%s", alias, code, want, out, errOut)
		}
	}
	// The alias itself is accepted.
	if _, errOut, code := run(t, "dry-run", "examples/perforce-ha/failover.toml", "-i", "testdata/edge-inventory.toml"); code != 0 {
		t.Errorf("the DNS alias is refused: %s", errOut)
	}
}

// An ssl: pair, as real Perforce has it: the p4 client refuses an ssl:
// server until its fingerprint is trusted. The inventory gives each
// machine's fingerprint; a wrong one stops the build at its first step,
// before anything is sent to the server or changed, and the right ones
// build a replicating standby, re-run clean, and fail over.
func TestPerforceSSL(t *testing.T) {
	p := newPairOn(t, pairOpts{ssl: true})
	good := p.roleInventory(t, "")
	real := regexp.MustCompile(`(?s)\[hosts\.p4-1\.vars\].*?p4_ssl_fingerprint = "([^"]+)"`).FindStringSubmatch(string(readFile(t, good)))
	if real == nil {
		t.Fatalf("no fingerprint for p4-1 in:\n%s", readFile(t, good))
	}
	// The untrusted server is refused as real p4 refuses it.
	if out, err := transportOutput(p, "master", "p4", "-p", p.mport, "info"); err == nil || !strings.Contains(err.Error(), "can't be established") {
		t.Fatalf("an untrusted ssl: server answered: %s %v", out, err)
	}

	wrong := strings.Replace(string(readFile(t, good)), real[1], "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33", 1)
	p.inventory = runbooktest.Write(t, "", "wrong.toml", wrong)
	specs := p.on(t, "master", "", "p4", "-u", "super", "-p", p.mport, "-ztag", "servers")
	out, code := p.build(t)
	st := statuses(out)
	if code != 1 || st["trust-master p4-1"] != "failed" || !strings.Contains(out, "presents the key "+real[1]) || st["parity -"] != "skipped" {
		t.Fatalf("wrong fingerprint: exit %d\n%s", code, out)
	}
	if after := p.on(t, "master", "", "p4", "-u", "super", "-p", p.mport, "-ztag", "servers"); after != specs {
		t.Errorf("the master's server specs changed after the refusal:\n%s\n-> %s", specs, after)
	}
	if _, err := os.Stat(p.standby.Path("/standby")); err == nil {
		t.Error("the standby's root was made after the refusal")
	}
	if trust, _ := os.ReadFile(p.master.Path("/root/.p4trust")); strings.Contains(string(trust), real[1]) {
		t.Errorf("the master's key was trusted from the wire:\n%s", trust)
	}
	p.noTejunTickets(t)

	p.inventory = good
	out, code = p.build(t)
	if code != 0 {
		t.Fatalf("build over ssl: exit %d\n%s", code, out)
	}
	st = statuses(out)
	for _, key := range []string{"trust-master p4-1", "trust-standby p4-2", "trust-master-for-service p4-2", "trust-standby-from-master p4-1", "pull-lj p4-2", "set-mandatory p4-1"} {
		if st[key] != "changed" && st[key] != "ok" {
			t.Errorf("%s = %q", key, st[key])
		}
	}
	if st["trust-master p4-1"] != "changed" || st["restore p4-2"] != "changed" {
		t.Errorf("the ssl: build did not trust and rebuild: trust-master %q, restore %q", st["trust-master p4-1"], st["restore p4-2"])
	}
	if trust, _ := os.ReadFile(p.standby.Path("/standby/.p4trust")); !strings.Contains(string(trust), real[1]) {
		t.Errorf("the service user's trust file on the standby does not hold the master's key:\n%s", trust)
	}
	// The standby's replication threads read that file (P4TRUST in its
	// spec): without it they would refuse the ssl: master's key.
	if spec := p.on(t, "master", "", "p4", "-u", "super", "-p", p.mport, "server", "-o", "standby"); !strings.Contains(spec, "P4TRUST=/standby/.p4trust") {
		t.Errorf("the standby's spec has no P4TRUST:\n%s", spec)
	}
	out, code = p.build(t)
	if code != 0 {
		t.Fatalf("re-run over ssl: exit %d\n%s", code, out)
	}
	p.rerunOK(t, out)

	out, code = p.runFailover(t, "--section", "master-up", "--yes")
	if code != 0 || statuses(out)["failover p4-2"] != "changed" {
		t.Fatalf("drill over ssl: exit %d\n%s", code, out)
	}
	if id := p.serverID(t, "standby", p.sport); id != "master" {
		t.Errorf("after the drill the standby is %s", id)
	}
}

// transportOutput runs argv on host over the test's own connection, as is:
// without the fixture's ticket or trust files.
func transportOutput(p *pair, host string, argv ...string) (string, error) {
	return transport.Output(context.Background(), p.ssh[host], transport.Cmd{Argv: argv}, nil)
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The repoint over ssl: the replica's host trusts the new master (for root
// and for perforce's service login) by the inventory's fingerprint, then
// is repointed and replicates from it.
func TestPerforceFailoverRepointsReplicaSSL(t *testing.T) {
	p := newPairOn(t, pairOpts{ssl: true}, "replica1")
	rport := p.ports["replica1"]
	p.inventory = p.roleInventory(t, fmt.Sprintf(`
[hosts.replica1]
address = %q
port = %d
roles = ["replica"]
[hosts.replica1.vars]
server_id = "replica1"
p4port = %s
p4root = "/replica1"
master_alias = ""
`, p.bed.Host("replica1").Address, p.bed.Host("replica1").Port, rport[strings.LastIndexByte(rport, ':')+1:]))
	if out, code := p.build(t); code != 0 {
		t.Fatalf("build: exit %d\n%s", code, out)
	}
	p.addReplica(t, "replica1")
	out, code := p.runFailover(t, "--section", "master-up", "--yes")
	if code != 0 {
		t.Fatalf("drill: exit %d\n%s", code, out)
	}
	st := statuses(out)
	for key, want := range map[string]string{
		"trust-new-master-on-replica replica1": "changed", "trust-new-master-for-service replica1": "changed", "trust-replica replica1": "ok",
		"configure-set replica1": "changed", "set-p4target replica1": "changed", "replica-pull-lj replica1": "ok",
	} {
		if st[key] != want {
			t.Errorf("%s = %q, want %s\n%s", key, st[key], want, out)
		}
	}
	show := p.on(t, "replica1", "", "sudo", "-u", "perforce", "p4d", "-r", "/replica1", "-cshow")
	if !strings.Contains(show, "replica1: P4TARGET = "+p.sport) {
		t.Errorf("the replica's P4TARGET after the drill:\n%s", show)
	}
}
