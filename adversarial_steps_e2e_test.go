package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"tejun/steps"
	"tejun/transport"
	"tejun/transport/ssh"
	"tejun/transport/testbed"
)

// hostilePayloads are values an inventory or template may hand a step. The
// ones that would run something if a shell ever read them touch a marker
// in /tmp; the rest are options, globs and traversals a program could take
// for more than a name.
var hostilePayloads = []string{
	"-rf", "-delete", "--help", "../..", "*",
	"; touch /tmp/pwned-semi #", "$(touch /tmp/pwned-subst)", "`touch /tmp/pwned-tick`",
	"x\ntouch /tmp/pwned-newline", `a"b'c`, "nul\x00byte", "esc\x1b[2J",
}

// advSandbox is where an absolute hostile path points: deep enough that
// "../.." stays inside it, so what the step legitimately does to the path
// it was given never reaches the canaries.
const advSandbox = "/root/adv/a/b/c/w"

// pathKeys are the parameters that name a path on the host.
var pathKeys = map[string]bool{"path": true, "dir": true, "src": true, "dst": true, "root": true,
	"fstab": true, "creates": true, "moved_to": true, "tickets": true}

// benign are the values of non-path parameters when only the path is
// hostile: enough for the step to reach its commands.
var benign = map[string]string{"owner": "root", "group": "root", "user": "super", "port": "127.0.0.1:9",
	"to": "adv", "standby": "adv", "secret": "pw", "line": "tejun line", "content": "tejun content\n",
	"mode": "0644", "pattern": ".", "wait": "1s", "fstype": "nfs", "show": "", "options": "", "state": "",
	"type": "", "regexp": "", "become": "", "as": "", "master_port": "", "prefix": "ckp", "checkpoint": "ckp.1"}

// advFixups hold, for every registered kind, what a hostile instance needs
// to be runnable at all (an enum, a local source file). A kind without an
// entry fails the test: a new kind must say how it is attacked.
var advFixups = map[string]func(s steps.Step, variant, v, local string){
	"command": func(s steps.Step, _, v, _ string) {
		c := s.(*steps.Command)
		c.Shell, c.ReadOnly = "", false
		c.Argv, c.Unless, c.OnlyIf = []string{"printf", "%s", v}, []string{"test", "-e", v}, []string{"test", "!", "-e", v}
	},
	"manual": nil,
	"directory": func(s steps.Step, _, _, _ string) {
		d := s.(*steps.Directory)
		d.Mode = "2755"
	},
	"owner": func(s steps.Step, variant, _, _ string) {
		o := s.(*steps.Owner)
		o.Recursive = true
		if variant == "raw" {
			o.Dir = "" // the reviewer's case: path "-delete", no dir
		}
	},
	"move":     nil,
	"remove":   nil,
	"transfer": nil,
	"upload": func(s steps.Step, _, _, local string) {
		s.(*steps.Upload).Src = local
	},
	"service": func(s steps.Step, _, _, _ string) {
		s.(*steps.Service).State = "started"
	},
	"wait_until": func(s steps.Step, _, v, _ string) {
		w := s.(*steps.WaitUntil)
		w.Argv, w.Pattern = []string{"printf", "%s", v}, "."
	},
	"file": nil,
	"line": func(s steps.Step, _, _, _ string) {
		l := s.(*steps.Line)
		l.Create, l.State, l.Regexp = true, "", ""
	},
	"package": func(s steps.Step, _, _, _ string) {
		s.(*steps.Package).State = "" // present: a hostile removal is refused before it runs anyway
	},
	"mount": func(s steps.Step, _, _, _ string) {
		s.(*steps.Mount).State = "present"
	},
	"reboot": func(s steps.Step, _, v, _ string) {
		r := s.(*steps.Reboot)
		r.CheckArgv, r.Pattern = []string{"printf", "%s", v}, "x"
	},
	"p4.server": nil, "p4.user": nil, "p4.passwd": nil, "p4.protect": nil, "p4.checkpoint": nil,
	"p4.server_id": nil, "p4.restore": nil, "p4.login": nil, "p4.ticket": nil, "p4.pull": nil,
	"p4.servers": nil, "p4.failover": nil, "p4dctl": func(s steps.Step, _, _, _ string) {
		reflect.ValueOf(s).Elem().FieldByName("State").SetString("started")
	},
	"p4.parity": nil, "p4.logout": nil, "p4.info": nil, "p4.group": nil,
	// A DNS alias makes both a no-op: attacked without one.
	"p4.target": func(s steps.Step, _, _, _ string) {
		t := reflect.ValueOf(s).Elem()
		t.FieldByName("Alias").SetString("")
		t.FieldByName("OSUser").SetString("")
		t.FieldByName("Show").SetString("")
	},
	"p4.configure": func(s steps.Step, _, _, _ string) {
		c := reflect.ValueOf(s).Elem()
		c.FieldByName("Alias").SetString("")
		c.FieldByName("Show").SetString("")
	},
	"wait_fields": func(s steps.Step, _, v, _ string) {
		w := s.(*steps.WaitFields)
		w.Argv, w.Expect = []string{"printf", "x = %s", v}, []string{"x != tejun-adv-never"}
	},
	"log_match": nil,
	"secret_env_file": func(s steps.Step, _, v, _ string) {
		e := s.(*steps.SecretEnvFile)
		e.Mode, e.Exports = "", []string{"TEJUN_ADV = pw"}
	},
}

// fillHostile sets every string parameter (and string list) of s for one
// variant: "raw" puts the payload itself in path parameters, "abs" puts it
// under the sandbox, "names" puts it in every other parameter.
func fillHostile(s steps.Step, variant, v string) {
	var fill func(rv reflect.Value, key string)
	fill = func(rv reflect.Value, key string) {
		value := func() string {
			switch {
			case key == "as":
				return "" // the deprecated alias of become, which gets the value
			case pathKeys[key] && variant == "raw":
				return v
			case pathKeys[key] && variant == "abs":
				return advSandbox + "/" + v
			case pathKeys[key]:
				return advSandbox + "/x"
			case variant == "names":
				return v
			}
			if b, ok := benign[key]; ok {
				return b
			}
			return "tejun-adv"
		}
		switch rv.Kind() {
		case reflect.String:
			rv.SetString(value())
		case reflect.Slice:
			if rv.Type().Elem().Kind() == reflect.String {
				rv.Set(reflect.ValueOf([]string{value()}))
			}
		case reflect.Struct:
			t := rv.Type()
			for i := 0; i < t.NumField(); i++ {
				f := t.Field(i)
				if !f.IsExported() && !f.Anonymous {
					continue // an embedded unexported struct (writeAs) holds keys too
				}
				name := strings.Split(f.Tag.Get("toml"), ",")[0]
				if f.Anonymous {
					name = key
				}
				fill(rv.Field(i), name)
			}
		}
	}
	fill(reflect.ValueOf(s).Elem(), "")
}

// advEnv is a step's view of the one test host, as the executor gives it.
type advEnv struct {
	c     *ssh.Conn
	local string
}

func (e *advEnv) Host() string { return "adv" }
func (e *advEnv) Run(ctx context.Context, cmd transport.Cmd, stdin io.Reader) (string, error) {
	return transport.Output(ctx, e.c, cmd, stdin)
}
func (e *advEnv) Files() (transport.Files, error)       { return e.c, nil }
func (e *advEnv) On(string) (steps.Env, error)          { return e, nil }
func (e *advEnv) Secret(string) ([]byte, error)         { return []byte("pw"), nil }
func (e *advEnv) Confirm(context.Context, string) error { return steps.ErrNoOperator }
func (e *advEnv) Dir() string                           { return e.local }

// advSnapshot records, for every file under the host's roots, its type, mode,
// owner, size, content hash and link target: anything a step did outside
// the sandbox shows as a difference.
func advSnapshot(t *testing.T, h *testbed.Host, deep []string, shallow []string) map[string]string {
	t.Helper()
	out := map[string]string{}
	describe := func(p string, fi fs.FileInfo) string {
		st := fi.Sys().(*syscall.Stat_t)
		d := fmt.Sprintf("%v %o %d:%d", fi.Mode().Type(), fi.Mode().Perm()|fi.Mode()&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky), st.Uid, st.Gid)
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			d += " -> " + target
		case fi.Mode().IsRegular():
			b, _ := os.ReadFile(p)
			sum := sha256.Sum256(b)
			d += fmt.Sprintf(" %d %s", fi.Size(), hex.EncodeToString(sum[:]))
		}
		return d
	}
	for _, root := range deep {
		filepath.Walk(h.Path(root), func(p string, fi fs.FileInfo, err error) error {
			if err != nil {
				out[p] = "error " + err.Error()
				return nil
			}
			if p == h.Path("/root/adv") {
				return filepath.SkipDir
			}
			out[p] = describe(p, fi)
			return nil
		})
	}
	for _, dir := range shallow {
		fi, err := os.Lstat(h.Path(dir))
		if err != nil {
			t.Fatal(err)
		}
		out[h.Path(dir)] = describe(h.Path(dir), fi)
		entries, _ := os.ReadDir(h.Path(dir))
		for _, e := range entries {
			p := filepath.Join(h.Path(dir), e.Name())
			if fi, err := os.Lstat(p); err == nil {
				out[p] = describe(p, fi)
			}
		}
	}
	return out
}

func diffSnapshots(before, after map[string]string) []string {
	var d []string
	for p, b := range before {
		if a, ok := after[p]; !ok {
			d = append(d, "gone: "+p)
		} else if a != b {
			d = append(d, "changed: "+p+": "+b+" → "+a)
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			d = append(d, "new: "+p)
		}
	}
	sort.Strings(d)
	return d
}

// TestHostileValuesDoOnlyWhatTheyName runs every registered kind's Check
// and Apply with hostile values on a real sshd host, logged in as root,
// and then looks inside the host: a canary tree in the login's home, in /
// and /etc must be exactly as it was, and no marker a shell would have
// created may exist. A value is either refused by Validate or reaches its
// program as exactly the name of a thing in the sandbox.
func TestHostileValuesDoOnlyWhatTheyName(t *testing.T) {
	b := testbed.Start(t, "adv")
	h := b.Hosts[0]
	sim := simulator(t)
	h.Install(t, sim, "p4", "p4d", "p4dctl")
	for _, tool := range []string{"systemctl", "mount", "findmnt"} {
		h.Install(t, "testdata/stand-ins/"+tool)
	}
	for _, d := range []string{"/root/canary/sub", "/root/canary/-rf", "/canary-top", advSandbox} {
		if err := os.MkdirAll(h.Path(d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"/root/keep.txt", "/root/canary/a.txt", "/root/canary/-delete", "/root/canary/*", "/root/canary/sub/b.txt", "/canary-top/x", "/root/canary/-rf/c"} {
		if err := os.WriteFile(h.Path(f), []byte("canary "+f+"\n"), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("/etc/passwd", h.Path("/root/canary/link")); err != nil {
		t.Fatal(err)
	}
	local := t.TempDir()
	if err := os.WriteFile(filepath.Join(local, "upload.txt"), []byte("upload\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := ssh.Dial(context.Background(), ssh.Config{Name: h.Name, Address: h.Address, Port: h.Port, User: "root",
		IdentityFiles: []string{b.KeyFile}, KnownHosts: []string{b.KnownHosts}, AgentSocket: "/nonexistent"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	env := &advEnv{c: c, local: local}
	deep, shallow := []string{"/root", "/canary-top", "/etc"}, []string{"/", "/home", "/usr/local/bin"}
	reg := registry()
	for _, name := range reg.Names() {
		if _, ok := advFixups[name]; !ok {
			t.Errorf("kind %s has no entry in advFixups: say how hostile values reach it", name)
		}
	}
	ctx := context.Background()
	for _, name := range reg.Names() {
		fix, ok := advFixups[name]
		if !ok {
			continue
		}
		kind, _ := reg.Lookup(name)
		before := advSnapshot(t, h, deep, shallow)
		ran := 0
		for _, variant := range []string{"raw", "abs", "names"} {
			for _, v := range hostilePayloads {
				s := kind.New()
				fillHostile(s, variant, v)
				if fix != nil {
					fix(s, variant, v, filepath.Join(local, "upload.txt"))
				}
				if val, ok := s.(steps.Validator); ok && len(val.Validate()) > 0 {
					continue // refused: nothing runs
				}
				r, ok := s.(steps.Runner)
				if !ok {
					continue
				}
				ran++
				// A deadline, not a timing: a check that hangs (cat on a
				// FIFO) fails here instead of stopping the suite.
				ictx, cancel := context.WithTimeout(ctx, time.Minute)
				if _, err := r.Check(ictx, env); ictx.Err() != nil {
					t.Errorf("%s %s %q: the check hung: %v", name, variant, v, err)
				}
				if _, manual := s.(*steps.Manual); !manual {
					r.Apply(ictx, env)
				}
				cancel()
			}
		}
		if diff := diffSnapshots(before, advSnapshot(t, h, deep, shallow)); len(diff) > 0 {
			t.Errorf("%s with hostile values changed the host outside the sandbox:\n%s", name, strings.Join(diff, "\n"))
		}
		t.Logf("%s: %d hostile instances ran", name, ran)
	}
	markers, _ := filepath.Glob(h.Path("/tmp/pwned-*"))
	if len(markers) > 0 {
		t.Errorf("a hostile value was run by a shell: %v", markers)
	}
}

// advHost starts one test-bed host and gives a root Env on it.
func advHost(t *testing.T) (*testbed.Host, *advEnv) {
	t.Helper()
	b := testbed.Start(t, "adv")
	h := b.Hosts[0]
	c, err := ssh.Dial(context.Background(), ssh.Config{Name: h.Name, Address: h.Address, Port: h.Port, User: "root",
		IdentityFiles: []string{b.KeyFile}, KnownHosts: []string{b.KnownHosts}, AgentSocket: "/nonexistent"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return h, &advEnv{c: c, local: t.TempDir()}
}

// TestFileAndLineReadOnlyRegularFiles: a file or line step whose path is a
// FIFO (cat waited forever), a device (/dev/zero filled memory), a
// directory, a file over MaxRead or a symlink without follow stops with a
// message saying so, and leaves the thing alone. With follow the check
// reads the link's target.
func TestFileAndLineReadOnlyRegularFiles(t *testing.T) {
	h, env := advHost(t)
	if err := os.MkdirAll(h.Path("/root/t/dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(h.Path("/root/t/fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(h.Path("/root/t/target"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/root/t/target", h.Path("/root/t/link")); err != nil {
		t.Fatal(err)
	}
	big, err := os.Create(h.Path("/root/t/big"))
	if err != nil {
		t.Fatal(err)
	}
	big.Truncate(steps.MaxRead + 1) // sparse: costs no disk
	big.Close()
	// A /dev/zero of the host's own: its /dev is the test machine's, bound
	// in, and a write that replaced /dev/zero there would replace the
	// machine's.
	if err := syscall.Mknod(h.Path("/root/t/zero"), syscall.S_IFCHR|0o666, 1<<8|5); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct{ path, want string }{
		{"/root/t/fifo", "is a FIFO, not a regular file"},
		{"/root/t/zero", "is a device, not a regular file"},
		{"/root/t/dir", "is a directory, not a regular file"},
		{"/root/t/big", "more than the 64 MiB"},
		{"/root/t/link", "is a symlink; set follow = true to edit its target"},
	} {
		for _, s := range []steps.Runner{
			&steps.Line{Path: tc.path, Line: "x", Create: true},
			&steps.Line{Path: tc.path, Regexp: "^x", State: "absent"},
			&steps.File{Path: tc.path, Content: "x\n"}, // last: it may replace a big file
		} {
			ictx, cancel := context.WithTimeout(ctx, time.Minute)
			_, err := s.Check(ictx, env)
			if ictx.Err() != nil {
				t.Errorf("%T on %s: the check hung", s, tc.path)
			} else if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%T on %s: check error %v, want %q", s, tc.path, err, tc.want)
			}
			if _, file := s.(*steps.File); file && tc.path == "/root/t/big" {
				// Replacing a big file needs no reading it: only its check refuses.
			} else if err := s.Apply(ictx, env); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%T on %s: apply error %v, want %q", s, tc.path, err, tc.want)
			}
			cancel()
		}
	}
	// Checksums too: sha256sum on a FIFO waits forever.
	if err := os.WriteFile(filepath.Join(env.local, "up"), []byte("up\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, s := range []steps.Runner{
		&steps.Upload{Src: "up", Dst: "/root/t/fifo"},
		&steps.Transfer{Src: "/root/t/target", To: "adv", Dst: "/root/t/fifo"},
		&steps.Transfer{Src: "/root/t/fifo", To: "adv", Dst: "/root/t/target"},
	} {
		ictx, cancel := context.WithTimeout(ctx, time.Minute)
		_, err := s.Check(ictx, env)
		if ictx.Err() != nil {
			t.Errorf("%+v: the check hung", s)
		} else if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("%+v: check error %v, want one saying the FIFO is not a regular file", s, err)
		}
		cancel()
	}
	if fi, err := os.Lstat(h.Path("/root/t/fifo")); err != nil || fi.Mode().Type() != fs.ModeNamedPipe {
		t.Errorf("the FIFO was replaced: %v %v", fi, err)
	}
	if fi, err := os.Lstat(h.Path("/root/t/link")); err != nil || fi.Mode().Type() != fs.ModeSymlink {
		t.Errorf("the symlink was replaced: %v %v", fi, err)
	}
	for _, tc := range []struct {
		s    steps.Runner
		done bool
	}{
		{&steps.File{Path: "/root/t/link", Content: "hello\n", Follow: true}, true},
		{&steps.File{Path: "/root/t/link", Content: "bye\n", Follow: true}, false},
		{&steps.Line{Path: "/root/t/link", Line: "hello", Follow: true}, true},
		{&steps.Line{Path: "/root/t/link", Line: "bye", Follow: true}, false},
	} {
		st, err := tc.s.Check(ctx, env)
		if err != nil || st.Done != tc.done {
			t.Errorf("%+v: check %+v, %v; want done=%v (the link's target says hello)", tc.s, st, err, tc.done)
		}
	}
}

// TestDirectoryKeepsSetIDBits: a directory with an owner and a mode such as
// 2755 ends with both, and a second check finds it done.
func TestDirectoryKeepsSetIDBits(t *testing.T) {
	h, env := advHost(t)
	ctx := context.Background()
	for _, mode := range []string{"4755", "2755", "6750"} {
		d := &steps.Directory{Path: "/srv/d" + mode, Owner: "perforce", Group: "perforce", Mode: mode}
		if err := d.Apply(ctx, env); err != nil {
			t.Fatal(err)
		}
		if err := d.Verify(ctx, env); err != nil {
			t.Errorf("mode %s: %v", mode, err)
		}
		fi, err := os.Stat(h.Path(d.Path))
		if err != nil {
			t.Fatal(err)
		}
		got := fmt.Sprintf("%o", fi.Mode().Perm()|fi.Mode()&(fs.ModeSetuid|fs.ModeSetgid))
		want := map[string]string{"4755": "40000755", "2755": "20000755", "6750": "60000750"}[mode]
		if st := fi.Sys().(*syscall.Stat_t); got != want || st.Uid != 1666 || st.Gid != 1666 {
			t.Errorf("mode %s: the host has %s %d:%d", mode, got, st.Uid, st.Gid)
		}
	}
}
