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
	want := []string{"env LC_ALL=C find /standby -mindepth 1 -maxdepth 1 -name 'db.*' -exec rm -f -- '{}' +",
		"env LC_ALL=C find /standby -mindepth 1 -maxdepth 1 -name server.locks -type d -exec rm -rf -- '{}' +"}
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

// A path that is not absolute is refused wherever the kind has no dir it
// could be relative to: find reads "-delete" as an action, and other
// programs read a leading "-" as an option.
func TestRelativePathsAreRefused(t *testing.T) {
	for _, tc := range []struct {
		key string
		v   Validator
	}{
		{"path", &Owner{Path: "-delete", Owner: "root", Recursive: true}},
		{"dir", &Owner{Dir: "p4root", Path: "db.1", Owner: "root"}},
		{"path", &Directory{Path: "-rf"}},
		{"path", &File{Path: "--help"}},
		{"path", &Line{Path: "../etc/hosts", Line: "x"}},
		{"src", &Move{Src: "-f", Dst: "/tmp/x"}},
		{"dst", &Move{Src: "/tmp/x", Dst: "x"}},
		{"dst", &Upload{Src: "a", Dst: "-rf"}},
		{"path", &Mount{Src: "h:/x", Path: "mnt", FSType: "nfs"}},
		{"fstab", &Mount{Src: "h:/x", Path: "/mnt", FSType: "nfs", Fstab: "fstab"}},
		{"src", &Mount{Src: "-o", Path: "/mnt", FSType: "nfs"}},
		{"creates", &Command{Argv: []string{"true"}, Creates: "-e"}},
		{"moved_to", &Transfer{Src: "/a", To: "h", Dst: "/b", MovedTo: "b"}},
	} {
		var keys []string
		for _, p := range tc.v.Validate() {
			keys = append(keys, p.Key)
		}
		if !slices.Contains(keys, tc.key) {
			t.Errorf("%+v: problems %v, want one about %s", tc.v, tc.v.Validate(), tc.key)
		}
	}
	o := Owner{Dir: "/p4/root", Path: "-delete", Owner: "root", Recursive: true}
	if ps := o.Validate(); len(ps) != 0 {
		t.Errorf("a name under an absolute dir refused: %v", ps)
	}
	if argv := o.find().Argv; argv[1] != "/p4/root/-delete" {
		t.Errorf("find starts at %q", argv[1])
	}
	if argv := (&Owner{Path: "-delete", Owner: "root"}).find().Argv; argv[1] != "./-delete" {
		t.Errorf("find without validation starts at %q, want ./-delete", argv[1])
	}
}

// dpkg-query and apt-get read package names as globs.
func TestPackageNames(t *testing.T) {
	for _, n := range []string{"x*", "lib?", "[a]pache", "-y", "--purge", "a b", "x;y", "", "é", "a/b", "a=1.0"} {
		if len((&Package{Name: "ok", Names: []string{n}}).Validate()) == 0 {
			t.Errorf("package name %q accepted", n)
		}
	}
	for _, n := range []string{"httpd", "perl-Data-Dumper", "libjpeg-turbo", "g++", "libc6:amd64", "nfs-utils", "python3.11", "libstdc++6"} {
		if ps := (&Package{Name: n}).Validate(); len(ps) != 0 {
			t.Errorf("package name %q refused: %v", n, ps)
		}
	}
	p := Package{Names: []string{"a", "b"}}
	for _, m := range []string{"apt-get", "dnf", "yum"} {
		argv := p.change(m).Argv
		if i := slices.Index(argv, "--"); i < 0 || i != len(argv)-3 {
			t.Errorf("%s: no -- right before the names: %q", m, argv)
		}
	}
}

func TestServiceNames(t *testing.T) {
	for _, n := range []string{"-rf", "--now", "a b", "x;y", "*", "a/b"} {
		if len((&Service{Name: n, State: "started"}).Validate()) == 0 {
			t.Errorf("service name %q accepted", n)
		}
	}
	for _, n := range []string{"nfs-server", "cyss_cbgrn", "getty@tty1.service", "dbus.socket"} {
		if ps := (&Service{Name: n, State: "started"}).Validate(); len(ps) != 0 {
			t.Errorf("service name %q refused: %v", n, ps)
		}
	}
	for _, op := range (&Service{Name: "x", State: "started"}).Plan().Check {
		if argv := op.Cmd.Argv; argv[len(argv)-2] != "--" {
			t.Errorf("no -- before the unit: %q", argv)
		}
	}
}
