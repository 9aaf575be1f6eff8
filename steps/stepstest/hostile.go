package stepstest

import (
	"reflect"
	"strings"

	"tejun/steps"
)

// The hostile instances of every kind, shared by the fuzz test of the
// commands' quoting (steps/p4) and the tests that run them on a real host
// (steps/p4, steps): one table of how each kind is attacked, so a new kind
// is added once.

// HostilePayloads are values an inventory or template may hand a step. The
// ones that would run something if a shell ever read them touch a marker
// in /tmp; the rest are options, globs and traversals a program could take
// for more than a name.
var HostilePayloads = []string{
	"-rf", "-delete", "--help", "../..", "*",
	"; touch /tmp/pwned-semi #", "$(touch /tmp/pwned-subst)", "`touch /tmp/pwned-tick`",
	"x\ntouch /tmp/pwned-newline", `a"b'c`, "nul\x00byte", "esc\x1b[2J",
}

// Sandbox is where an absolute hostile path points: deep enough that
// "../.." stays inside it, so what the step legitimately does to the path
// it was given never reaches the canaries.
const Sandbox = "/root/adv/a/b/c/w"

// pathKeys are the parameters that name a path on the host.
var pathKeys = map[string]bool{"path": true, "dir": true, "src": true, "dst": true, "root": true,
	"fstab": true, "creates": true, "moved_to": true, "tickets": true}

// benign are the values of non-path parameters when only the path is
// hostile: enough for the step to reach its commands.
var benign = map[string]string{"owner": "root", "group": "root", "user": "super", "port": "127.0.0.1:9",
	"to": "adv", "standby": "adv", "secret": "pw", "line": "tejun line", "content": "tejun content\n",
	"mode": "0644", "pattern": ".", "wait": "1s", "fstype": "nfs", "show": "", "options": "", "state": "",
	"type": "", "regexp": "", "become": "", "as": "", "master_port": "", "prefix": "ckp", "checkpoint": "ckp.1"}

// Fixups hold, for every registered kind, what a hostile instance needs
// to be runnable at all (an enum, a local source file). A kind without an
// entry fails the test: a new kind must say how it is attacked.
var Fixups = map[string]func(s steps.Step, variant, v, local string){
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
	// A port without ssl: makes it a no-op, and a fingerprint is checked
	// for its form: the hostile value goes to the trust file.
	"p4.trust": func(s steps.Step, _, _, _ string) {
		t := reflect.ValueOf(s).Elem()
		t.FieldByName("Port").SetString("ssl:m:1666")
		t.FieldByName("Fingerprint").SetString("CA:BE:5B:77:14:1B:2E:97:F0:5F:31:6E:33:6F:0E:1A:E9:DA:EF:E2")
	},
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

// FillHostile sets every string parameter (and string list) of s for one
// variant: "raw" puts the payload itself in path parameters, "abs" puts it
// under the sandbox, "names" puts it in every other parameter.
func FillHostile(s steps.Step, variant, v string) {
	var fill func(rv reflect.Value, key string)
	fill = func(rv reflect.Value, key string) {
		value := func() string {
			switch {
			case key == "as":
				return "" // the deprecated alias of become, which gets the value
			case pathKeys[key] && variant == "raw":
				return v
			case pathKeys[key] && variant == "abs":
				return Sandbox + "/" + v
			case pathKeys[key]:
				return Sandbox + "/x"
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
