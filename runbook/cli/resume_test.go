package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tejun/runbook"
	"tejun/runbook/report"
)

// writeRecords puts audit records, oldest first, in a runs directory and
// returns the getenv that finds it and the runbook they record.
func writeRecords(t *testing.T, records ...string) (func(string) string, *runbook.Runbook) {
	t.Helper()
	state := t.TempDir()
	dir := filepath.Join(state, "tejun", "runs")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for i, r := range records {
		name := filepath.Join(dir, "2026120"+string(rune('1'+i))+"T000000Z-0000-rb.jsonl")
		if err := os.WriteFile(name, []byte(r), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	getenv := func(k string) string {
		if k == "XDG_STATE_HOME" {
			return state
		}
		return ""
	}
	return getenv, &runbook.Runbook{File: "/rb.toml"}
}

func ev(s string) string {
	return `{"schema":"tejun.events/v1","run_id":"R","runbook":"/rb.toml",` + s + "}\n"
}

// The last run's record is read whole or not at all: a long line (a
// command whose output is mostly characters JSON escapes six bytes wide)
// or a bad line in the middle must not end the reading there, leaving
// the steps after it as never done, or send the resume to an older run.
func TestResumeReadsTheWholeRecordOrRefuses(t *testing.T) {
	older := ev(`"event":"run_start"`) + ev(`"event":"step_end","step":"a","host":"h","status":"ok"`)
	long := ev(`"event":"command","step":"b","host":"h","stdout":"` + strings.Repeat(`\u003c`, 300<<10) + `"`)
	newer := ev(`"event":"run_start"`) + ev(`"event":"step_end","step":"a","host":"h","status":"ok"`) + long +
		ev(`"event":"step_end","step":"b","host":"h","status":"changed"`) + ev(`"event":"step_end","step":"c","host":"h","status":"failed"`)
	getenv, rb := writeRecords(t, older, newer)
	last, err := findLastRun(getenv, rb, "")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(last.finished, " ") != "a b" || last.failed != "c" || !last.done["b"]["h"] {
		t.Errorf("finished %v, failed %q, done %v: the record was not read past its long line", last.finished, last.failed, last.done)
	}

	tooLong := ev(`"event":"command","step":"b","host":"h","stdout":"` + strings.Repeat("x", report.MaxLine) + `"`)
	for name, bad := range map[string]string{
		"too long":   ev(`"event":"run_start"`) + tooLong + ev(`"event":"step_end","step":"b","host":"h","status":"ok"`),
		"bad middle": ev(`"event":"run_start"`) + "{not json\n" + ev(`"event":"step_end","step":"b","host":"h","status":"ok"`),
		"bad schema": ev(`"event":"run_start"`) + `{"schema":"other/v2","event":"step_end","step":"b","host":"h","status":"ok"}` + "\n",
		"two runs":   ev(`"event":"run_start"`) + ev(`"event":"step_end","step":"a","host":"h","status":"ok"`) + ev(`"event":"run_start"`) + ev(`"event":"step_end","step":"b","host":"h","status":"ok"`),
		"other run":  ev(`"event":"run_start"`) + strings.Replace(ev(`"event":"step_end","step":"b","host":"h","status":"ok"`), `"run_id":"R"`, `"run_id":"R2"`, 1),
	} {
		getenv, rb := writeRecords(t, older, bad)
		if last, err := findLastRun(getenv, rb, ""); err == nil || !strings.Contains(err.Error(), "cannot resume") {
			t.Errorf("%s: %v, %+v: want a refusal naming the record", name, err, last)
		}
	}

	// A crash cuts the last line only: that is forgiven.
	getenv, rb = writeRecords(t, older, ev(`"event":"run_start"`)+ev(`"event":"step_end","step":"a","host":"h","status":"ok"`)+`{"schema":"tejun.ev`)
	if last, err := findLastRun(getenv, rb, ""); err != nil || strings.Join(last.finished, " ") != "a" || last.ended {
		t.Errorf("a record cut by a crash: %v %+v", err, last)
	}
}
