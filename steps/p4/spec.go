package p4

import (
	"context"
	"fmt"
	"io"
	"strings"

	"tejun/steps"
	"tejun/transport"
)

// form is a Perforce spec form, edited in place: fields keep their order,
// comments and every field and list line the step does not set.
type form struct {
	fields []field
}

type field struct {
	name  string
	value string   // single-line value
	list  []string // multi-line value (tab-indented lines)
	multi bool
}

func parseForm(text string) *form {
	f := &form{}
	for _, line := range strings.Split(text, "\n") {
		switch {
		case strings.HasPrefix(line, "#"), strings.TrimSpace(line) == "":
		case strings.HasPrefix(line, "\t") || strings.HasPrefix(line, " "):
			if n := len(f.fields); n > 0 {
				f.fields[n-1].list = append(f.fields[n-1].list, strings.TrimSpace(line))
				f.fields[n-1].multi = true
			}
		default:
			name, val, _ := strings.Cut(line, ":")
			val = strings.TrimSpace(val)
			f.fields = append(f.fields, field{name: strings.TrimSpace(name), value: val, multi: val == ""})
		}
	}
	return f
}

func (f *form) get(name string) *field {
	for i := range f.fields {
		if f.fields[i].name == name {
			return &f.fields[i]
		}
	}
	return nil
}

func (f *form) list(name string) []string {
	if fl := f.get(name); fl != nil {
		return fl.list
	}
	return nil
}

// set changes a single-value field, adding it when missing; it reports
// the change for the run's output.
func (f *form) set(name, value string) string {
	if value == "" {
		return ""
	}
	fl := f.get(name)
	if fl == nil {
		f.fields = append(f.fields, field{name: name, value: value})
		return name + " " + value
	}
	if fl.value == value {
		return ""
	}
	old := fl.value
	fl.value, fl.multi, fl.list = value, false, nil
	return fmt.Sprintf("%s %s → %s", name, old, value)
}

// ensureLines makes each line present in a list field; a line whose key
// (text before "=") is already there with another value is replaced.
func (f *form) ensureLines(name string, lines []string) []string {
	fl := f.get(name)
	if fl == nil {
		f.fields = append(f.fields, field{name: name, multi: true})
		fl = &f.fields[len(f.fields)-1]
	}
	var changed []string
	for _, want := range lines {
		key, _, hasKey := strings.Cut(want, "=")
		found := false
		for i, have := range fl.list {
			if have == want {
				found = true
				break
			}
			if k, _, ok := strings.Cut(have, "="); hasKey && ok && k == key {
				fl.list[i] = want
				found = true
				changed = append(changed, want)
				break
			}
		}
		if !found {
			fl.list = append(fl.list, want)
			changed = append(changed, want)
		}
	}
	fl.multi = true
	return changed
}

func (f *form) String() string {
	var b strings.Builder
	for _, fl := range f.fields {
		if fl.multi {
			fmt.Fprintf(&b, "%s:\n", fl.name)
			for _, l := range fl.list {
				fmt.Fprintf(&b, "\t%s\n", l)
			}
		} else {
			fmt.Fprintf(&b, "%s:\t%s\n", fl.name, fl.value)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// ztag parses -ztag output into records ("... field value" lines; a blank
// line or a repeated first field starts a new record). Field names are
// stored lower-case: Perforce spells the same field ServerID in p4 info
// and serverID in servers -J, and has changed spellings between releases,
// so lookups (always lower-case literals) must not depend on it.
func ztag(out string) []map[string]string {
	var recs []map[string]string
	var cur map[string]string
	first := ""
	for _, line := range strings.Split(out, "\n") {
		rest, ok := strings.CutPrefix(line, "... ")
		if !ok {
			if strings.TrimSpace(line) == "" {
				cur = nil
			}
			continue
		}
		k, v, _ := strings.Cut(rest, " ")
		k = strings.ToLower(k)
		if cur == nil || (k == first && cur[k] != "") {
			cur = map[string]string{}
			recs = append(recs, cur)
			first = k
		}
		cur[k] = v
	}
	return recs
}

// tagField is a tagged field that must be there: its absence is an error
// naming the field expected and the output got, never an empty value
// read as "not done".
func tagField(rec map[string]string, name, cmd, out string) (string, error) {
	if v, ok := rec[strings.ToLower(name)]; ok {
		return v, nil
	}
	return "", fmt.Errorf("%s: no field %s in its tagged output:\n%s", cmd, name, strings.TrimSpace(out))
}

// run runs a p4 command and returns stdout; p4's own error text is kept.
func run(ctx context.Context, env steps.Env, c transport.Cmd, stdin string) (string, error) {
	var in io.Reader // nil, not a nil *strings.Reader, when there is no input
	if stdin != "" {
		in = strings.NewReader(stdin)
	}
	return env.Run(ctx, c, in)
}

func stderrOf(err error) string {
	if ee, ok := err.(*transport.ExitError); ok {
		return ee.Stderr
	}
	return err.Error()
}
