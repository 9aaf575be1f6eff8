package p4

import (
	"strings"
	"testing"
)

func TestFormEditKeepsEverythingElse(t *testing.T) {
	in := "# comment\nServerID:\tstandby\n\nType:\tserver\n\nServices:\tstandard\n\nDescription:\n\tCreated by super.\n\nDistributedConfig:\n\tany#P4LOG=../logs/log\n\tP4LOG=old\n\tkeep=me\n\n"
	f := parseForm(in)
	if c := f.set("Services", "standby"); c != "Services standard → standby" {
		t.Errorf("change %q", c)
	}
	f.set("ReplicatingFrom", "master")
	changed := f.ensureLines("DistributedConfig", []string{"P4LOG=log", "monitor=2", "any#P4LOG=../logs/log"})
	if strings.Join(changed, ",") != "P4LOG=log,monitor=2" {
		t.Errorf("changed %v", changed)
	}
	out := f.String()
	for _, want := range []string{"Type:\tserver", "Description:\n\tCreated by super.", "\tkeep=me", "\tP4LOG=log", "ReplicatingFrom:\tmaster", "Services:\tstandby"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	if strings.Contains(out, "P4LOG=old") {
		t.Error("old P4LOG line kept beside the new one")
	}
}

func TestZtag(t *testing.T) {
	recs := ztag("... serverID master\n... appliedJnl 1\n\n... serverID standby\n... appliedJnl 1\n... serverOptions mandatory\n")
	if len(recs) != 2 || recs[1]["serverOptions"] != "mandatory" || recs[0]["serverID"] != "master" {
		t.Fatalf("%v", recs)
	}
}
