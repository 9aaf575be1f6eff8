package cli

import (
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/jstemmer/go-junit-report/v2/junit"

	"tejun/runbook"
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
		Name:      fmt.Sprintf("%s %s @ %s", ev.Step.LabelIn(j.lang), ev.Step.ID, host),
		Classname: j.suite.Name,
		Time:      fmt.Sprintf("%.3f", ev.Duration.Seconds()),
	}
	switch ev.Status {
	case run.Failed:
		tc.Failure = &junit.Result{Message: ev.Error, Type: "failed", Data: ev.Stderr}
	case run.Refused:
		tc.Failure = &junit.Result{Message: ev.Error, Type: "refused"}
	case run.Skipped:
		tc.Skipped = &junit.Result{Message: ev.Reason}
	default:
		tc.SystemOut = &junit.Output{Data: string(ev.Status) + ": " + ev.Reason}
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
	f, err := createPrivate(path)
	if err != nil {
		return err
	}
	if err := all.WriteXML(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// createPrivate opens path for a report that may hold command output,
// readable by its owner only from the first byte written: a new file is
// made 0600, an existing one is emptied and made 0600 before any write.
func createPrivate(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
