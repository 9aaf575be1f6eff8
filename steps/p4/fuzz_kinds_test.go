package p4_test

import (
	"errors"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"

	"tejun/steps"
	"tejun/steps/p4"
	"tejun/steps/stepstest"
	"tejun/transport"
)

// FuzzKindCommands puts an arbitrary value into every parameter of every
// registered kind (as hostile_test.go does on a real host)
// and hands each command line a step would send, as quoted for SSH, to a
// real /bin/sh: the words the shell passes on must be exactly the
// command's argv. A kind's Validate may refuse the value instead.
func FuzzKindCommands(f *testing.F) {
	for _, v := range stepstest.HostilePayloads {
		f.Add(v)
	}
	f.Add("é 漢字\t\\\r")
	reg := steps.NewRegistry(append(steps.Generic(), p4.Kinds()...)...)
	f.Fuzz(func(t *testing.T, v string) {
		var script strings.Builder
		var want [][]string
		script.WriteString("f() { printf '%d\\0' $#; printf '%s\\0' \"$@\"; }\n")
		for _, name := range reg.Names() {
			kind, _ := reg.Lookup(name)
			for _, variant := range []string{"raw", "abs", "names"} {
				s := kind.New()
				stepstest.FillHostile(s, variant, v)
				if fix := stepstest.Fixups[name]; fix != nil {
					fix(s, variant, v, "/local/upload.txt")
				}
				if val, ok := s.(steps.Validator); ok && len(val.Validate()) > 0 {
					continue
				}
				plan := s.Plan()
				for _, op := range append(plan.Check, plan.Apply...) {
					if op.Action != "" {
						continue
					}
					line, err := op.Cmd.Line()
					if errors.Is(err, transport.ErrNUL) {
						continue // no command line can carry it; the command is refused
					}
					if err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					script.WriteString("f " + line + "\n")
					want = append(want, op.Cmd.Words())
				}
			}
		}
		if len(want) == 0 {
			t.Fatal("no command of any kind was checked")
		}
		cmd := exec.Command("/bin/sh", "-s") // the script on stdin: it can outgrow an argument
		cmd.Stdin = strings.NewReader(script.String())
		cmd.Env = []string{"PATH=/usr/bin:/bin", "LC_ALL=C"}
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("/bin/sh: %v", err)
		}
		fields := strings.Split(string(out), "\x00")
		for i, w := range want {
			if len(fields) == 0 {
				t.Fatalf("command %d of %d: the shell printed nothing for %q", i, len(want), w)
			}
			n, err := strconv.Atoi(fields[0])
			if err != nil || len(fields) < n+1 {
				t.Fatalf("command %d: bad count %q", i, fields[0])
			}
			got := fields[1 : n+1]
			fields = fields[n+1:]
			if !slices.Equal(got, w) {
				t.Fatalf("value %q: the shell split %q into %q", v, w, got)
			}
		}
		if len(fields) != 1 || fields[0] != "" {
			t.Fatalf("the shell printed more words than the commands have: %q", fields)
		}
	})
}
