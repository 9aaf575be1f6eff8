package runbook_test

import (
	"strings"
	"testing"
)

const writeAsRunbook = `
[runbook]
name = "w"
[[section]]
id = "s"
on = "solo"
title.en = "s"
[[section.step]]
id = "old"
kind = "line"
title.en = "old key"
path = "/etc/hosts"
line = "10.0.0.2 db2"
as = "perforce"
[[section.step]]
id = "new"
kind = "file"
title.en = "new key"
path = "/etc/tejun.conf"
content = "a = 1\n"
become = "perforce"
`

// TestBecomeEverywhere: the kinds that write files take become like every
// other kind; their old key "as" still works, and check warns about it.
func TestBecomeEverywhere(t *testing.T) {
	b := bind(t, writeAsRunbook)
	for _, id := range []string{"old", "new"} {
		plan := b.Instances[id][0].Impl.Plan()
		if u := plan.Check[0].Cmd.User; u != "perforce" {
			t.Errorf("%s: check runs as %q, want perforce", id, u)
		}
	}
	if len(b.Warnings) != 1 || !strings.Contains(b.Warnings[0].Msg, `"as" is deprecated: write become = "perforce"`) || b.Warnings[0].Line != 14 {
		t.Errorf("warnings %v: want one for line 14's as", b.Warnings)
	}
	both := strings.Replace(writeAsRunbook, `become = "perforce"`, "become = \"perforce\"\nas = \"root\"", 1)
	_, err := tryBind(t, both)
	if err == nil || !strings.Contains(err.Error(), "give become, not as") {
		t.Errorf("become and as together: %v", err)
	}
}
