package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"tejun/runbook"
	"tejun/runbook/cli"
	"tejun/runbook/runbooktest"
	"tejun/transport/testbed"
)

// TestVersion builds the real binary in this checkout: tejun version and
// tejun --version print the same line, with the commit git is at.
func TestVersion(t *testing.T) {
	bin := tejunBinary(t)
	var lines []string
	for _, args := range [][]string{{"version"}, {"--version"}, {"-v"}} {
		out, err := exec.Command(bin, args...).Output()
		if err != nil {
			t.Fatalf("tejun %s: %v", args, err)
		}
		lines = append(lines, string(out))
	}
	if lines[0] != lines[1] || lines[0] != lines[2] {
		t.Errorf("version, --version and -v differ: %q", lines)
	}
	if !regexp.MustCompile(`^tejun version \S+ \(commit [^)]+\) go1\.\S+ \w+/\w+\n$`).MatchString(lines[0]) {
		t.Errorf("version line %q", lines[0])
	}
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skip("not a git checkout: the commit cannot be compared")
	}
	if want := "commit " + strings.TrimSpace(string(head))[:12]; !strings.Contains(lines[0], want) {
		t.Errorf("version %q does not name %s", lines[0], want)
	}
}

// TestRunNeedsRunbook: run and plan never fall back on the bundled
// examples (their addresses are the manual's, not the user's); dry-run,
// which contacts nothing, still does. A runbook of optional sections only
// says which to choose instead of checking nothing; hosts needs -i.
// Each is a usage error: exit 2, nothing on stdout, the message pinned.
func TestRunNeedsRunbook(t *testing.T) {
	for name, args := range map[string][]string{
		"run_no_runbook":       {"run"},
		"run_yes_no_runbook":   {"run", "--yes", "--lang", "en"},
		"plan_no_runbook":      {"plan"},
		"run_optional_only":    {"run", "examples/perforce-ha/failover.toml", "-y"},
		"plan_optional_only":   {"plan", "examples/perforce-ha/failover.toml"},
		"run_only_in_optional": {"run", "examples/perforce-ha/failover.toml", "--only", "failover"},
		"no_such_section":      {"plan", "examples/perforce-ha/failover.toml", "--section", "master-dwn"},
		"hosts_no_inventory":   {"hosts"},
		"hosts_argument":       {"hosts", "inv.toml"},
		"mistyped_command":     {"plna", "x.toml"},
		"mistyped_flag":        {"run", "x.toml", "--lmit", "db"},
		"mistyped_flag_after":  {"run", "x.toml", "-y", "--forse-unlock"},
		"mistyped_global_flag": {"--ssh-confg", "x", "plan", "x.toml"},
		"mistyped_short_flag":  {"hosts", "-j", "x"},
	} {
		t.Run(name, func(t *testing.T) {
			out, errOut, code := run(t, args...)
			if code != cli.ExitInvalid {
				t.Errorf("exit %d, want %d", code, cli.ExitInvalid)
			}
			if out != "" {
				t.Errorf("printed to stdout on a usage error: %q", out)
			}
			golden(t, errOut)
		})
	}
	out, errOut, code := run(t, "run", "--dry-run", "--lang", "en")
	if code != 0 || !strings.Contains(out, "standby server") {
		t.Errorf("run --dry-run without a runbook: exit %d, %s%s", code, out, errOut)
	}
}

// TestGraphInventory: graph takes -i as the other commands do, and then
// names the hosts each step runs on.
func TestGraphInventory(t *testing.T) {
	out, errOut, code := run(t, "graph", "testdata/multi-host.toml", "-i", "testdata/multi-host-inventory.toml")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden(t, out)
}

// localPlanBed is a runbook on three sshd hosts h1, h2, h3 (the role
// nodes), where /srv/d exists on h1 and h2, not on h3. It returns the
// runbook, the inventory, and the inventory's directory.
func localPlanBed(t *testing.T) (string, string, string) {
	t.Helper()
	b := testbed.Start(t, "h1", "h2", "h3")
	for _, h := range b.Hosts[:2] {
		if err := os.MkdirAll(h.Path("/srv/d"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// h1's configuration differs by two lines: the plan shows the diff.
	os.WriteFile(b.Hosts[0].Path("/srv/d/app.conf"), []byte("mode = a|b\nport = 1\nname = *old*\n"), 0o644)
	invPath := inventoryFor(t, b, "", map[string]map[string]string{"h1": {"dir": "/srv/d"}, "h2": {"dir": "/srv/d"}, "h3": {"dir": "/srv/d"}})
	dir := filepath.Dir(invPath)
	rb := runbooktest.Write(t, "", "runbook.toml", `
[runbook]
name = "plan-order"
title.en = "Plan | order"
title.ja = "計画の順序"
[[section]]
id = "s"
on = "nodes"
title.en = "Directories"
title.ja = "ディレクトリ"
[[section.step]]
id = "dir"
kind = "directory"
title.en = "the node's directory"
title.ja = "ノードのディレクトリ"
path = "{{ host.dir }}"
[[section.step]]
id = "marker"
kind = "command"
title.en = "a marker | with a pipe"
title.ja = "目印"
argv = ["touch", "{{ host.dir }}/marker"]
unless = ["test", "-e", "{{ host.dir }}/marker"]
[[section.step]]
id = "conf"
kind = "file"
title.en = "the | configuration"
title.ja = "設定ファイル"
path = "{{ host.dir }}/app.conf"
mode = "0644"
content = """
mode = a|b
port = 2
name = *new*
"""
`)
	return rb, invPath, dir
}

// TestPlanDetailedExitcode: as terraform plan -detailed-exitcode, 2 means
// changes pending, 0 nothing to change, and every error is 1 (so 2 stays
// unambiguous, even for a flag error). Five plans of one state print the
// same text, hosts in the inventory's order.
func TestPlanDetailedExitcode(t *testing.T) {
	rb, inv, dir := localPlanBed(t)
	clean := func(s string) string {
		return strings.NewReplacer(dir, "$DIR", rb, "$RUNBOOK").Replace(s)
	}
	var first string
	for i := 0; i < 5; i++ {
		out, errOut, code := run(t, "plan", rb, "-i", inv, "--lang", "en", "--detailed-exitcode")
		if code != cli.ExitChanges || !progressOnly(errOut) {
			t.Fatalf("changes pending: exit %d, want %d; stderr %q", code, cli.ExitChanges, errOut)
		}
		if i == 0 {
			first = out
		} else if out != first {
			t.Fatalf("plan %d differs from the first:\n%s", i+1, diff(first, out))
		}
	}
	golden(t, clean(first))
	t.Run("markdown", func(t *testing.T) {
		out, errOut, code := run(t, "plan", rb, "-i", inv, "--lang", "en", "--format", "markdown")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		// Every row of the table has the table's five cells: a diff
		// inside a cell must not break it.
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, "|") && strings.Count(strings.ReplaceAll(l, `\|`, ""), "|") != 6 {
				t.Errorf("a broken table row: %s", l)
			}
		}
		golden(t, clean(out))
	})
	t.Run("ja", func(t *testing.T) {
		out, _, _ := run(t, "plan", rb, "-i", inv, "--lang", "ja")
		golden(t, clean(out))
	})
	if _, _, code := run(t, "plan", rb, "-i", inv, "--lang", "en"); code != 0 {
		t.Errorf("without --detailed-exitcode, changes pending: exit %d, want 0", code)
	}
	for name, args := range map[string][]string{
		"flag error":   {"plan", rb, "-i", inv, "--detailed-exitcode", "--bogus"},
		"bad lang":     {"plan", rb, "-i", inv, "--detailed-exitcode", "--lang", "fr"},
		"no runbook":   {"plan", "--detailed-exitcode"},
		"no such file": {"plan", "no-such.toml", "--detailed-exitcode=true"},
	} {
		if _, _, code := run(t, args...); code != cli.ExitFailed {
			t.Errorf("%s: exit %d, want 1", name, code)
		}
	}
	if _, _, code := run(t, "plan", rb, "-i", inv, "--bogus"); code != cli.ExitInvalid {
		t.Errorf("flag error without --detailed-exitcode: exit %d, want 2", code)
	}
	// Apply, then nothing is left to change.
	if out, errOut, code := run(t, "run", rb, "-i", inv, "--lang", "en"); code != 0 {
		t.Fatalf("run: exit %d\n%s%s", code, out, errOut)
	}
	if out, _, code := run(t, "plan", rb, "-i", inv, "--lang", "en", "--detailed-exitcode"); code != 0 {
		t.Errorf("nothing to change: exit %d, want 0\n%s", code, out)
	}
}

// TestLimitPatterns: --limit takes lists, globs and exclusions, a
// repeated --limit adds to the selection, and a step can run on = "all".
func TestLimitPatterns(t *testing.T) {
	rb, inv, _ := localPlanBed(t)
	hostsOf := func(out string) string {
		seen := map[string]bool{}
		var hs []string
		for _, l := range strings.Split(out, "\n") {
			if f := strings.Fields(l); len(f) > 3 && f[1] == "dir" && !seen[f[2]] {
				seen[f[2]] = true
				hs = append(hs, f[2])
			}
		}
		return strings.Join(hs, " ")
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--limit", "h1,h3"}, "h1 h3"},
		{[]string{"--limit", "h1", "--limit", "h3"}, "h1 h3"},
		{[]string{"-l", "h3", "-l", "h1"}, "h1 h3"},
		{[]string{"--limit", "h*", "--limit", "!h2"}, "h1 h3"},
		{[]string{"--limit", "!h2"}, "h1 h3"},
		{[]string{"--limit", "nodes,!h1"}, "h2 h3"},
		{[]string{"--limit", "all"}, "h1 h2 h3"},
	} {
		out, errOut, code := run(t, append([]string{"plan", rb, "-i", inv, "--lang", "en"}, c.args...)...)
		if code != 0 || hostsOf(out) != c.want {
			t.Errorf("%q: exit %d, hosts %q, want %q\n%s%s", c.args, code, hostsOf(out), c.want, out, errOut)
		}
	}
	_, errOut, code := run(t, "run", rb, "-i", inv, "--limit", "h1,!h4")
	if code != cli.ExitInvalid || !strings.Contains(errOut, `--limit: no host or role "h4"`) {
		t.Errorf("a mistyped exclusion: exit %d, %s", code, errOut)
	}

	all := runbooktest.Write(t, "", "runbook.toml", strings.Replace(string(mustReadFile(t, rb)), `on = "nodes"`, `on = "all"`, 1))
	out, errOut, code := run(t, "plan", all, "-i", inv, "--lang", "en", "--limit", "!h3")
	if code != 0 || hostsOf(out) != "h1 h2" {
		t.Errorf(`on = "all" with --limit !h3: exit %d, hosts %q\n%s%s`, code, hostsOf(out), out, errOut)
	}
	out, _, _ = run(t, "dry-run", all, "-i", inv, "--lang", "ja")
	if !strings.Contains(out, "【全ホストで作業します】") {
		t.Errorf(`on = "all" has no host marker:\n%s`, out)
	}
}

func mustReadFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// runEnv runs the CLI with the given environment (and this test's state
// directory).
func runEnv(t *testing.T, env map[string]string, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	state := stateDir(t)
	a := cli.New(strings.NewReader(""), &out, &errOut, cli.WithBundled(bundled), cli.WithEnv(func(k string) string {
		if k == "XDG_STATE_HOME" {
			return state
		}
		return env[k]
	}), cli.WithClock(fixedClock))
	code := a.Run(context.Background(), append([]string{"tejun"}, args...))
	return out.String(), errOut.String(), code
}

// TestLangFromLocale: without --lang, the locale decides (LC_ALL, then
// LC_MESSAGES, then LANG); --lang wins over it. In English no step
// number is a circled ①: the plan and the run say 1-1.
func TestLangFromLocale(t *testing.T) {
	rb := "examples/perforce-ha/standby.toml"
	en, _, _ := run(t, "dry-run", rb, "--lang", "en")
	ja, _, _ := run(t, "dry-run", rb, "--lang", "ja")
	for _, c := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{map[string]string{"LANG": "en_US.UTF-8"}, nil, en},
		{map[string]string{"LANG": "ja_JP.UTF-8"}, nil, ja},
		{map[string]string{"LANG": "C.UTF-8"}, nil, ja},
		{nil, nil, ja},
		{map[string]string{"LANG": "ja_JP.UTF-8", "LC_ALL": "en_US.UTF-8"}, nil, en},
		{map[string]string{"LANG": "en_US.UTF-8"}, []string{"--lang", "ja"}, ja},
		{map[string]string{"LC_ALL": "ja_JP.UTF-8"}, []string{"--lang", "en"}, en},
	} {
		out, errOut, code := runEnv(t, c.env, append([]string{"dry-run", rb}, c.args...)...)
		if code != 0 || out != c.want {
			t.Errorf("%v %q: exit %d, %.60q..., want the %s dry-run\n%s", c.env, c.args, code, out, map[bool]string{true: "English", false: "Japanese"}[c.want == en], errOut)
		}
	}
	if strings.ContainsAny(en, "①②③④⑤⑥⑦⑧⑨") {
		t.Error("a circled number in the English dry-run")
	}

	rbl, inv, _ := localPlanBed(t)
	plan, _, _ := runEnv(t, map[string]string{"LANG": "en_US.UTF-8"}, "plan", rbl, "-i", inv)
	out, errOut, code := runEnv(t, map[string]string{"LANG": "en_US.UTF-8"}, "run", rbl, "-i", inv)
	if code != 0 {
		t.Fatalf("run: exit %d\n%s%s", code, out, errOut)
	}
	for name, s := range map[string]string{"plan": plan, "run": out} {
		if !strings.Contains(s, "1-1 ") || !strings.Contains(s, "1-2 ") || strings.ContainsAny(s, "①②") {
			t.Errorf("English %s has no 1-1 / 1-2 step labels, or a circled one:\n%s", name, s)
		}
	}
	out, _, _ = runEnv(t, map[string]string{"LANG": "ja_JP.UTF-8"}, "plan", rbl, "-i", inv)
	if !strings.Contains(out, "1-①") || !strings.Contains(out, "作業不要") {
		t.Errorf("Japanese plan:\n%s", out)
	}
}

// auditStart reads the run_start event of the newest audit record under
// state.
func auditStart(t *testing.T, state string) cli.Event {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(state, "tejun", "runs", "*.jsonl"))
	if len(files) == 0 {
		t.Fatal("no audit record")
	}
	sort.Strings(files)
	f, err := os.ReadFile(files[len(files)-1])
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(f), "\n")
	var e cli.Event
	if err := json.Unmarshal([]byte(first), &e); err != nil || e.Event != "run_start" {
		t.Fatalf("first event %q: %v", first, err)
	}
	return e
}

// TestAuditArgs: the audit record's run_start holds every flag given,
// in a canonical spelling, and the tejun version that ran.
func TestAuditArgs(t *testing.T) {
	rb, inv, dir := localPlanBed(t)
	secret := filepath.Join(dir, "pw")
	os.WriteFile(secret, []byte("s3cret-value\n"), 0o600)
	out, errOut, code := run(t, "run", rb, "-i", inv, "-y", "--limit", "h*", "-l", "!h2", "--section", "s", "--force-unlock",
		"--lang", "en", "--forks", "2", "--step-timeout", "5m", "--secret", "pw=@"+secret, "--fail-fast")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	e := auditStart(t, stateDir(t))
	want := []string{"--inventory=" + inv, "--lang=en", "--yes", "--forks=2", "--limit=h*", "--limit=!h2", "--section=s",
		"--secret=pw=@" + secret, "--force-unlock", "--step-timeout=5m0s", "--fail-fast", rb}
	if strings.Join(e.Args, " ") != strings.Join(want, " ") {
		t.Errorf("run_start.args:\n got %q\nwant %q", e.Args, want)
	}
	if e.Version == "" {
		t.Error("run_start has no tejun_version")
	}
	raw, _ := json.Marshal(e)
	if strings.Contains(string(raw), "s3cret") {
		t.Errorf("the secret's value is in the audit record: %s", raw)
	}
}

// TestKindsReference: tejun kinds lists the kinds, tejun kinds KIND and
// tejun help kinds describe them from their structs, each with an example
// taken from the bundled runbooks.
func TestKindsReference(t *testing.T) {
	for name, args := range map[string][]string{
		"list":      {"kinds"},
		"directory": {"kinds", "directory"},
		"p4.pull":   {"kinds", "p4.pull"},
		"help":      {"help", "kinds"},
	} {
		t.Run(name, func(t *testing.T) {
			out, errOut, code := run(t, args...)
			if code != 0 || errOut != "" {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			golden(t, out)
		})
	}
	all, _, _ := run(t, "kinds", "--all")
	help, _, _ := run(t, "help", "kinds")
	if all != help {
		t.Error("tejun help kinds differs from tejun kinds --all")
	}
	// Every kind is described, and every key of its example is one of
	// the parameters listed (or a key every step has).
	common := strings.Join(runbook.CommonKeys(), " ")
	var kinds [][]string
	for _, l := range strings.Split(all, "\n") {
		if l != "" && !strings.HasPrefix(l, " ") {
			kinds = append(kinds, nil)
		}
		if len(kinds) > 0 {
			kinds[len(kinds)-1] = append(kinds[len(kinds)-1], l)
		}
	}
	list, _, _ := run(t, "kinds")
	if n := strings.Count(strings.Split(list, "\n\n")[0], "\n") + 1; len(kinds) != n {
		t.Errorf("%d kinds described, %d listed", len(kinds), n)
	}
	for _, k := range kinds {
		name := k[0]
		params := map[string]bool{}
		inParams, inExample, inString := false, false, false
		for _, l := range k {
			switch {
			case strings.HasPrefix(l, "  Parameters:"):
				inParams = true
			case strings.HasPrefix(l, "  Example"):
				inExample, inParams = true, false
			case strings.HasPrefix(l, "  Every"):
				inParams = false
			case inParams && strings.HasPrefix(l, "    ") && !strings.HasPrefix(l, "    (") && !strings.HasPrefix(l, "     "):
				params[strings.Fields(l)[0]] = true
			case inParams && strings.HasPrefix(l, "     ") && len(params) == 0:
				t.Errorf("%s: a description before any parameter: %q", name, l)
			case inExample && !inString && strings.Contains(l, " = ") && !strings.HasPrefix(l, "    ["):
				key := strings.TrimSpace(strings.SplitN(strings.SplitN(l, " = ", 2)[0], ".", 2)[0])
				if !params[key] && !strings.Contains(" "+common+" ", " "+key+" ") {
					t.Errorf("%s: its example sets %q, which is not a listed parameter", name, key)
				}
			}
			if inExample && strings.Count(l, `"""`)%2 == 1 {
				inString = !inString
			}
		}
	}
	if _, errOut, code := run(t, "kinds", "directroy"); code != cli.ExitInvalid || !strings.Contains(errOut, `did you mean "directory"`) {
		t.Errorf("a mistyped kind: exit %d, %s", code, errOut)
	}
}

// TestInit: tejun init writes a starter runbook and inventory that pass
// check and run on real hosts (a re-run changes nothing), and never
// overwrites a file, not even one of the two.
func TestInit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "site")
	out, errOut, code := run(t, "init", dir)
	if code != 0 {
		t.Fatalf("init: exit %d\n%s", code, errOut)
	}
	golden(t, strings.ReplaceAll(out, dir, "$DIR"))
	rb := filepath.Join(dir, "runbook.toml")
	if out, errOut, code := run(t, "check", rb); code != 0 || errOut != "" {
		t.Fatalf("check of the starter: exit %d\n%s%s", code, out, errOut)
	}
	for _, lang := range []string{"ja", "en"} {
		if _, errOut, code := run(t, "dry-run", rb, "--lang", lang); code != 0 {
			t.Errorf("dry-run --lang %s: exit %d\n%s", lang, code, errOut)
		}
	}
	before := mustReadFile(t, rb)
	os.Remove(rb)
	os.WriteFile(filepath.Join(dir, "inventory.toml"), []byte("# mine\n"), 0o644)
	_, errOut, code = run(t, "init", dir)
	if code != cli.ExitInvalid || !strings.Contains(errOut, "inventory.toml already exists") {
		t.Errorf("init over an inventory: exit %d, %s", code, errOut)
	}
	if _, err := os.Stat(rb); err == nil {
		t.Error("init wrote the runbook although the inventory was there")
	}
	if string(mustReadFile(t, filepath.Join(dir, "inventory.toml"))) != "# mine\n" {
		t.Error("init overwrote an inventory")
	}

	// The starter works: its steps run on two hosts of role web, and a
	// second run finds everything done.
	b := testbed.Start(t, "web-01", "web-02")
	inv := inventoryFor(t, b, "", nil)
	invSrc := strings.ReplaceAll(string(mustReadFile(t, inv)), `roles = ["nodes"]`, `roles = ["web"]`)
	os.WriteFile(inv, []byte(invSrc), 0o644)
	os.WriteFile(rb, before, 0o644)
	for i := 0; i < 2; i++ {
		out, errOut, code := run(t, "run", rb, "-i", inv, "--lang", "en")
		if code != 0 {
			t.Fatalf("run %d of the starter: exit %d\n%s%s", i+1, code, out, errOut)
		}
		if i == 1 && strings.Contains(out, "changed") && !strings.Contains(out, "changed=0") {
			for _, l := range strings.Split(out, "\n") {
				if strings.Contains(l, " changed ") {
					t.Errorf("the second run changed something: %s", l)
				}
			}
		}
	}
}

// TestJapaneseShowExec: the commands --show-exec lists in the Japanese
// procedure say what they read and do in Japanese, for every bundled
// runbook (the words a kind writes beside a command line).
func TestJapaneseShowExec(t *testing.T) {
	files, _ := filepath.Glob("examples/*/*.toml")
	english := regexp.MustCompile(`sftp write|atomic rename|< secret|only when|fields above|line above|wait until|streamed|SHA-256 compared|from the first byte`)
	n := 0
	for _, f := range files {
		if strings.Contains(f, "inventory") {
			continue
		}
		out, errOut, code := run(t, "dry-run", f, "--lang", "ja", "--show-exec")
		if code != 0 {
			t.Errorf("%s: exit %d %s", f, code, errOut)
			continue
		}
		n++
		for _, l := range strings.Split(out, "\n") {
			if english.MatchString(l) {
				t.Errorf("%s: English in the Japanese procedure: %s", f, strings.TrimSpace(l))
			}
		}
	}
	if n < 4 {
		t.Errorf("only %d runbooks checked", n)
	}
}

// TestLabelsFollowLang: the JSON events, the audit record and the JUnit
// report number steps as the terminal does, 1-① in Japanese and 1-1 in
// English; the step id beside the label is the same in every language,
// for consumers to key on.
func TestLabelsFollowLang(t *testing.T) {
	rb, inv, dir := localPlanBed(t)
	for _, c := range []struct {
		lang, label string
	}{{"en", "1-2"}, {"ja", "1-②"}} {
		junitPath := filepath.Join(dir, "junit-"+c.lang+".xml")
		out, errOut, code := run(t, "run", rb, "-i", inv, "--lang", c.lang, "--output", "json", "--junit", junitPath)
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s%s", c.lang, code, out, errOut)
		}
		// This run's record, by its id: two runs in one second sort by
		// their random part.
		var start cli.Event
		json.Unmarshal([]byte(strings.SplitN(out, "\n", 2)[0]), &start)
		if start.Event != "run_start" || start.Lang != c.lang {
			t.Errorf("%s: first event %s, lang %q", c.lang, start.Event, start.Lang)
		}
		files, _ := filepath.Glob(filepath.Join(stateDir(t), "tejun", "runs", start.RunID+"*.jsonl"))
		if len(files) != 1 {
			t.Fatalf("%s: audit records of run %q: %v", c.lang, start.RunID, files)
		}
		audit, _ := os.ReadFile(files[0])
		for name, stream := range map[string]string{"--output json": out, "audit record": string(audit)} {
			ends := 0
			for _, line := range strings.Split(strings.TrimSpace(stream), "\n") {
				var e cli.Event
				if err := json.Unmarshal([]byte(line), &e); err != nil {
					t.Fatalf("%s %s: %v: %s", c.lang, name, err, line)
				}
				if e.Event != "step_start" && e.Event != "step_end" {
					continue
				}
				if e.Step == "" {
					t.Errorf("%s %s: %s without a step id", c.lang, name, e.Event)
				}
				if c.lang == "en" && strings.ContainsAny(e.Label, "①②③") {
					t.Errorf("%s %s: circled label %q", c.lang, name, e.Label)
				}
				if e.Step == "marker" {
					ends++
					if e.Label != c.label {
						t.Errorf("%s %s: step marker labelled %q, want %q", c.lang, name, e.Label, c.label)
					}
				}
			}
			if ends == 0 {
				t.Errorf("%s %s: no event of step marker", c.lang, name)
			}
		}
		x, err := os.ReadFile(junitPath)
		if err != nil {
			t.Fatal(err)
		}
		if want := `name="` + c.label + ` marker @ h1"`; !strings.Contains(string(x), want) {
			t.Errorf("%s JUnit lacks %s:\n%s", c.lang, want, x)
		}
		if c.lang == "en" && strings.ContainsAny(string(x), "①②③") {
			t.Errorf("en JUnit has a circled label:\n%s", x)
		}
	}
}

// TestPlanReasonsInLang: tejun's own reasons (not a kind's, not a host's
// output) are said in the plan's language; the JSON and audit record keep
// them in English for programs (TestLabelsFollowLang reads those).
func TestPlanReasonsInLang(t *testing.T) {
	b := testbed.Start(t, "h1")
	inv := inventoryFor(t, b, "", nil)
	rb := runbooktest.Write(t, "", "runbook.toml", `
[runbook]
name = "reasons"
[[section]]
id = "s"
on = "nodes"
title.en = "s"
[[section.step]]
id = "ready"
kind = "wait_until"
title.en = "the service answers"
argv = ["echo", "starting"]
pattern = "^ready$"
retries = 0
`)
	for lang, want := range map[string]string{"ja": "失敗する見込みです: output does not match", "en": "could not check would fail: output does not match"} {
		out, errOut, code := run(t, "plan", rb, "-i", inv, "--lang", lang)
		if code != cli.ExitFailed || !strings.Contains(out, want) {
			t.Errorf("%s: exit %d, want %q in:\n%s%s", lang, code, want, out, errOut)
		}
	}
}

// TestNoteCodeSpans: a command a note or 解説 names in backticks is a
// code span in Markdown (no \# escapes inside) and plain in text.
func TestNoteCodeSpans(t *testing.T) {
	rb := "examples/perforce-ha/standby.toml"
	md, _, _ := run(t, "dry-run", rb, "--lang", "ja", "--format", "markdown")
	for _, want := range []string{"`p4 servers -J`：ジャーナルコピー", "マニュアルの `any#P4JOURNAL`・`any#P4LOG`", "`startup.1=journalcopy -i 1`："} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks the code span %q", want)
		}
	}
	text, _, _ := run(t, "dry-run", rb, "--lang", "ja")
	if strings.Contains(text, "`") {
		t.Error("the text dry-run shows a backtick")
	}
	if !strings.Contains(text, "p4 servers -J：ジャーナルコピー") || !strings.Contains(text, "マニュアルの any#P4JOURNAL・any#P4LOG") {
		t.Error("the text dry-run lost a note's command")
	}
}
