package steps

import (
	"slices"
	"strings"
	"testing"
)

// Every kind refuses to be used with no parameters where that makes no
// sense, naming the key to fix.
func TestZeroParametersAreRefused(t *testing.T) {
	wantKeys := map[string][]string{
		"command":         {"argv"},
		"manual":          {"instruction"},
		"directory":       {"path"},
		"owner":           {"path", "owner"},
		"move":            {"src", "dst"},
		"remove":          {"dir", "paths"},
		"transfer":        {"src", "to", "dst"},
		"upload":          {"src", "dst"},
		"service":         {"name", "state"},
		"wait_until":      {"argv"},
		"wait_fields":     {"argv", "expect"},
		"log_match":       {"pattern"},
		"secret_env_file": {"path", "exports"},
		"file":            {"path"},
		"line":            {"path", "line"},
		"package":         {"name"},
		"mount":           {"src", "path", "fstype"},
		"reboot":          {"check", "pattern"},
	}
	for _, k := range Generic() {
		v, ok := k.New().(Validator)
		if !ok {
			t.Errorf("%s has no validation", k.Name)
			continue
		}
		var keys []string
		for _, p := range v.Validate() {
			if !slices.Contains(keys, p.Key) {
				keys = append(keys, p.Key)
			}
		}
		if !slices.Equal(keys, wantKeys[k.Name]) {
			t.Errorf("%s: problems about %v, want %v", k.Name, keys, wantKeys[k.Name])
		}
	}
}

func TestRemoveStaysInsideDir(t *testing.T) {
	for _, r := range []Remove{
		{Dir: "/", Paths: []string{"db.*"}},
		{Dir: "/standby", Paths: []string{"../etc"}},
		{Dir: "/standby", Paths: []string{"a/b"}},
		{Dir: "standby", Paths: []string{"db.*"}},
		{Dir: "/standby", Paths: []string{"[z-a"}},
	} {
		if len(r.Validate()) == 0 {
			t.Errorf("remove %+v accepted", r)
		}
	}
	r := Remove{Dir: "/standby", Paths: []string{"db.*", "server.locks/"}}
	if ps := r.Validate(); len(ps) != 0 {
		t.Fatalf("the manual's remove refused: %v", ps)
	}
	p := r.Plan()
	want := []string{"find /standby -mindepth 1 -maxdepth 1 -name 'db.*' -exec rm -f -- '{}' +",
		"find /standby -mindepth 1 -maxdepth 1 -name server.locks -type d -exec rm -rf -- '{}' +"}
	for i, op := range p.Apply {
		if op.Cmd.Shell != "" || op.Cmd.String() != want[i] {
			t.Errorf("apply %d = %s, want %s", i, op.Cmd.String(), want[i])
		}
	}
}

func TestMoveAndTransferTargets(t *testing.T) {
	m := Move{Src: "/tmp/ckp.1", Dst: "/standby/"}
	if m.target() != "/standby/ckp.1" {
		t.Errorf("move target %s", m.target())
	}
	tr := Transfer{Src: "/master/ckp.1", To: "standby", Dst: "/tmp/"}
	if got := tr.Outputs(); got["path"] != "/tmp/ckp.1" || got["file"] != "ckp.1" {
		t.Errorf("transfer outputs %v", got)
	}
	if tr.Plan().Check[0].Host != "standby" {
		t.Error("the destination's checksum is not taken on the destination")
	}
}

func TestManualLineShowsRunAs(t *testing.T) {
	d := Directory{Path: "/p4 root", Owner: "perforce", RunAs: RunAs{Become: "perforce"}}
	got := d.Describe("ja").Blocks[0].Lines
	want := []string{"sudo -u perforce mkdir '/p4 root'", "sudo -u perforce chown perforce '/p4 root'"}
	if !slices.Equal(got, want) {
		t.Errorf("manual lines %q, want %q", got, want)
	}
	for _, op := range d.Plan().Apply {
		if !strings.HasPrefix(op.Cmd.String(), "sudo -n -u perforce -- ") {
			t.Errorf("tejun's command does not use sudo -n: %s", op.Cmd.String())
		}
	}
}
