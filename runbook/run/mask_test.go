package run

import (
	"context"
	"strings"
	"testing"

	"tejun/transport/transporttest"
)

// A secret comes back in pieces: a multi-line one line by line, a long one
// cut by the kept stderr tail, a ticket that a login prints. None of it
// reaches a reporter, the -v log or the audit record.
func TestSecretsMaskedInPieces(t *testing.T) {
	b := bind(t, `
[runbook]
name = "m"
[secrets.pw]
env = "X"
[[section]]
id = "s"
on = "h1"
title.en = "s"
[[section.step]]
id = "login"
kind = "p4.passwd"
title.en = "login"
port = "p:1"
name = "svc"
secret = "pw"
[[section.step]]
id = "leaky"
kind = "command"
title.en = "prints too much"
argv = ["show-config"]
`)
	multi := "-----BEGIN KEY-----\nMIIEpAIBAAKCAQEA\nq7Zx\n-----END KEY-----"
	long := strings.Repeat("Zq0123456789abcdefXY", 100<<10/20) // 100 KB
	ticket := "3F8E2A6B7C1D0E9F3F8E2A6B7C1D0E9F"
	var echoed strings.Builder
	for _, l := range strings.Split(multi, "\n") {
		echoed.WriteString("host says: " + l + "\n")
	}
	h1 := transporttest.New().
		On(`users -a svc$`, transporttest.Reply{Stdout: "... User svc\n... Password enabled\n"}).
		On(`login -p$`, transporttest.Reply{Stdout: "Enter password: \n" + ticket + "\n"}).
		On(`^show-config$`, transporttest.Reply{
			Stdout: echoed.String() + "ticket in use: " + ticket + "\n",
			Stderr: long[len(long)-(64<<10)+3:] + "\nfailed", Code: 1})
	rec := &recorder{}
	var audit []Command
	if _, err := Run(context.Background(), b, Options{
		Dial:    fakes(map[string]*transporttest.Fake{"h1": h1}),
		Secrets: map[string][]byte{"pw": []byte(multi), "long": []byte(long)},
		Audit:   func(c Command) { audit = append(audit, c) },
	}, rec); err != nil {
		t.Fatal(err)
	}
	all := strings.Join(rec.logs, "\n")
	for _, e := range rec.events {
		all += "\n" + e.Reason + "\n" + e.Error + "\n" + e.Stderr
	}
	for _, c := range audit {
		all += "\n" + c.Line + "\n" + c.Error + "\n" + c.Stdout + "\n" + c.Stderr
	}
	// The audit record keeps the output itself, for the report's results.
	var leaky *Command
	for i := range audit {
		if audit[i].Step == "leaky" {
			leaky = &audit[i]
		}
	}
	if leaky == nil || !strings.HasPrefix(leaky.Stdout, "host says: ********") || !strings.Contains(leaky.Stdout, "ticket in use: ********\n") ||
		leaky.Stderr != "********\nfailed" {
		t.Errorf("audit record of the leaky command lacks its masked output: %+v", leaky)
	}
	for _, piece := range []string{"BEGIN KEY", "MIIEpAIB", "q7Zx", "END KEY", "Zq012345", "6789abcd", "3F8E2A6B", "7C1D0E9F"} {
		if strings.Contains(all, piece) {
			t.Errorf("%q of a secret survives", piece)
		}
	}
	if !strings.Contains(all, "host says: ********") || !strings.Contains(all, "ticket in use: ********") {
		t.Errorf("expected masked lines, got:\n%.2000s", all)
	}
}
