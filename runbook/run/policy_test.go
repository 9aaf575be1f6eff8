package run

import (
	"context"
	"strings"
	"testing"

	"tejun/transport/transporttest"
)

const policy = `
[runbook]
name = "p"
%s
[[section]]
id = "both"
on = "r"
title.en = "both"
[[section.step]]
id = "a"
kind = "command"
title.en = "a"
argv = ["a"]
[[section]]
id = "two"
on = "h2"
title.en = "two"
[[section.step]]
id = "m"
kind = "command"
title.en = "m"
needs = []
argv = ["m"]
[[section]]
id = "one"
on = "h1"
title.en = "one"
[[section.step]]
id = "s"
kind = "command"
title.en = "s"
needs = ["m"]
argv = ["s"]
[[section.step]]
id = "t"
kind = "command"
title.en = "t"
needs = ["a"]
argv = ["t"]
`

// h2 fails a and m. t on h1 needs a, done on h1: it runs. s on h1 needs
// m, which ran only on h2 and failed there: skipped. With max_fail = 0
// nothing starts after the first failure; max_fail = 1 tolerates h2.
func TestFailurePolicyPerHost(t *testing.T) {
	for _, tc := range []struct {
		header string
		t      Status
	}{
		{"", Changed},
		{"max_fail = 1", Changed},
		{"max_fail = 0", Skipped},
	} {
		b := bind(t, strings.Replace(policy, "%s", tc.header, 1))
		h1 := transporttest.New().On(`.`, transporttest.Reply{})
		h2 := transporttest.New().On(`.`, transporttest.Reply{Code: 1})
		rec := &recorder{}
		if _, err := Run(context.Background(), b, Options{Dial: fakes(map[string]*transporttest.Fake{"h1": h1, "h2": h2}), Forks: 1}, rec); err != nil {
			t.Fatal(err)
		}
		if tc.t == Skipped {
			// Which of a and m fails first varies; after it, nothing starts.
			if rec.status("t", "") != Skipped || rec.status("s", "") != Skipped || rec.status("a", "h1") == Changed && rec.status("m", "h2") == Failed {
				t.Errorf("%q: events %+v", tc.header, rec.events)
			}
			continue
		}
		if rec.status("a", "h1") != Changed || rec.status("a", "h2") != Failed || rec.status("s", "") != Skipped || rec.status("t", "h1") != tc.t {
			t.Errorf("%q: events %+v", tc.header, rec.events)
		}
	}
}
