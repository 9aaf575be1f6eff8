package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tejun/runbook/app"
	"tejun/transport/testbed"
)

// stillRunning reports whether a process whose argv is exactly words runs
// anywhere on this machine (test-bed hosts share its process table).
func stillRunning(words ...string) bool {
	want := strings.Join(words, "\x00") + "\x00"
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		if data, _ := os.ReadFile(p); string(data) == want {
			return true
		}
	}
	return false
}

// Under become, a step's timeout must stop the command it ran as root, not
// only the login user's session: sudo's child is out of the login user's
// reach, so the kill has to go through sudo as well.
func TestTimeoutKillsBecomeCommand(t *testing.T) {
	b := testbed.Start(t, "n1")
	inv := inventoryFor(t, b, "", nil)
	src, _ := os.ReadFile(inv)
	os.WriteFile(inv, []byte(strings.Replace(string(src), `user = "root"`, "user = \"ops\"\nbecome = \"root\"", 1)), 0o644)
	rb := writeRunbook(t, `
[runbook]
name = "become-timeout"
[[section]]
id = "s"
on = "n1"
title.en = "s"
[[section.step]]
id = "long"
kind = "command"
title.en = "long"
timeout = "2s"
shell = "trap '' TERM; id -u > /tmp/uid; exec sleep 4713"
`)
	out, _, code := run(t, "run", rb, "-i", inv)
	if code != app.ExitFailed {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if uid, _ := os.ReadFile(b.Hosts[0].Path("/tmp/uid")); strings.TrimSpace(string(uid)) != "0" {
		t.Fatalf("the step did not run as root: uid %q\n%s", uid, out)
	}
	waitFor(t, "the timed-out command to stop", func() bool { return !stillRunning("sleep", "4713") })
}

// A step whose timeout expires while the host is still being dialled must
// not leave the host unreachable for the steps after it.
func TestTimeoutDoesNotPoisonConnection(t *testing.T) {
	b := testbed.Start(t, "n1")
	inv := inventoryFor(t, b, "", nil)
	rb := writeRunbook(t, `
[runbook]
name = "poison"
[[section]]
id = "s"
on = "n1"
title.en = "s"
[[section.step]]
id = "hasty"
kind = "command"
title.en = "hasty"
timeout = "1ns"
argv = ["touch", "/tmp/hasty"]
unless = ["test", "-e", "/tmp/hasty"]
[[section.step]]
id = "after"
kind = "command"
title.en = "after"
argv = ["touch", "/tmp/after"]
unless = ["test", "-e", "/tmp/after"]
`)
	out, _, _ := run(t, "plan", rb, "-i", inv, "--lang", "en")
	after := ""
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, " after ") {
			after = l
		}
	}
	if !strings.Contains(after, "will change") {
		t.Fatalf("a timed-out first step poisoned the connection:\n%s", out)
	}
}
