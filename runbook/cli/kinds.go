package cli

import (
	"fmt"
	"io"
	"io/fs"
	"path"
	"reflect"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"

	"tejun/inventory/tomlsrc"
	"tejun/runbook"
	"tejun/steps"
)

func (a *App) kindsCommand() *cli.Command {
	return &cli.Command{
		Name:         "kinds",
		Usage:        "list the step kinds a runbook can use; with a KIND, its parameters, their types, what is required, and an example",
		ArgsUsage:    "[KIND...]",
		Flags:        []cli.Flag{&cli.BoolFlag{Name: "all", Usage: "describe every kind (as tejun help kinds does)"}},
		BashComplete: completeKinds,
		Action: func(c *cli.Context) error {
			reg := registry()
			names := reg.Names()
			sort.Strings(names)
			asked := c.Args().Slice()
			if c.Bool("all") {
				asked = names
			}
			if len(asked) == 0 {
				for _, n := range names {
					k, _ := reg.Lookup(n)
					fmt.Fprintf(a.stdout, "%s%s\n", n, kindTraits(k))
				}
				fmt.Fprintln(a.stdout, "\nEvery step also takes:")
				common := runbook.CommonKeyDocs()
				kw := 0
				for _, k := range common {
					kw = max(kw, len(k[0]))
				}
				for _, k := range common {
					for i, l := range wrap(k[1], docWidth-4-kw-2) {
						key := ""
						if i == 0 {
							key = k[0]
						}
						fmt.Fprintf(a.stdout, "    %-*s  %s\n", kw, key, l)
					}
				}
				fmt.Fprintln(a.stdout, "\ntejun kinds KIND describes one; tejun help kinds describes them all.")
				return nil
			}
			for i, n := range asked {
				k, ok := reg.Lookup(n)
				if !ok {
					hint := ""
					if near := tomlsrc.Closest(n, names); near != "" {
						hint = fmt.Sprintf(" (did you mean %q?)", near)
					}
					return invalid(fmt.Errorf("no step kind %q%s; tejun kinds lists them", n, hint))
				}
				if i > 0 {
					fmt.Fprintln(a.stdout)
				}
				a.describeKind(a.stdout, k)
			}
			return nil
		},
	}
}

// kindTraits are what the list says of a kind besides its name.
func kindTraits(k steps.Kind) string {
	flags := ""
	impl := k.New()
	if _, ok := impl.(steps.Waiter); ok {
		flags += " (verify: retries, interval)"
	}
	if _, ok := impl.(steps.Destroyer); ok {
		flags += " (may be destructive)"
	}
	if _, ok := impl.(steps.Runner); !ok {
		flags += " (dry-run only)"
	}
	return flags
}

// param is one parameter of a kind, read from its struct. doc is its doc
// struct tag, on the field's line: a new parameter without one fails
// TestEveryParameterDocumented.
type param struct {
	key, typ, def, doc string
}

// kindParams reads a kind's parameters from its struct's toml tags (and
// those of the structs it embeds), so the reference cannot drift from
// what the runbook parser accepts.
func kindParams(t reflect.Type) []param {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var out []param
	if t.Kind() != reflect.Struct {
		return nil
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name := strings.Split(f.Tag.Get("toml"), ",")[0]
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" {
			out = append(out, kindParams(f.Type)...)
			continue
		}
		if name == "" {
			continue
		}
		out = append(out, param{key: name, typ: tomlType(f.Type, f.Tag.Get("tejun")), def: f.Tag.Get("default"), doc: f.Tag.Get("doc")})
	}
	return out
}

// tomlType names a Go type as a runbook author writes it.
func tomlType(t reflect.Type, role string) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t.PkgPath() == "tejun/inventory" && t.Name() == "Text":
		return "text (ja/en)"
	case t.Kind() == reflect.String:
		switch role {
		case "path":
			return "path"
		case "shell":
			return "shell text"
		case "script":
			return "script"
		}
		return "string"
	case t.Kind() == reflect.Bool:
		return "boolean"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return "integer"
	case t.Kind() == reflect.Slice:
		return "array of " + tomlType(t.Elem(), role) + "s"
	case t.Kind() == reflect.Map:
		return "table of " + tomlType(t.Elem(), role) + "s"
	case t.Kind() == reflect.Struct:
		return "table"
	}
	return t.Kind().String()
}

// describeKind prints one kind's reference: its parameters (what an
// empty step of the kind is refused for says what is required), the keys
// every step has, and the first step of the kind in the bundled runbooks
// as an example (they are tested, so the example works).
func (a *App) describeKind(w io.Writer, k steps.Kind) {
	fmt.Fprintf(w, "%s%s\n", k.Name, kindTraits(k))
	impl := k.New()
	required := map[string][]string{}
	var general []string
	if v, ok := impl.(steps.Validator); ok {
		for _, p := range v.Validate() {
			key := strings.SplitN(p.Key, ".", 2)[0]
			key = strings.SplitN(key, "[", 2)[0]
			if key == "" {
				general = append(general, p.Msg)
			} else {
				required[key] = append(required[key], p.Msg)
			}
		}
	}
	ps := kindParams(reflect.TypeOf(impl))
	kw, tw := 3, 4
	for _, p := range ps {
		kw, tw = max(kw, len(p.key)), max(tw, len(p.typ))
	}
	fmt.Fprintln(w, "\n  Parameters:")
	if len(ps) == 0 {
		fmt.Fprintln(w, "    (none)")
	}
	for _, p := range ps {
		note := "optional"
		if p.def != "" {
			note = fmt.Sprintf("optional, default %q", p.def)
		}
		if msgs := required[p.key]; len(msgs) > 0 {
			note = "required: " + strings.Join(msgs, "; ")
		}
		fmt.Fprintf(w, "    %-*s  %-*s  %s\n", kw, p.key, tw, p.typ, note)
		indent := strings.Repeat(" ", 4+kw+2)
		for _, l := range wrap(p.doc, docWidth-len(indent)) {
			fmt.Fprintln(w, indent+l)
		}
	}
	for _, g := range general {
		fmt.Fprintf(w, "    (%s)\n", g)
	}
	fmt.Fprintln(w, "\n  Every step also takes: "+strings.Join(runbook.CommonKeys(), ", ")+" (title, note and explain in ja/en)")
	if file, ex := a.kindExample(k.Name); ex != "" {
		fmt.Fprintf(w, "\n  Example (%s):\n", file)
		for _, l := range strings.Split(strings.TrimRight(ex, "\n"), "\n") {
			fmt.Fprintln(w, "    "+l)
		}
	} else {
		fmt.Fprintln(w, "\n  No bundled runbook uses it yet.")
	}
}

// kindExample finds the first [[section.step]] of kind in the bundled
// runbooks (sorted by path) and returns it as written.
func (a *App) kindExample(kind string) (string, string) {
	if a.bundled == nil {
		return "", ""
	}
	var files []string
	fs.WalkDir(a.bundled, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && path.Ext(p) == ".toml" {
			files = append(files, p)
		}
		return nil
	})
	sort.Strings(files)
	want := fmt.Sprintf("kind = %q", kind)
	for _, f := range files {
		src, err := fs.ReadFile(a.bundled, f)
		if err != nil {
			continue
		}
		var block []string
		inStep := false
		flush := func() string {
			// Comments after a step's last key introduce the table that
			// follows (the next step or section), not this example.
			for len(block) > 0 {
				t := strings.TrimSpace(block[len(block)-1])
				if t != "" && !strings.HasPrefix(t, "#") {
					break
				}
				block = block[:len(block)-1]
			}
			for _, l := range block {
				if strings.TrimSpace(l) == want {
					return strings.Join(block, "\n")
				}
			}
			return ""
		}
		for _, l := range strings.Split(string(src), "\n") {
			if strings.HasPrefix(l, "[") {
				if inStep {
					if ex := flush(); ex != "" {
						return f, strings.TrimRight(ex, "\n ")
					}
				}
				inStep = strings.TrimSpace(l) == "[[section.step]]"
				block = nil
			}
			if inStep {
				block = append(block, l)
			}
		}
		if inStep {
			if ex := flush(); ex != "" {
				return f, strings.TrimRight(ex, "\n ")
			}
		}
	}
	return "", ""
}

// docWidth is where a parameter's description wraps: a terminal's 80
// columns less a margin, so the reference reads the same in a pager and in
// a man page.
const docWidth = 78

// wrap breaks s into lines of at most width columns, between words.
func wrap(s string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(s) {
		if line != "" && len(line)+1+len(w) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}
