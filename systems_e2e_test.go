package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tejun/transport"
	"tejun/transport/testbed"
)

// The end-to-end tests of the three other systems' runbooks (ProcessSaver,
// CLUSTERPRO, LifeKeeper/Garoon) on the real-sshd test-bed. Their products
// are proprietary, so testdata/stand-ins/ replaces each command a Debian
// test host lacks; each stand-in says what it does and does not do.

// exitOf runs argv on a test-bed host over SSH and returns its exit status.
func exitOf(t *testing.T, b *testbed.Bed, h *testbed.Host, argv ...string) int {
	t.Helper()
	c, err := transport.DialSSH(context.Background(), transport.SSHConfig{Name: h.Name, Address: h.Address, Port: h.Port, User: "root",
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

func TestRunProcessSaver(t *testing.T) {
	b := testbed.Start(t, "server-01", "server-02")
	for _, h := range b.Hosts {
		os.MkdirAll(h.Path("/var/opt/HA/PS/conf/bin"), 0o755)
		os.MkdirAll(h.Path("/opt/HA/PS/bin"), 0o755)
		data, _ := os.ReadFile("testdata/stand-ins/padmin")
		os.WriteFile(h.Path("/opt/HA/PS/bin/padmin"), data, 0o755)
	}
	inv := inventoryFor(t, b, "", map[string]map[string]string{"server-01": {"ipckey": "0x1"}, "server-02": {"ipckey": "0x2"}})
	src, _ := os.ReadFile(inv)
	varsBlock := exampleVars(t, "examples/processsaver/inventory.toml")
	s := strings.Replace(string(src), "roles = [\"nodes\"]\n[hosts.server-01.vars]", "roles = [\"nodes\", \"primary\"]\n[hosts.server-01.vars]", 1)
	os.WriteFile(inv, []byte(varsBlock+"\n"+s), 0o644)

	args := []string{"run", "examples/processsaver/processsaver.toml", "-i", inv,
		"--assume-done", "installed", "--assume-done", "add-monitor", "--assume-done", "apply-config"}
	out, errOut, code := run(t, args...)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	st := statuses(out)
	if st["pfile server-02"] != "changed" || st["restart-script server-01"] != "changed" || st["show-pent server-01"] != "ok" {
		t.Errorf("statuses %v", st)
	}
	if _, ran := st["kill-tomcat server-01"]; ran {
		t.Error("the optional kill test ran without --section")
	}
	for file, mode := range map[string]os.FileMode{"/var/opt/HA/PS/conf/bin/pfile_tomcat": 0o644, "/var/opt/HA/PS/conf/bin/tomcat_start.sh": 0o755} {
		if uid, m := owner(t, b.Host("server-02").Path(file)); uid != 0 || m != mode {
			t.Errorf("%s: uid %d mode %o", file, uid, m)
		}
	}
	pfile, _ := os.ReadFile(b.Host("server-02").Path("/var/opt/HA/PS/conf/bin/pfile_tomcat"))
	if !strings.Contains(string(pfile), "IPCKEY          0x2\n") {
		t.Errorf("pfile:\n%s", pfile)
	}
	rerunChangesNothing(t, args, b.Host("server-02").Path("/var/opt/HA/PS/conf/bin/pfile_tomcat"))
}

// The Garoon runbook over real sshd, every DB and app host reached only
// through the bastion (they live in a network namespace of the test's own).
// Stand-ins replace what a Debian test host lacks: systemctl, getenforce,
// exportfs, ping, and mount/findmnt for NFS; the yum-only installs and the
// GUI and console steps are passed as done. Files, lines, modes, fstab,
// exports and services are all checked on the hosts.
func TestRunGaroonThroughBastion(t *testing.T) {
	b := testbed.StartHosts(t, testbed.HostSpec{Name: "bastion", Gateway: true},
		testbed.HostSpec{Name: "db-01", Private: true}, testbed.HostSpec{Name: "db-02", Private: true}, testbed.HostSpec{Name: "app-01", Private: true})
	vars := exampleVars(t, "examples/lifekeeper-garoon/inventory.toml")
	var s strings.Builder
	fmt.Fprintf(&s, "[defaults]\nuser = \"root\"\nidentity_file = %q\nknown_hosts = %q\njump = \"bastion\"\n\n%s\n", b.KeyFile, b.KnownHosts, vars)
	for _, h := range b.Hosts {
		fmt.Fprintf(&s, "[hosts.%s]\naddress = %q\nport = %d\n", h.Name, h.Address, h.Port)
		switch h.Name {
		case "bastion":
			s.WriteString("jump = \"none\"\n")
		case "db-01", "db-02":
			peer := map[string]string{"db-01": "10.0.14.4", "db-02": "10.0.12.4"}[h.Name]
			route := map[string]string{"db-01": "10.0.14.0/24 via 10.0.12.1", "db-02": "10.0.12.0/24 via 10.0.14.1"}[h.Name]
			fmt.Fprintf(&s, "roles = [\"db\"]\n[hosts.%s.vars]\ninternal_name = \"ip-%s.internal\"\nroute_eth1 = %q\npeer_eth1 = %q\n", h.Name, h.Name, route, peer)
		default:
			s.WriteString("roles = [\"app\"]\n")
		}
		s.WriteString("\n")
	}
	inv := filepath.Join(t.TempDir(), "inventory.toml")
	os.WriteFile(inv, []byte(s.String()), 0o644)

	for _, h := range b.Hosts[1:] {
		for _, tool := range []string{"systemctl", "getenforce", "exportfs", "ping", "mount", "findmnt"} {
			h.Install(t, "testdata/stand-ins/"+tool)
		}
		for path, content := range map[string]string{
			"/etc/sysconfig/network-scripts/ifcfg-eth0": "DEVICE=eth0\nBOOTPROTO=dhcp\nONBOOT=yes\n",
			"/etc/selinux/config":                       "SELINUX=enforcing\nSELINUXTYPE=targeted\n",
			"/etc/default/LifeKeeper":                   "NOBCASTPING=0\n",
			"/etc/httpd/conf/httpd.conf":                "ServerRoot \"/etc/httpd\"\nKeepAlive On\n",
			"/var/www/cgi-bin/cbgrn/lwc.ini":            "prop:_host = \"val:127.0.0.1:3770\"\nprop:_port = \"val:3770\"\n",
		} {
			os.MkdirAll(filepath.Dir(h.Path(path)), 0o755)
			os.WriteFile(h.Path(path), []byte(content), 0o644)
		}
		os.MkdirAll(h.Path("/var/www/cgi-bin/cbgrn/sessiondata"), 0o755)
		os.MkdirAll(h.Path("/usr/local/cybozu/mysql-5.0/files"), 0o755)
		os.WriteFile(h.Path("/var/lib/tejun-systemctl/firewalld.active"), nil, 0o644)
		os.MkdirAll(h.Path("/var/lib/tejun-systemctl"), 0o755)
		os.WriteFile(h.Path("/var/lib/tejun-systemctl/firewalld.active"), nil, 0o644)
		os.WriteFile(h.Path("/var/lib/tejun-systemctl/firewalld.enabled"), nil, 0o644)
	}
	args := []string{"run", "examples/lifekeeper-garoon/garoon.toml", "-i", inv}
	for _, done := range []string{"aws-console", "x11", "kernel", "graphical", "redhat-lsb", "root-password", "db-packages",
		"install-lifekeeper", "java", "lifekeeper-gui", "nfs-utils", "app-packages", "install-garoon", "app-nfs-utils"} {
		args = append(args, "--assume-done", done)
	}
	out, errOut, code := run(t, args...)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	db1, app := b.Host("db-01"), b.Host("app-01")
	read := func(h *testbed.Host, p string) string { d, _ := os.ReadFile(h.Path(p)); return string(d) }
	for _, c := range []struct {
		host       *testbed.Host
		path, want string
	}{
		{db1, "/etc/sysconfig/network-scripts/ifcfg-eth1", "DEVICE=eth1\nBOOTPROTO=dhcp\nONBOOT=yes\nDEFROUTE=NO\n"},
		{db1, "/etc/sysconfig/network-scripts/ifcfg-eth0", "DEVICE=eth0\nBOOTPROTO=dhcp\nONBOOT=yes\nDEFROUTE=YES\n"},
		{db1, "/etc/sysconfig/network-scripts/route-eth1", "10.0.14.0/24 via 10.0.12.1\n"},
		{db1, "/etc/default/LifeKeeper", "NOBCASTPING=1\n"},
		{db1, "/etc/exports", "/mnt/DIR1/www/cgi-bin/cbgrn/sessiondata 10.0.2.0/24(rw) 10.0.5.0/24(rw)\n/mnt/DIR1/cybozu/mysql-5.0/files 10.0.2.0/24(rw) 10.0.5.0/24(rw)\n"},
		{app, "/etc/httpd/conf/httpd.conf", "ServerRoot \"/etc/httpd\"\nKeepAlive Off\n"},
		{app, "/var/www/cgi-bin/cbgrn/lwc.ini", "prop:_host = \"val:10.1.0.10:3770\"\nprop:_port = \"val:3770\"\n"},
		{app, "/etc/selinux/config", "SELINUX=disabled\nSELINUXTYPE=targeted\n"},
	} {
		if got := read(c.host, c.path); got != c.want {
			t.Errorf("%s:%s = %q, want %q", c.host.Name, c.path, got, c.want)
		}
	}
	hosts := read(db1, "/etc/hosts")
	if !strings.Contains(hosts, b.Host("db-01").Address+" ip-db-01.internal\n") || !strings.Contains(hosts, b.Host("db-02").Address+" ip-db-02.internal\n") {
		t.Errorf("/etc/hosts:\n%s", hosts)
	}
	fstab := read(app, "/etc/fstab")
	for _, line := range []string{"10.1.0.10:/mnt/DIR1/www/cgi-bin/cbgrn/sessiondata /var/www/cgi-bin/cbgrn/sessiondata nfs intr,noac 0 0",
		"10.1.0.10:/mnt/DIR1/cybozu/mysql-5.0/files /usr/local/cybozu/mysql-5.0/files nfs intr 0 0"} {
		if strings.Count(fstab, line+"\n") != 1 {
			t.Errorf("fstab lacks %q:\n%s", line, fstab)
		}
	}
	if _, mode := owner(t, app.Path("/var/www/cgi-bin/cbgrn/sessiondata")); mode != 0 {
		t.Errorf("sessiondata mode %o, want 000", mode)
	}
	for unit, active := range map[string]bool{"firewalld": false, "httpd": true, "rpcbind": true, "cyss_cbgrn": false} {
		if _, err := os.Stat(app.Path("/var/lib/tejun-systemctl/" + unit + ".active")); (err == nil) != active {
			t.Errorf("app-01 %s active = %v, want %v", unit, err == nil, active)
		}
	}
	if st := statuses(out); st["restart-network db-02"] != "changed" || st["exportfs db-01"] != "ok" || st["reboot db-01"] != "ok" {
		t.Errorf("statuses: %v", st)
	}

	rerunChangesNothing(t, args, db1.Path("/etc/exports"), db1.Path("/etc/hosts"), app.Path("/etc/fstab"), app.Path("/var/www/cgi-bin/cbgrn/lwc.ini"))
}
