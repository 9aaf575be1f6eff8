package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"tejun/runbook/runbooktest"
	"tejun/transport"
	"tejun/transport/ssh"
	"tejun/transport/testbed"
)

// The end-to-end tests of the three other systems' runbooks (ProcessSaver,
// CLUSTERPRO, LifeKeeper/Garoon) on the real-sshd test-bed. Their products
// are proprietary, so testdata/stand-ins/ replaces each command a Debian
// test host lacks; each stand-in says what it does and does not do.

// exitOf runs argv on a test-bed host over SSH and returns its exit status.
func exitOf(t *testing.T, b *testbed.Bed, h *testbed.Host, argv ...string) int {
	t.Helper()
	c, err := ssh.Dial(context.Background(), ssh.Config{Name: h.Name, Address: h.Address, Port: h.Port, User: "root",
		IdentityFiles: []string{b.KeyFile}, KnownHosts: []string{b.KnownHosts}, AgentSocket: "/nonexistent"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = c.Run(context.Background(), transport.Cmd{Argv: argv}, transport.Stdio{})
	if ee, ok := err.(*transport.ExitError); ok {
		return ee.Code
	} else if err != nil {
		t.Fatal(err)
	}
	return 0
}

func readOn(h *testbed.Host, p string) string {
	d, _ := os.ReadFile(h.Path(p))
	return string(d)
}

// The CLUSTERPRO scripts reach every server of the group, and branch as
// the design guide describes: run here under each ARMS_* combination, with
// stand-ins for armlog, armload, armkill, armlsmnt and armrelpath
// (testdata/stand-ins/; CLUSTERPRO is proprietary) and an application of
// shell scripts. The application's name holds ", $() and backquotes: it
// must reach armlog as literal text and run nothing.
func TestRunClusterproScripts(t *testing.T) {
	b := testbed.Start(t, "server1", "server2")
	inv := inventoryFor(t, b, "", nil)
	src, _ := os.ReadFile(inv)
	const hostile = "a\"b $(touch /tmp/pwned) `touch /tmp/pwned2`"
	varsBlock := strings.Replace(exampleVars(t, "examples/clusterpro/inventory.toml"), `app_name = "app"`, fmt.Sprintf("app_name = %q", hostile), 1)
	if !strings.Contains(varsBlock, "touch /tmp/pwned") {
		t.Fatal("the example inventory no longer sets app_name = \"app\"")
	}
	os.WriteFile(inv, []byte(varsBlock+"\n"+strings.ReplaceAll(string(src), `roles = ["nodes"]`, `roles = ["group"]`)), 0o644)
	for _, h := range b.Hosts {
		for _, tool := range []string{"armlog", "armload", "armkill", "armlsmnt", "armrelpath"} {
			h.Install(t, "testdata/stand-ins/"+tool)
		}
		os.MkdirAll(h.Path("/opt/app/bin"), 0o755)
		for _, verb := range []string{"start", "stop", "recover"} {
			os.WriteFile(h.Path("/opt/app/bin/"+verb), []byte("#!/bin/sh\necho "+verb+" >> /tmp/app.log\n"), 0o755)
		}
	}
	args := []string{"run", "examples/clusterpro/scripts.toml", "-i", inv}
	out, errOut, code := run(t, args...)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if st := statuses(out); st["start-script server2"] != "changed" || st["stop-script server1"] != "changed" ||
		st["syntax-start server1"] != "ok" || st["syntax-stop server2"] != "ok" {
		t.Errorf("statuses %v", st)
	}
	s2 := b.Host("server2")
	dir := "/opt/nec/clusterpro/scripts/failover_app/"
	rerunChangesNothing(t, args, s2.Path(dir+"start.bat"), s2.Path(dir+"stop.bat"))

	os.MkdirAll(s2.Path("/var/lib/tejun-arm"), 0o755)
	os.WriteFile(s2.Path("/var/lib/tejun-arm/failover_app.mnt"), []byte("/mnt/disk1\n/mnt/disk2\n"), 0o644)
	os.WriteFile(s2.Path("/var/lib/tejun-arm/busy"), []byte("/mnt/disk2\n"), 0o644)
	name := hostile
	for _, tc := range []struct {
		script  string
		env     []string
		watched bool // the application is under armload before the script runs
		code    int
		app     string
		log     string
		calls   string
	}{
		{"start.bat", []string{"ARMS_EVENT=START", "ARMS_DISK=SUCCESS", "ARMS_SERVER=HOME", "ARMS_PRIORITY=1"}, false, 0, "start",
			name + " STARTED\nSTART ON PRIMARY SERVER", "armload app"},
		{"start.bat", []string{"ARMS_EVENT=FAILOVER", "ARMS_DISK=SUCCESS", "ARMS_SERVER=OTHER", "ARMS_PRIORITY=2"}, false, 0, "start",
			name + " STARTED AFTER FAILOVER\nFAILOVER ON OTHER SERVER (PRIORITY 2)", "armload app"},
		{"start.bat", []string{"ARMS_EVENT=RECOVER", "ARMS_DISK=SUCCESS", "ARMS_SERVER=HOME"}, false, 0, "recover", name + " RECOVERED", ""},
		{"start.bat", []string{"ARMS_EVENT=START", "ARMS_DISK=FAILURE", "ARMS_SERVER=HOME"}, false, 1, "", "DISK ERROR", ""},
		{"stop.bat", []string{"ARMS_EVENT=START", "ARMS_DISK=SUCCESS", "ARMS_SERVER=HOME", "ARMS_FACTOR=GROUPSTOP", "ARMS_GROUPNAME=failover_app"}, true, 0, "",
			name + " STOPPED (GROUPSTOP)\nSTOP ON PRIMARY SERVER\nKILL NO PROCESS\nKILL SOME PROCESS",
			"armkill app\narmlsmnt failover_app\narmrelpath /mnt/disk1\narmrelpath /mnt/disk2"},
		{"stop.bat", []string{"ARMS_EVENT=FAILOVER", "ARMS_DISK=SUCCESS", "ARMS_SERVER=OTHER", "ARMS_FACTOR=CLUSTERSHUTDOWN", "ARMS_GROUPNAME=other_group"}, true, 0, "",
			name + " STOPPED AFTER FAILOVER (CLUSTERSHUTDOWN)\nSTOP AFTER FAILOVER ON OTHER SERVER\nARMLSMNT ERROR", "armkill app\narmlsmnt other_group"},
		{"stop.bat", []string{"ARMS_EVENT=START", "ARMS_DISK=FAILURE", "ARMS_SERVER=HOME"}, true, 1, "", "DISK ERROR", ""},
		{"start.bat", nil, false, 0, "", "NO_ARM", ""},
		{"stop.bat", nil, false, 0, "", "NO_ARM", ""},
	} {
		for _, p := range []string{"/var/log/armlog", "/tmp/app.log", "/var/lib/tejun-arm/calls", "/var/lib/tejun-arm/app.watch"} {
			os.Remove(s2.Path(p))
		}
		if tc.watched {
			os.WriteFile(s2.Path("/var/lib/tejun-arm/app.watch"), []byte("/opt/app/bin/start\n"), 0o644)
		}
		got := exitOf(t, b, s2, append(append([]string{"env"}, tc.env...), dir+tc.script)...)
		logged, app, calls := readOn(s2, "/var/log/armlog"), readOn(s2, "/tmp/app.log"), readOn(s2, "/var/lib/tejun-arm/calls")
		if got != tc.code || strings.TrimSpace(logged) != tc.log || strings.TrimSpace(app) != tc.app || strings.TrimSpace(calls) != tc.calls {
			t.Errorf("%s %v: exit %d, armlog %q, app %q, calls %q", tc.script, tc.env, got, logged, app, calls)
		}
		_, watching := os.Stat(s2.Path("/var/lib/tejun-arm/app.watch"))
		if want := tc.calls == "armload app" || (tc.watched && !strings.HasPrefix(tc.calls, "armkill")); (watching == nil) != want {
			t.Errorf("%s %v: app under armload = %v, want %v", tc.script, tc.env, watching == nil, want)
		}
	}
	for _, p := range []string{"/tmp/pwned", "/tmp/pwned2"} {
		if _, err := os.Stat(s2.Path(p)); err == nil {
			t.Errorf("the application's name ran a command: %s exists", p)
		}
	}

	// Each script's syntax is checked on its own: a broken stop.bat fails
	// its check even though start.bat is fine.
	f, _ := os.OpenFile(s2.Path(dir+"stop.bat"), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("if then\n")
	f.Close()
	out, errOut, code = run(t, "run", "examples/clusterpro/scripts.toml", "-i", inv, "--only", "syntax-stop", "--limit", "server2")
	if code == 0 || statuses(out)["syntax-stop server2"] != "failed" {
		t.Errorf("a broken stop.bat passed its syntax check: exit %d\n%s%s", code, out, errOut)
	}
}

// The ProcessSaver runbook on two real-sshd hosts, chapter 7's tests
// included. ProcessSaver and Tomcat are stand-ins (testdata/stand-ins/:
// pcheck watches and restarts a java stand-in with the runbook's own
// restart script and logs to /var/log/messages as the guide shows; padmin
// prints pcheck's state). Tomcat's home has a space in it: the restart
// script must still start it.
func TestRunProcessSaver(t *testing.T) {
	b := testbed.Start(t, "server-01", "server-02")
	const home = "/opt/my tomcat"
	for _, h := range b.Hosts {
		os.MkdirAll(h.Path("/var/opt/HA/PS/conf/bin"), 0o755)
		for _, tool := range []string{"java", "padmin", "pcheck", "catalina.sh"} {
			h.Install(t, "testdata/stand-ins/"+tool)
		}
		os.MkdirAll(h.Path("/opt/HA/PS/bin"), 0o755)
		os.MkdirAll(h.Path(home+"/bin"), 0o755)
		os.Rename(h.Path("/usr/local/bin/padmin"), h.Path("/opt/HA/PS/bin/padmin"))
		os.Rename(h.Path("/usr/local/bin/pcheck"), h.Path("/opt/HA/PS/bin/pcheck"))
		os.Rename(h.Path("/usr/local/bin/catalina.sh"), h.Path(home+"/bin/catalina.sh"))
	}
	vars := strings.Replace(exampleVars(t, "examples/processsaver/inventory.toml"), `tomcat_home = "/usr/local/tomcat"`, fmt.Sprintf("tomcat_home = %q", home), 1)
	if !strings.Contains(vars, home) {
		t.Fatal("the example inventory no longer sets tomcat_home")
	}
	var s strings.Builder
	fmt.Fprintf(&s, "[defaults]\nuser = \"root\"\nidentity_file = %q\nknown_hosts = %q\n\n%s\n", b.KeyFile, b.KnownHosts, vars)
	for i, h := range b.Hosts {
		fmt.Fprintf(&s, "[hosts.%s]\naddress = %q\nport = %d\nroles = [\"nodes\", %q]\n[hosts.%s.vars]\nipckey = \"0x%d\"\n\n",
			h.Name, h.Address, h.Port, []string{"primary", "secondary"}[i], h.Name, i+1)
	}
	inv := runbooktest.Write(t, "", "inventory.toml", s.String())
	rb := "examples/processsaver/processsaver.toml"
	manual := []string{"--assume-done", "installed", "--assume-done", "add-monitor", "--assume-done", "apply-config"}

	// Chapter 5 first: CLUSTERPRO (here, the test) starts the monitor only
	// once the pfile and the restart script exist.
	for _, step := range []string{"pfile", "restart-script"} {
		out, errOut, code := run(t, "run", rb, "-i", inv, "--only", step)
		if st := statuses(out); code != 0 || st[step+" server-01"] != "changed" || st[step+" server-02"] != "changed" {
			t.Fatalf("--only %s: exit %d\n%s%s", step, code, out, errOut)
		}
	}
	for file, mode := range map[string]os.FileMode{"/var/opt/HA/PS/conf/bin/pfile_tomcat": 0o644, "/var/opt/HA/PS/conf/bin/tomcat_start.sh": 0o755} {
		if uid, m := owner(t, b.Host("server-02").Path(file)); uid != 0 || m != mode {
			t.Errorf("%s: uid %d mode %o", file, uid, m)
		}
	}
	if pfile := readOn(b.Host("server-02"), "/var/opt/HA/PS/conf/bin/pfile_tomcat"); !strings.Contains(pfile, "IPCKEY          0x2\n") {
		t.Errorf("pfile:\n%s", pfile)
	}
	startCluster := func(h *testbed.Host) {
		t.Helper()
		if c := exitOf(t, b, h, "sh", "-c", "/var/opt/HA/PS/conf/bin/tomcat_start.sh && setsid /opt/HA/PS/bin/pcheck -f /var/opt/HA/PS/conf/bin/pfile_tomcat </dev/null >/dev/null 2>&1 &"); c != 0 {
			t.Fatalf("starting Tomcat and pcheck on %s: exit %d", h.Name, c)
		}
	}
	s1, s2 := b.Host("server-01"), b.Host("server-02")
	startCluster(s1)

	args := append([]string{"run", rb, "-i", inv}, manual...)
	out, errOut, code := run(t, args...)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	st := statuses(out)
	if st["show-pent server-01"] != "ok" || st["monitor-up server-01"] != "ok" || st["pfile server-02"] != "ok" {
		t.Errorf("statuses %v", st)
	}
	if _, ran := st["kill-1 server-01"]; ran {
		t.Error("the optional kill test ran without --section")
	}
	rerunChangesNothing(t, args, s2.Path("/var/opt/HA/PS/conf/bin/pfile_tomcat"), s1.Path("/var/opt/HA/PS/conf/bin/tomcat_start.sh"))
	// Plan mode runs the new verify kinds' checks through its read-only gate.
	if out, errOut, code := run(t, "plan", rb, "-i", inv, "--section", "verify"); code != 0 || !strings.Contains(out, ") Up") {
		t.Errorf("plan: exit %d\n%s%s", code, out, errOut)
	}

	// The kill is destructive: unattended and without --yes it is refused,
	// and Tomcat lives on.
	pid := readOn(s1, "/var/lib/tejun-ps/java.pid")
	out, _, code = run(t, "run", rb, "-i", inv, "--section", "retry-over")
	if code == 0 || statuses(out)["kill-1 server-01"] != "refused" || readOn(s1, "/var/lib/tejun-ps/java.pid") != pid {
		t.Fatalf("the kill ran unconfirmed: exit %d\n%s", code, out)
	}

	// 7.1.1.2: three kills restarted, the fourth is the retry-over.
	out, errOut, code = run(t, "run", rb, "-i", inv, "--section", "retry-over", "--yes")
	if code != 0 {
		t.Fatalf("retry-over: exit %d\n%s%s", code, out, errOut)
	}
	st = statuses(out)
	for _, id := range []string{"kill-1", "kill-2", "kill-3", "kill-4"} {
		if st[id+" server-01"] != "changed" {
			t.Errorf("%s: %s", id, st[id+" server-01"])
		}
	}
	for _, id := range []string{"restarted-1", "restart-logged-1", "restarted-3", "restart-logged-3", "retry-over-logged"} {
		if st[id+" server-01"] != "ok" {
			t.Errorf("%s: %s", id, st[id+" server-01"])
		}
	}
	if pent := readOn(s1, "/var/lib/tejun-ps/pent"); !strings.Contains(pent, "restart_count      = 3\n") || !strings.Contains(pent, "monitor_sts        = off") {
		t.Errorf("after the retry-over padmin shows:\n%s", pent)
	}
	// Run again, it cannot pass on the old counts: ProcessSaver has given
	// up, so 7.1.1.1's reading is gone and the kill has no PID to kill.
	if out, _, code := run(t, "run", rb, "-i", inv, "--section", "retry-over", "--yes"); code == 0 {
		t.Errorf("a second retry-over test passed with ProcessSaver stopped:\n%s", out)
	}

	// 7.1.1.3-7.1.2: the cluster (here, the test) fails the group over.
	startCluster(s2)
	for _, sec := range []string{"standby-verify", "standby-test"} {
		out, errOut, code = run(t, "run", rb, "-i", inv, "--section", sec, "--yes")
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s%s", sec, code, out, errOut)
		}
	}
	if st := statuses(out); st["standby-kill server-02"] != "changed" || st["standby-restarted server-02"] != "ok" || st["standby-restart-logged server-02"] != "ok" {
		t.Errorf("standby test: %v", st)
	}
	if _, ran := st["standby-kill server-01"]; ran {
		t.Error("the standby test ran on the active server")
	}
}

// The Garoon runbook over real sshd, every DB and app host reached only
// through the bastion (they live in a network namespace of the test's own).
// Stand-ins replace what a Debian test host lacks: systemctl, getenforce,
// exportfs, ping, route, mount/findmnt for NFS, blkid/fdisk/mkfs for the
// data disk (they keep its state in files: no real disk is touched, and the
// disk's name is one no machine has) and LifeKeeper's lkstart, lcdstatus
// and lkkeyins; the yum/rpm-only installs, the downloads and the GUI and
// console steps are passed as done. Files, lines, modes, fstab, exports,
// services and the disk's state are all checked on the hosts.
func TestRunGaroonThroughBastion(t *testing.T) {
	b := testbed.StartHosts(t, testbed.HostSpec{Name: "bastion", Gateway: true},
		testbed.HostSpec{Name: "db-01", Private: true}, testbed.HostSpec{Name: "db-02", Private: true}, testbed.HostSpec{Name: "app-01", Private: true})
	licence := filepath.Join(t.TempDir(), "lifekeeper.lic")
	os.WriteFile(licence, []byte("LK-LICENCE-distinctive\n"), 0o600)
	vars := exampleVars(t, "examples/lifekeeper-garoon/inventory.toml")
	for old, repl := range map[string]string{
		`lk_licence = "lifekeeper.lic"`: fmt.Sprintf("lk_licence = %q", licence),
		`data_disk = "/dev/xvdb"`:       `data_disk = "/dev/tejun-test-xvdb"`,
		`data_part = "/dev/xvdb1"`:      `data_part = "/dev/tejun-test-xvdb1"`,
	} {
		if !strings.Contains(vars, old) {
			t.Fatalf("the example inventory no longer has %s", old)
		}
		vars = strings.Replace(vars, old, repl, 1)
	}
	var s strings.Builder
	fmt.Fprintf(&s, "[defaults]\nuser = \"root\"\nidentity_file = %q\nknown_hosts = %q\njump = \"bastion\"\n\n%s\n", b.KeyFile, b.KnownHosts, vars)
	for _, h := range b.Hosts {
		fmt.Fprintf(&s, "[hosts.%s]\naddress = %q\nport = %d\n", h.Name, h.Address, h.Port)
		switch h.Name {
		case "bastion":
			s.WriteString("jump = \"none\"\n")
		case "db-01":
			fmt.Fprintf(&s, "roles = [\"db\", \"db-primary\"]\n[hosts.db-01.vars]\ninternal_name = \"ip-db-01.internal\"\nroute_eth1 = \"10.0.14.0/24 via 10.0.12.1\"\n"+
				"eth1_route_dest = \"10.0.14.0\"\neth1_route_gw = \"10.0.12.1\"\npeer_eth1 = \"10.0.14.4\"\n")
		case "db-02":
			fmt.Fprintf(&s, "roles = [\"db\", \"db-backup\"]\n[hosts.db-02.vars]\ninternal_name = \"ip-db-02.internal\"\nroute_eth1 = \"10.0.12.0/24 via 10.0.14.1\"\n"+
				"eth1_route_dest = \"10.0.12.0\"\neth1_route_gw = \"10.0.14.1\"\npeer_eth1 = \"10.0.12.4\"\n")
		default:
			s.WriteString("roles = [\"app\"]\n")
		}
		s.WriteString("\n")
	}
	inv := runbooktest.Write(t, "", "inventory.toml", s.String())

	for _, h := range b.Hosts[1:] {
		for _, tool := range []string{"systemctl", "getenforce", "exportfs", "ping", "mount", "findmnt", "route", "blkid", "fdisk", "mkfs"} {
			h.Install(t, "testdata/stand-ins/"+tool)
		}
		os.MkdirAll(h.Path("/opt/LifeKeeper/bin"), 0o755)
		for _, tool := range []string{"lkstart", "lcdstatus", "lkkeyins"} {
			h.Install(t, "testdata/stand-ins/"+tool)
			os.Rename(h.Path("/usr/local/bin/"+tool), h.Path("/opt/LifeKeeper/bin/"+tool))
		}
		for path, content := range map[string]string{
			"/etc/sysconfig/network-scripts/ifcfg-eth0": "DEVICE=eth0\nBOOTPROTO=dhcp\nONBOOT=yes\n",
			"/etc/selinux/config":                       "SELINUX=enforcing\nSELINUXTYPE=targeted\n",
			"/etc/default/LifeKeeper":                   "NOBCASTPING=0\n",
			"/etc/httpd/conf/httpd.conf":                "ServerRoot \"/etc/httpd\"\nKeepAlive On\n",
			"/var/www/cgi-bin/cbgrn/lwc.ini":            "prop:_host = \"val:127.0.0.1:3770\"\nprop:_port = \"val:3770\"\n",
			"/root/Garoon_single/mk_scripts.sh":         "#!/bin/sh\nmkdir scripts && echo \"Please use the scripts under 'scripts'directory.\"\n",
		} {
			os.MkdirAll(filepath.Dir(h.Path(path)), 0o755)
			os.WriteFile(h.Path(path), []byte(content), 0o755)
		}
		os.MkdirAll(h.Path("/var/www/cgi-bin/cbgrn/sessiondata"), 0o755)
		os.MkdirAll(h.Path("/usr/local/cybozu/mysql-5.0/files"), 0o755)
		os.MkdirAll(h.Path("/var/lib/tejun-systemctl"), 0o755)
		for _, f := range []string{"firewalld.active", "firewalld.enabled", "httpd.active", "httpd.enabled", "network.active"} {
			os.WriteFile(h.Path("/var/lib/tejun-systemctl/"+f), nil, 0o644)
		}
	}
	// The AWS keys are secrets: from files, never on a command line; the
	// secret one holds $ and a quote, which must survive the profile's
	// sourcing as a value.
	const accessKey, secretKey = "AKIA-distinctive-7", "s3cr$t'key-distinctive-9"
	keyDir := t.TempDir()
	os.WriteFile(filepath.Join(keyDir, "access"), []byte(accessKey+"\n"), 0o600)
	os.WriteFile(filepath.Join(keyDir, "secret"), []byte(secretKey+"\n"), 0o600)
	args := []string{"run", "examples/lifekeeper-garoon/garoon.toml", "-i", inv,
		"--secret", "aws_access_key=@" + filepath.Join(keyDir, "access"), "--secret", "aws_secret_key=@" + filepath.Join(keyDir, "secret")}
	for _, done := range []string{
		// by hand: the AWS console, the installers, the GUI
		"route-tables", "security-groups", "route53", "nat-gateway", "alb", "simple-ad", "bastion", "db-instances", "source-dest-check",
		"root-password", "install-lifekeeper", "lk-gui", "comm-path", "ip-resource", "iam-user", "ec2-resource", "datakeeper",
		"garoon-primary", "garoon-backup", "generic-ark", "install-garoon",
		// yum, rpm and the network: not on a Debian test host
		"x11", "kernel", "graphical", "redhat-lsb", "db-packages", "ec2-ark", "java", "ec2-download", "ec2-unzip", "ec2-move",
		"ec2-describe-regions", "nfs-utils", "app-packages", "app-nfs-utils"} {
		args = append(args, "--assume-done", done)
	}
	// The disk steps are destructive: unattended and without --yes, they
	// are refused and the disk is left alone.
	out, _, code := run(t, args...)
	db1, db2, app := b.Host("db-01"), b.Host("db-02"), b.Host("app-01")
	first := statuses(out)
	if code == 0 || first["data-fdisk db-01"] != "refused" || readOn(db1, "/var/lib/tejun-disk/tejun-test-xvdb.pttype") != "" {
		t.Fatalf("the disk was partitioned unconfirmed: exit %d\n%s", code, out)
	}
	for _, key := range []string{"restart-network db-02", "lkstart db-01", "lkkeyins db-02", "hosts-backup db-01"} {
		if first[key] != "changed" {
			t.Errorf("first run: %s: %s, want changed", key, first[key])
		}
	}
	args = append(args, "--yes")
	out, errOut, code := run(t, args...)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, c := range []struct {
		host       *testbed.Host
		path, want string
	}{
		{db1, "/etc/sysconfig/network-scripts/ifcfg-eth1", "DEVICE=eth1\nBOOTPROTO=dhcp\nONBOOT=yes\nDEFROUTE=NO\n"},
		{db1, "/etc/sysconfig/network-scripts/ifcfg-eth0", "DEVICE=eth0\nBOOTPROTO=dhcp\nONBOOT=yes\nDEFROUTE=YES\n"},
		{db1, "/etc/sysconfig/network-scripts/route-eth1", "10.0.14.0/24 via 10.0.12.1\n"},
		{db1, "/etc/default/LifeKeeper", "NOBCASTPING=1\n"},
		{db1, "/etc/exports", "/mnt/DIR1/www/cgi-bin/cbgrn/sessiondata 10.0.2.0/24(rw) 10.0.5.0/24(rw)\n/mnt/DIR1/cybozu/mysql-5.0/files 10.0.2.0/24(rw) 10.0.5.0/24(rw)\n"},
		{db2, "/var/lib/tejun-lk/licence", "LK-LICENCE-distinctive\n"},
		{db2, "/var/lib/tejun-disk/tejun-test-xvdb.pttype", "dos\n"},
		{db2, "/var/lib/tejun-disk/tejun-test-xvdb1.type", "xfs\n"},
		{app, "/etc/httpd/conf/httpd.conf", "ServerRoot \"/etc/httpd\"\nKeepAlive Off\n"},
		{app, "/var/www/cgi-bin/cbgrn/lwc.ini", "prop:_host = \"val:10.1.0.10:3770\"\nprop:_port = \"val:3770\"\n"},
		{app, "/etc/selinux/config", "SELINUX=disabled\nSELINUXTYPE=targeted\n"},
	} {
		if got := readOn(c.host, c.path); got != c.want {
			t.Errorf("%s:%s = %q, want %q", c.host.Name, c.path, got, c.want)
		}
	}
	if _, mode := owner(t, db2.Path("/root/lifekeeper.lic")); mode != 0o600 {
		t.Errorf("licence file mode %o, want 600", mode)
	}
	if p := readOn(db1, "/root/.bash_profile"); !strings.Contains(p, "export EC2_HOME=/opt/aws\n") || !strings.Contains(p, "export EC2_REGION=\"ap-northeast-1\"\n") {
		t.Errorf(".bash_profile:\n%s", p)
	}
	if _, mode := owner(t, db1.Path("/root/.ec2-api-keys")); mode != 0o600 {
		t.Errorf("keys file mode %o, want 600", mode)
	}
	if !strings.Contains(readOn(db1, "/root/.bash_profile"), "\n. /root/.ec2-api-keys\n") {
		t.Errorf("~/.bash_profile does not source the keys:\n%s", readOn(db1, "/root/.bash_profile"))
	}
	if err := exec.Command("sh", "-c", `. "$0" && [ "$AWS_ACCESS_KEY" = "$1" ] && [ "$AWS_SECRET_KEY" = "$2" ]`, db1.Path("/root/.ec2-api-keys"), accessKey, secretKey).Run(); err != nil {
		t.Errorf("sourcing the keys file does not give the keys (%v):\n%s", err, readOn(db1, "/root/.ec2-api-keys"))
	}
	if strings.Contains(out+errOut, "distinctive") {
		t.Error("a secret key appears in the run's output")
	}
	if _, err := os.Stat(db1.Path("/mnt/DIR1")); err != nil {
		t.Error("no mount point /mnt/DIR1")
	}
	if _, err := os.Stat(db2.Path("/root/Garoon_single/scripts")); err != nil {
		t.Error("mk_scripts.sh did not run")
	}
	hosts := readOn(db1, "/etc/hosts")
	if !strings.Contains(hosts, db1.Address+" ip-db-01.internal\n") || !strings.Contains(hosts, db2.Address+" ip-db-02.internal\n") {
		t.Errorf("/etc/hosts:\n%s", hosts)
	}
	fstab := readOn(app, "/etc/fstab")
	for _, line := range []string{"10.1.0.10:/mnt/DIR1/www/cgi-bin/cbgrn/sessiondata /var/www/cgi-bin/cbgrn/sessiondata nfs intr,noac 0 0",
		"10.1.0.10:/mnt/DIR1/cybozu/mysql-5.0/files /usr/local/cybozu/mysql-5.0/files nfs intr 0 0"} {
		if strings.Count(fstab, line+"\n") != 1 {
			t.Errorf("fstab lacks %q:\n%s", line, fstab)
		}
	}
	if _, mode := owner(t, app.Path("/var/www/cgi-bin/cbgrn/sessiondata")); mode != 0 {
		t.Errorf("sessiondata mode %o, want 000", mode)
	}
	for _, c := range []struct {
		host   *testbed.Host
		unit   string
		active bool
	}{{app, "firewalld", false}, {app, "httpd", true}, {app, "rpcbind", true}, {app, "cyss_cbgrn", false}, {db1, "httpd", false}, {db2, "nfs-server", true}} {
		if _, err := os.Stat(c.host.Path("/var/lib/tejun-systemctl/" + c.unit + ".active")); (err == nil) != c.active {
			t.Errorf("%s %s active = %v, want %v", c.host.Name, c.unit, err == nil, c.active)
		}
	}
	st := statuses(out)
	for key, want := range map[string]string{"exportfs db-01": "ok", "reboot db-01": "ok", "route-n db-02": "ok",
		"data-fdisk db-01": "changed", "data-mkfs db-02": "changed", "mk-scripts db-01": "changed"} {
		if st[key] != want {
			t.Errorf("%s: %s, want %s", key, st[key], want)
		}
	}
	rerunChangesNothing(t, args, db1.Path("/etc/exports"), db1.Path("/etc/hosts"), app.Path("/etc/fstab"), app.Path("/var/www/cgi-bin/cbgrn/lwc.ini"),
		db1.Path("/var/lib/tejun-disk/tejun-test-xvdb1.type"), db2.Path("/root/.bash_profile"))

	// A disk that already carries a filesystem is refused, even with --yes.
	os.Remove(db2.Path("/var/lib/tejun-disk/tejun-test-xvdb.pttype"))
	os.Remove(db2.Path("/var/lib/tejun-disk/tejun-test-xvdb1.part"))
	os.WriteFile(db2.Path("/var/lib/tejun-disk/tejun-test-xvdb.type"), []byte("ext4\n"), 0o644)
	out, _, code = run(t, append(args[:8:8], "--only", "data-fdisk", "--limit", "db-02", "--yes")...)
	if code == 0 || statuses(out)["data-fdisk db-02"] != "failed" || !strings.Contains(out, "refusing") ||
		readOn(db2, "/var/lib/tejun-disk/tejun-test-xvdb.pttype") != "" {
		t.Errorf("a disk with a filesystem was partitioned: exit %d\n%s", code, out)
	}

	// The failover test: the primary's network stops (here the systemctl
	// stand-in, so the test can still reach it), LifeKeeper (here, the
	// test) brings the resources up on the backup.
	os.MkdirAll(db2.Path("/var/lib/tejun-lk"), 0o755)
	os.WriteFile(db2.Path("/var/lib/tejun-lk/resources"), []byte("db-02     ip-10.1.0.10        IP-10.1.0.10      ISP       10    db-01\n"), 0o644)
	fo := append(args[:8:8], "--section", "failover-test", "--assume-done", "failover-check")
	if out, _, code := run(t, fo...); code == 0 || statuses(out)["stop-network db-01"] != "refused" {
		t.Errorf("the network was stopped unconfirmed: exit %d\n%s", code, out)
	}
	out, errOut, code = run(t, append(fo, "--yes")...)
	if st := statuses(out); code != 0 || st["stop-network db-01"] != "changed" || st["backup-in-service db-02"] != "ok" {
		t.Errorf("failover test: exit %d\n%s%s", code, out, errOut)
	}
	if _, err := os.Stat(db1.Path("/var/lib/tejun-systemctl/network.active")); err == nil {
		t.Error("the primary's network is still up")
	}
}

// The Garoon runbook names the DB servers by role, so it works whatever
// the hosts are called.
func TestGaroonAnyHostNames(t *testing.T) {
	src, err := os.ReadFile("examples/lifekeeper-garoon/inventory.toml")
	if err != nil {
		t.Fatal(err)
	}
	renamed := strings.NewReplacer("hosts.db-01", "hosts.pri-db", "hosts.db-02", "hosts.sec-db").Replace(string(src))
	inv := runbooktest.Write(t, "", "inventory.toml", renamed)
	out, errOut, code := run(t, "dry-run", "examples/lifekeeper-garoon/garoon.toml", "-i", inv)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, line := range []string{"10.0.3.4 ip-10-0-3-4.ap-northeast-1.compute.internal", "10.0.6.4 ip-10-0-6-4.ap-northeast-1.compute.internal", "[pri-db, sec-db]"} {
		if !strings.Contains(out, line) {
			t.Errorf("the dry-run lacks %q", line)
		}
	}
}
