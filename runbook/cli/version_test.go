package cli

import (
	"runtime/debug"
	"testing"
)

func TestVersionOf(t *testing.T) {
	for _, c := range []struct {
		bi   *debug.BuildInfo
		ok   bool
		want string
	}{
		{nil, false, "(unknown)"},
		{&debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, true, "v1.2.3 (commit unknown)"},
		{&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "a315392e645b35587233c90bff35feac763246fd"},
			{Key: "vcs.time", Value: "2026-12-01T21:31:10Z"},
			{Key: "vcs.modified", Value: "true"},
		}}, true, "(devel) (commit a315392e645b, 2026-12-01T21:31:10Z, with uncommitted changes)"},
		{&debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261201213110-a315392e645b"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "a315392e645b35587233c90bff35feac763246fd"},
			{Key: "vcs.modified", Value: "false"},
		}}, true, "v0.0.0-20261201213110-a315392e645b (commit a315392e645b)"},
	} {
		if got := versionOf(c.bi, c.ok); got != c.want {
			t.Errorf("versionOf(%+v) = %q, want %q", c.bi, got, c.want)
		}
	}
}
