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
	if len(recs) != 2 || recs[1]["serveroptions"] != "mandatory" || recs[0]["serverid"] != "master" {
		t.Fatalf("%v", recs)
	}
}

// p4 info says ServerID, servers -J says serverID: one lookup for both,
// and a missing field is an error naming it and showing the output.
func TestZtagCaseInsensitive(t *testing.T) {
	info := ztag("... userName super\n... ServerID standby\n")
	servers := ztag("... serverID standby\n... persistedJnl 3\n")
	for _, r := range []map[string]string{info[0], servers[0]} {
		if id, err := tagField(r, "ServerID", "p4 info", ""); err != nil || id != "standby" {
			t.Errorf("ServerID of %v: %q, %v", r, id, err)
		}
	}
	_, err := tagField(info[0], "masterJournalSequence", "p4 pull -lj", "... userName super\n")
	if err == nil || !strings.Contains(err.Error(), "masterJournalSequence") || !strings.Contains(err.Error(), "userName super") {
		t.Errorf("missing field: %v", err)
	}
}
