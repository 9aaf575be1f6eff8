package p4

import (
	"context"
	"strings"
	"testing"

	"tejun/transport/transporttest"
)

const (
	inventoryFP = "CA:BE:5B:77:14:1B:2E:97:F0:5F:31:6E:33:6F:0E:1A:E9:DA:EF:E2"
	otherFP     = "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33"
)

func mismatch(fp string) transporttest.Reply {
	return transporttest.Reply{Code: 1, Stderr: "******* WARNING P4PORT IDENTIFICATION HAS CHANGED! *******\nIt is possible that someone is intercepting your connection\nto the Perforce P4PORT '10.0.0.1:1666'\nIf this is not a scheduled key change, then you should contact\nyour Perforce administrator.\nThe fingerprint for the mismatched key sent to your client is\n" + fp + "\nTo allow connection use the 'p4 trust' command.\n"}
}

// The client already connects, but with a key trusted before (p4 trust -y
// to whatever answered) that is not the inventory's: the server is not
// proven to be the one named, so the check fails instead of finding it
// done or trusting on.
func TestTrustRefusesAnotherTrustedKey(t *testing.T) {
	h := transporttest.New().On(`-ztag info$`, transporttest.Reply{Stdout: "... ServerID master\n"}).On(`trust -l$`, transporttest.Reply{Stdout: "10.0.0.1:1666 " + otherFP + "\n"})
	tr := &Trust{Port: "ssl:m:1666", Fingerprint: inventoryFP}
	if ps := tr.Validate(); len(ps) != 0 {
		t.Fatal(ps)
	}
	_, err := tr.Check(context.Background(), &hostEnv{name: "h", hosts: map[string]*transporttest.Fake{"h": h}})
	if err == nil || !strings.Contains(err.Error(), "other than the inventory's fingerprint") {
		t.Fatalf("a key other than the inventory's passed: %v", err)
	}
}

// After p4 trust -i, a server presenting another key is named with the
// key it sent, and the step fails; -y is never used.
func TestTrustInstallThenMismatchStops(t *testing.T) {
	h := transporttest.New().On(`-ztag info$`, mismatch(otherFP)).On(`trust -i `, transporttest.Reply{Stdout: "Added trust for P4PORT 'ssl:m:1666' (10.0.0.1:1666)\n"})
	env := &hostEnv{name: "h", hosts: map[string]*transporttest.Fake{"h": h}}
	tr := &Trust{Port: "ssl:m:1666", Fingerprint: inventoryFP}
	st, err := tr.Check(context.Background(), env)
	if err != nil || st.Done {
		t.Fatalf("a mismatched key is work to do, not done: %+v %v", st, err)
	}
	err = tr.Apply(context.Background(), env)
	if err == nil || !strings.Contains(err.Error(), "presents the key "+otherFP) || !strings.Contains(err.Error(), inventoryFP) {
		t.Fatalf("apply against another key: %v", err)
	}
	h.AssertReceived(t, `p4 -p ssl:m:1666 trust -i `+inventoryFP+`$`)
	for _, l := range h.Received() {
		if strings.Contains(l, "trust -y") || strings.Contains(l, "trust -f") {
			t.Errorf("trusted blindly: %s", l)
		}
	}
}

// A tcp port needs no trust, and a fingerprint for one is refused (the
// operator expected encryption); a malformed fingerprint is refused.
func TestTrustValidate(t *testing.T) {
	if st, err := (&Trust{Port: "m:1666"}).Check(context.Background(), nil); err != nil || !st.Done {
		t.Errorf("tcp port: %+v %v", st, err)
	}
	for _, tr := range []*Trust{{Port: "m:1666", Fingerprint: inventoryFP}, {Port: "ssl:m:1666"}, {Port: "ssl:m:1666", Fingerprint: "-y"}, {Port: "-pssl:m:1", Fingerprint: inventoryFP}} {
		if ps := tr.Validate(); len(ps) == 0 {
			t.Errorf("%+v accepted", tr)
		}
	}
}
