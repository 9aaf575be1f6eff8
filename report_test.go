package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recordedRun puts testdata/report/run.jsonl, the audit record of a real
// standby build on the test-bed (its runbook and inventory copied beside
// it, the inventory's key paths removed), in the test's runs directory,
// with the paths of this checkout. It returns the record's path and the
// directory that stands for @DIR@ in it.
func recordedRun(t *testing.T) (string, string) {
	t.Helper()
	return recorded(t, "testdata/report", "20261201T221018Z-0c968e3e18a6-perforce-ha-standby.jsonl")
}

// recorded installs the record in dir (run.jsonl, its runbook and
// inventory beside it) under the given name in the test's runs directory.
func recorded(t *testing.T, testdir, name string) (string, string) {
	t.Helper()
	dir, err := filepath.Abs(testdir)
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join(dir, "run.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	runs := filepath.Join(stateDir(t), "tejun", "runs")
	if err := os.MkdirAll(runs, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(runs, name)
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(string(src), "@DIR@", dir)), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, dir
}

// TestReport renders a recorded run as the manual filled in, in each
// format: the goldens are what a reviewer reads.
func TestReport(t *testing.T) {
	for _, args := range [][]string{
		{"--lang", "ja"},
		{"--lang", "en"},
		{"--lang", "ja", "--format", "markdown"},
		{"--lang", "en", "--format", "markdown"},
		{"--lang", "ja", "--format", "html"},
	} {
		t.Run(strings.ReplaceAll(strings.Join(args, ""), "--", "_"), func(t *testing.T) {
			rec, dir := recordedRun(t)
			out, errOut, code := run(t, append([]string{"report"}, args...)...) // the last run
			if code != 0 || errOut != "" {
				t.Fatalf("exit %d, stderr:\n%s", code, errOut)
			}
			out = strings.NewReplacer(rec, "RECORD", dir, "testdata/report").Replace(out)
			for _, want := range []string{
				"/standby.toml", "c39a56c8f49f7dcbcb9a4803138ad61dbd14118b323ed2382018622bb6aa085a", // runbook and its digest
				"20261201T221018Z-0c968e3e18a6", "root", "vm", "2026-12-01 22:10:18.261 UTC", "2026-12-01 22:10:24.255 UTC",
				"127.0.0.11:32997 server standby", // the manual's command
				"Server standby saved.",           // real output, under the result
				"changed", "ok",
				"Current replica journal state is: Journal 1, Sequence 8403.", // the manual's example beside the real one
			} {
				if !strings.Contains(out, want) {
					t.Errorf("report lacks %q", want)
				}
			}
			// The recorded run logged in with both passwords and learnt a
			// ticket: none of them was recorded, so none can be reported.
			for _, secret := range []string{superPassword, "s3rvice-Passw0rd-unique"} {
				if strings.Contains(out, secret) {
					t.Errorf("the report shows a password")
				}
			}
			golden(t, out)
		})
	}
}

// The record of a run is found by its id, by its path, and as the last
// run; what cannot be a faithful report is refused, saying why.
func TestReportFindsAndRefuses(t *testing.T) {
	rec, dir := recordedRun(t)
	byPath, _, code := run(t, "report", rec)
	if code != 0 {
		t.Fatalf("by path: exit %d", code)
	}
	byID, _, code := run(t, "report", "20261201T221018Z-0c96")
	if code != 0 || byID != byPath {
		t.Errorf("by id prefix: exit %d, same report: %v", code, byID == byPath)
	}
	if _, errOut, code := run(t, "report", "20991231T000000Z"); code != 2 || !strings.Contains(errOut, `no run "20991231T000000Z"`) {
		t.Errorf("unknown run: exit %d, %s", code, errOut)
	}

	// A runbook edited since the run would lay another procedure over it.
	edited := filepath.Join(t.TempDir(), "standby.toml")
	src, _ := os.ReadFile(filepath.Join(dir, "standby.toml"))
	os.WriteFile(edited, append(src, []byte("\n# edited\n")...), 0o644)
	if _, errOut, code := run(t, "report", rec, "--runbook", edited); code != 2 || !strings.Contains(errOut, "changed since run 20261201T221018Z-0c968e3e18a6") {
		t.Errorf("edited runbook: exit %d, %s", code, errOut)
	}
	// The same file elsewhere is accepted.
	moved := filepath.Join(t.TempDir(), "standby.toml")
	os.WriteFile(moved, src, 0o644)
	if out, errOut, code := run(t, "report", rec, "--runbook", moved); code != 0 || !strings.Contains(out, "Server standby saved.") {
		t.Errorf("moved runbook: exit %d, %s", code, errOut)
	}

	// A record cut by a crash still reports what it holds, and says the
	// end is missing; one that is not an audit record is refused.
	full, _ := os.ReadFile(rec)
	lines := strings.SplitAfter(string(full), "\n")
	cut := filepath.Join(t.TempDir(), "cut.jsonl")
	os.WriteFile(cut, []byte(strings.Join(lines[:40], "")+`{"schema":"tejun.events/v1","event":"comm`), 0o600)
	out, errOut, code := run(t, "report", cut, "--lang", "en")
	if code != 0 || !strings.Contains(out, "not recorded (tejun stopped part way") || !strings.Contains(out, "not run (not part of this run)") {
		t.Errorf("cut record: exit %d, %s\n%.3000s", code, errOut, out)
	}
	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	os.WriteFile(bad, []byte("{\"event\":\"run_start\"}\n"), 0o600)
	if _, errOut, code := run(t, "report", bad); code != 2 || !strings.Contains(errOut, "not a tejun audit record") {
		t.Errorf("foreign file: exit %d, %s", code, errOut)
	}
	if _, errOut, code := run(t, "report", rec, "--format", "pdf"); code != 2 || !strings.Contains(errOut, "--format") {
		t.Errorf("bad format: exit %d, %s", code, errOut)
	}
}

// A run with nothing recorded yet says where it looked.
func TestReportNoRuns(t *testing.T) {
	if _, errOut, code := run(t, "report"); code != 2 || !strings.Contains(errOut, "no runs recorded in ") {
		t.Errorf("exit %d, %s", code, errOut)
	}
}

// The dry-run's header names the exact files (SHA-256, as the run's audit
// record does), the tejun that printed it, and when.
func TestDryRunHeader(t *testing.T) {
	for _, f := range []string{"examples/perforce-ha/standby.toml", "examples/perforce-ha/inventory.toml"} {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(src)
		for _, format := range []string{"text", "markdown"} {
			out, _, code := run(t, "dry-run", "examples/perforce-ha/standby.toml", "--lang", "en", "--format", format)
			if code != 0 || !strings.Contains(out, hex.EncodeToString(sum[:])) || !strings.Contains(out, "2026-12-01 09:00:00 UTC") || !strings.Contains(out, "tejun version") {
				t.Errorf("%s: exit %d, header lacks %s's SHA-256, the date or the version:\n%.800s", format, code, f, out)
			}
		}
	}
}

// A real build, then its report: every step of the manual has a status,
// the real output is there, and the passwords and the ticket the build
// learnt are not (the audit record holds output masked already).
func TestReportOfLiveRun(t *testing.T) {
	p := newPair(t)
	if out, code := p.build(t); code != 0 {
		t.Fatalf("build: exit %d\n%s", code, out)
	}
	for _, format := range []string{"text", "markdown", "html"} {
		out, errOut, code := run(t, "report", "--format", format, "--lang", "en")
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", format, code, errOut)
		}
		for _, want := range []string{"success (exit 0)", "Server standby saved.", "User service logged in.", "********"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: the report lacks %q", format, want)
			}
		}
		if strings.Contains(out, "not run (not part of this run)") {
			t.Errorf("%s: a step of the build has no status", format)
		}
		for _, secret := range []string{superPassword, "s3rvice-Passw0rd-unique"} {
			if strings.Contains(out, secret) {
				t.Errorf("%s: the report shows a password", format)
			}
		}
	}
}

// A recorded run that failed closed: the replication ticket died, so the
// checkpoint refused to run and every later step was skipped. The report
// says what failed first, and shows each skipped step with its reason.
func TestReportFailedRun(t *testing.T) {
	for _, args := range [][]string{
		{"--lang", "ja"},
		{"--lang", "en", "--format", "markdown"},
		{"--lang", "en", "--format", "html"},
	} {
		t.Run(strings.ReplaceAll(strings.Join(args, ""), "--", "_"), func(t *testing.T) {
			rec, dir := recorded(t, "testdata/report-failed", "20261201T221633Z-7fb3c2867ec8-perforce-ha-standby.jsonl")
			out, errOut, code := run(t, append([]string{"report", rec}, args...)...)
			if code != 0 || errOut != "" {
				t.Fatalf("exit %d, stderr:\n%s", code, errOut)
			}
			out = strings.NewReplacer(rec, "RECORD", dir, "testdata/report-failed").Replace(out)
			stopped := "stopped: 1 host failed, more than max_fail = 0 allows"
			if args[1] == "ja" { // tejun's own reasons in the reader's language
				stopped = "停止: 1 台のホストで失敗し、max_fail = 0 の許容を超えました"
			}
			for _, want := range []string{"failure (exit 1)", "cannot tell whether done_when pull-lj holds", stopped} {
				if !strings.Contains(strings.ReplaceAll(out, `\_`, "_"), want) { // Markdown escapes _
					t.Errorf("report lacks %q", want)
				}
			}
			golden(t, out)
		})
	}
}

// TestReportLangFromLocale: without --lang the report follows the locale,
// as dry-run, plan and run do; --lang wins over it.
func TestReportLangFromLocale(t *testing.T) {
	recordedRun(t)
	ja, _, _ := run(t, "report", "--lang", "ja")
	en, _, _ := run(t, "report", "--lang", "en")
	if ja == en {
		t.Fatal("the ja and en reports are the same")
	}
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
	} {
		out, errOut, code := runEnv(t, c.env, append([]string{"report"}, c.args...)...)
		if code != 0 || out != c.want {
			t.Errorf("%v %q: exit %d, %.60q..., want the %s report\n%s", c.env, c.args, code, out, map[bool]string{true: "English", false: "Japanese"}[c.want == en], errOut)
		}
	}
	if _, errOut, code := run(t, "report", "--lang", "fr"); code != 2 || !strings.Contains(errOut, "--lang") {
		t.Errorf("--lang fr: exit %d, %s", code, errOut)
	}
}
