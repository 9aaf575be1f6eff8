package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/jstemmer/go-junit-report/v2/junit"

	"tejun/runbook"
	"tejun/runbook/mask"
	"tejun/runbook/run"
)

// junitReport collects a test case per step and host for CI dashboards,
// using go-junit-report's JUnit model rather than our own XML.
type junitReport struct {
	mu    sync.Mutex
	suite junit.Testsuite
	start time.Time
	// lang is the run's: a test case is named as the terminal names the
	// step (4-6 in English), then by its id, which every language shares.
	lang string
}

func newJUnit(rb *runbook.Runbook, hostname, lang string) *junitReport {
	return &junitReport{suite: junit.Testsuite{Name: rb.Name, Hostname: hostname, Package: rb.File}, start: time.Now(), lang: lang}
}

func (j *junitReport) Started(*runbook.Step, string)     {}
func (j *junitReport) Log(*runbook.Step, string, string) {}

func (j *junitReport) Finished(ev run.Event) {
	host := ev.Host
	if host == "" {
		host = "-"
	}
	tc := junit.Testcase{
		Name:      mask.Visible(fmt.Sprintf("%s %s @ %s", ev.Step.LabelIn(j.lang), ev.Step.ID, host)),
		Classname: j.suite.Name,
		Time:      fmt.Sprintf("%.3f", ev.Duration.Seconds()),
	}
	// People read it (a CI page, cat): what hosts printed is shown as on
	// the terminal, escapes as ^[, not dropped for U+FFFD by the XML
	// writer, nor C1 and bidi controls left raw.
	v := mask.Visible
	switch ev.Status {
	case run.Failed:
		tc.Failure = &junit.Result{Message: v(ev.Error), Type: "failed", Data: v(ev.Stderr)}
	case run.Refused:
		tc.Failure = &junit.Result{Message: v(ev.Error), Type: "refused"}
	case run.Skipped:
		tc.Skipped = &junit.Result{Message: v(ev.Reason)}
	default:
		tc.SystemOut = &junit.Output{Data: string(ev.Status) + ": " + v(ev.Reason)}
	}
	j.mu.Lock()
	j.suite.AddTestcase(tc)
	j.mu.Unlock()
}

func (j *junitReport) write(path string) error {
	j.suite.Time = fmt.Sprintf("%.3f", time.Since(j.start).Seconds())
	j.suite.SetTimestamp(j.start)
	var all junit.Testsuites
	all.AddSuite(j.suite)
	return writePrivate(path, all.WriteXML)
}

// writePrivate writes a report that may hold command output to path,
// readable by its owner only from the first byte: a new 0600 file in the
// same directory, renamed over path once complete. Whatever path was (a
// symlink or hard link someone left in /tmp, often for a tejun run as
// root) is replaced, never written through, and a CI job never reads half
// a report.
func writePrivate(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // after the rename, nothing
	// os.CreateTemp makes it 0600.
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
