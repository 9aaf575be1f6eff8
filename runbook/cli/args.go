package cli

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"
)

// interspersed moves a command's flags ahead of its arguments, and spells
// each by its own name. urfave/cli v2
// stops reading flags at the first argument, yet people type
// "tejun dry-run FILE --lang en" as they would with any other tool. A flag
// that takes a value keeps its value; "--" ends the reordering.
func interspersed(app *cli.App, args []string) []string {
	// Completion's marker must stay last, where urfave looks for it.
	if n := len(args); n > 1 && args[n-1] == "--generate-bash-completion" {
		return append(interspersed(app, args[:n-1]), args[n-1])
	}
	// The command is the first word after the global flags (-F FILE).
	at := 1
	globalValue := map[string]bool{}
	for _, f := range app.Flags {
		_, isBool := f.(*cli.BoolFlag)
		for _, n := range f.Names() {
			globalValue[n] = !isBool
		}
	}
	for at < len(args) && strings.HasPrefix(args[at], "-") && args[at] != "-" && args[at] != "--" {
		name := strings.TrimLeft(args[at], "-")
		if !strings.Contains(name, "=") && globalValue[name] {
			at++
		}
		at++
	}
	if at >= len(args) {
		return args
	}
	var cmd *cli.Command
	for _, c := range app.Commands {
		if c.HasName(args[at]) {
			cmd = c
		}
	}
	if cmd == nil {
		return args
	}
	takesValue := map[string]bool{}
	primary := map[string]string{}
	for _, f := range cmd.Flags {
		_, isBool := f.(*cli.BoolFlag)
		for _, n := range f.Names() {
			takesValue[n] = !isBool
			primary[n] = f.Names()[0]
		}
	}
	var flags, rest []string
	for i := at + 1; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			rest = append(rest, args[i:]...)
			i = len(args)
		case strings.HasPrefix(a, "-") && a != "-":
			name := strings.TrimLeft(a, "-")
			// Aliases become the flag's own name: urfave refuses
			// "--limit a -l b" as two forms of one flag, where a user
			// means a list.
			n, value, hasValue := strings.Cut(name, "=")
			if p, ok := primary[n]; ok && p != n {
				a = "--" + p
				if hasValue {
					a += "=" + value
				}
			}
			flags = append(flags, a)
			if !strings.Contains(name, "=") && takesValue[name] && i+1 < len(args) {
				i++
				flags = append(flags, args[i])
			}
		default:
			rest = append(rest, a)
		}
	}
	return append(append(append([]string{}, args[:at+1]...), flags...), rest...)
}

// givenArgs is the command line as tejun understood it, for the audit
// record: every flag set (global ones first, then the command's, each
// in the order its command declares them) as --name or --name=value, a
// repeated flag once per value, then the arguments. Defaults are not
// listed: the record says what the operator asked for. No value here can
// be a secret: --secret takes NAME=@FILE, never the value itself.
func givenArgs(c *cli.Context) []string {
	var out []string
	flags := append(append([]cli.Flag{}, c.App.Flags...), c.Command.Flags...)
	for _, f := range flags {
		name := f.Names()[0]
		if !c.IsSet(name) {
			continue
		}
		switch f.(type) {
		case *cli.BoolFlag:
			if c.Bool(name) {
				out = append(out, "--"+name)
			} else {
				out = append(out, "--"+name+"=false")
			}
		case *cli.StringSliceFlag:
			for _, v := range c.StringSlice(name) {
				out = append(out, "--"+name+"="+v)
			}
		default:
			out = append(out, "--"+name+"="+fmt.Sprint(c.Value(name)))
		}
	}
	return append(out, c.Args().Slice()...)
}
