package main

import (
	"context"
	"fmt"
	"os"
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
