package runbook_test

import (
	"reflect"
	"strings"
	"testing"

	"tejun/runbook"
	"tejun/runbook/runbooktest"
	"tejun/steps"
)

// registry is every kind the CLI parses with.
func registry() *steps.Registry { return steps.NewRegistry(runbooktest.Kinds()...) }

const twoNodes = `
[vars]
os_user = "perforce"
[hosts.n1]
address = "127.0.0.11"
roles = ["nodes"]
[hosts.n1.vars]
root = "/p4/one"
[hosts.n2]
address = "127.0.0.12"
roles = ["nodes"]
[hosts.n2.vars]
root = "/p4/two"
[hosts.solo]
address = "127.0.0.13"
roles = ["single"]
[hosts.solo.vars]
root = "/solo"
`

// bind binds rbSrc to twoNodes, failing the test at the first problem.
func bind(t *testing.T, rbSrc string) *runbook.Binding {
	t.Helper()
	return runbooktest.Bind(t, rbSrc, twoNodes, runbooktest.Kinds()...)
}

// tryBind binds rbSrc to twoNodes and returns every problem, as tejun
// check reports them.
func tryBind(t *testing.T, rbSrc string) (*runbook.Binding, error) {
	t.Helper()
	return runbooktest.TryBind(t, rbSrc, twoNodes, runbooktest.Kinds()...)
}

func TestNeedsDefaultToPreviousStep(t *testing.T) {
	rb := bind(t, `
[runbook]
name = "n"
[[section]]
id = "s1"
on = "solo"
title.en = "one"
[[section.step]]
id = "a"
kind = "command"
title.en = "a"
argv = ["true"]
[[section.step]]
id = "b"
kind = "command"
title.en = "b"
argv = ["true"]
[[section]]
id = "s2"
on = "solo"
title.en = "two"
[[section.step]]
id = "c"
kind = "command"
title.en = "c"
argv = ["true"]
[[section.step]]
id = "d"
kind = "command"
title.en = "d starts a chain of its own"
needs = []
argv = ["true"]
[[section.step]]
id = "e"
kind = "command"
title.en = "e"
needs = ["a", "d"]
argv = ["true"]
`).Runbook
	want := map[string][]string{"a": nil, "b": {"a"}, "c": {"b"}, "d": nil, "e": {"a", "d"}}
	for id, needs := range want {
		if got := rb.Graph.Needs(id); !reflect.DeepEqual(got, needs) {
			t.Errorf("%s needs %v, want %v", id, got, needs)
		}
	}
	if got := rb.Step("c").Label(); got != "2-①" {
		t.Errorf("label of c = %s", got)
	}
}

func TestTemplatesPerHost(t *testing.T) {
	b := bind(t, `
[runbook]
name = "t"
[vars]
data = "{{ host.root }}/data"
[[section]]
id = "s"
on = "nodes"
title.en = "on both nodes"
[[section.step]]
id = "mk"
kind = "directory"
title.en = "make {{ vars.data }}"
path = "{{ vars.data }}"
owner = "{{ vars.os_user }}"
[[section.step]]
id = "ckp"
kind = "p4.checkpoint"
on = "single"
title.en = "checkpoint"
prefix = "ckp"
root = "{{ roles.single.root }}"
[[section.step]]
id = "mv"
kind = "move"
title.en = "move {{ steps.ckp.file }}"
src = "{{ steps.ckp.path }}"
dst = "{{ host.root }}/"
`)
	ins := b.Instances["mk"]
	if len(ins) != 2 {
		t.Fatalf("mk runs on %d hosts, want 2", len(ins))
	}
	for i, want := range []string{"/p4/one/data", "/p4/two/data"} {
		d := ins[i].Impl.(*steps.Directory)
		if d.Path != want || d.Owner != "perforce" || ins[i].Title.EN != "make "+want {
			t.Errorf("host %s: path %q owner %q title %q", ins[i].Host.Name, d.Path, d.Owner, ins[i].Title.EN)
		}
	}
	mv := b.Instances["mv"][1].Impl.(*steps.Move)
	if mv.Src != "/solo/ckp.ckp.N" || mv.Dst != "/p4/two/" {
		t.Errorf("move on n2: %+v", mv)
	}
	// At run time the executor binds again with the real outputs.
	in, err := b.Instantiate(b.Runbook.Step("mv"), b.Inventory.Host("n1"), runbook.Outputs{"ckp": {"path": "/solo/ckp.ckp.7", "file": "ckp.ckp.7"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := in.Impl.(*steps.Move).Src; got != "/solo/ckp.ckp.7" {
		t.Errorf("with real outputs, src = %q", got)
	}
}

func TestDestructive(t *testing.T) {
	rb := bind(t, `
[runbook]
name = "d"
[[section]]
id = "s"
on = "solo"
title.en = "s"
[[section.step]]
id = "rm"
kind = "remove"
title.en = "rm"
dir = "/solo"
paths = ["db.*"]
[[section.step]]
id = "reboot"
kind = "command"
title.en = "reboot"
argv = ["reboot"]
destructive = true
[[section.step]]
id = "ls"
kind = "command"
title.en = "ls"
argv = ["ls"]
`).Runbook
	for id, want := range map[string]bool{"rm": true, "reboot": true, "ls": false} {
		if got := rb.Step(id).Destructive; got != want {
			t.Errorf("%s destructive = %v, want %v", id, got, want)
		}
	}
	_, err := runbook.Parse("rb.toml", []byte(`
[runbook]
name = "d"
[[section]]
id = "s"
on = "solo"
title.en = "s"
[[section.step]]
id = "rm"
kind = "remove"
title.en = "rm"
dir = "/solo"
paths = ["db.*"]
destructive = false
`), registry())
	if err == nil || !strings.Contains(err.Error(), "cannot be declared not destructive") {
		t.Fatalf("a remove step declared harmless was accepted: %v", err)
	}
}

func TestNumbering(t *testing.T) {
	for n, want := range map[int]string{1: "①", 9: "⑨", 20: "⑳", 21: "㉑", 35: "㉟", 36: "㊱", 50: "㊿", 51: "(51)"} {
		if got := runbook.Circled(n); got != want {
			t.Errorf("Circled(%d) = %s, want %s", n, got, want)
		}
	}
	if got := runbook.Fullwidth(12); got != "１２．" {
		t.Errorf("Fullwidth(12) = %s", got)
	}
}

func TestShellQuoteFilter(t *testing.T) {
	b := bind(t, `
[runbook]
name = "q"
[vars]
home = "/opt/my app; $(reboot)"
[[section]]
id = "s"
on = "solo"
title.en = "s"
[[section.step]]
id = "f"
kind = "file"
title.en = "f"
path = "/tmp/start.sh"
content = "cd {{ vars.home | sh }} && ./run\n"
`)
	if got := b.Instances["f"][0].Impl.(*steps.File).Content; got != "cd '/opt/my app; $(reboot)' && ./run\n" {
		t.Errorf("content = %q", got)
	}
}

// A section for roles no host has binds to nothing, and says so; one that
// follows the drills is chosen with them; with is checked.
func TestSectionWithAndIfNoHosts(t *testing.T) {
	b := bind(t, `
[runbook]
name = "n"
[[section]]
id = "drill"
title.en = "drill"
on = "solo"
optional = true
[[section.step]]
id = "a"
kind = "command"
title.en = "a"
argv = ["true"]
[[section]]
id = "after"
title.en = "after"
on = "replica,edge"
optional = true
with = ["drill"]
if_no_hosts = { en = "no replica: nothing to do" }
[[section.step]]
id = "b"
kind = "command"
title.en = "b"
argv = ["test", "-d", "{{ host.root }}"]
`)
	rb := b.Runbook
	after := rb.Sections[1]
	if !after.Chosen("drill") || !after.Chosen("after") || after.Chosen("other") {
		t.Errorf("with: chosen for drill %v, after %v, other %v", after.Chosen("drill"), after.Chosen("after"), after.Chosen("other"))
	}
	if len(b.Instances["b"]) != 0 {
		t.Errorf("a step for roles no host has has instances: %v", b.Instances["b"])
	}
	_, err := runbook.Parse("rb.toml", []byte(`
[runbook]
name = "n"
[[section]]
id = "s"
title.en = "s"
on = "solo"
optional = true
with = ["nosuch"]
[[section.step]]
id = "a"
kind = "command"
title.en = "a"
argv = ["true"]
`), registry())
	if err == nil || !strings.Contains(err.Error(), `with "nosuch" is not a section`) {
		t.Errorf("with naming no section: %v", err)
	}
	// Without if_no_hosts a missing role is still an error.
	if _, err := tryBind(t, `
[runbook]
name = "n"
[[section]]
id = "s"
title.en = "s"
on = "replica"
[[section.step]]
id = "a"
kind = "command"
title.en = "a"
argv = ["true"]
`); err == nil {
		t.Error("a section for a role no host has binds without if_no_hosts")
	}
}

// A sub-step is numbered under the step before it and leaves the
// manual's numbers of the steps after it alone; it cannot open a section.
func TestSubStepNumbering(t *testing.T) {
	step := func(id string, sub bool) string {
		s := "[[section.step]]\nid = \"" + id + "\"\nkind = \"command\"\ntitle.en = \"" + id + "\"\nargv = [\"true\"]\n"
		if sub {
			s += "sub = true\n"
		}
		return s
	}
	head := "[runbook]\nname = \"s\"\n[[section]]\nid = \"s\"\non = \"nodes\"\ntitle.en = \"s\"\n"
	rb := bind(t, head+step("a", false)+step("a1", true)+step("a2", true)+step("b", false)+step("b1", true)).Runbook
	want := map[string]string{"a": "1-①", "a1": "1-①-1", "a2": "1-①-2", "b": "1-②", "b1": "1-②-1"}
	for id, label := range want {
		if got := rb.Step(id).Label(); got != label {
			t.Errorf("step %s: label %s, want %s", id, got, label)
		}
	}
	if _, err := runbook.Parse("rb.toml", []byte(head+step("a", true)), registry()); err == nil || !strings.Contains(err.Error(), "section's first") {
		t.Errorf("a sub-step opening a section: %v", err)
	}
}
