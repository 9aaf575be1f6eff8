package cli

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"tejun/runbook"
)

func (a *App) graphCommand() *cli.Command {
	return &cli.Command{
		Name:      "graph",
		Usage:     "print the step graph as text, Mermaid or Graphviz DOT",
		ArgsUsage: "RUNBOOK",
		Flags: []cli.Flag{&cli.StringFlag{Name: "format", Value: "text", Usage: "text, mermaid or dot"},
			&cli.StringFlag{Name: "inventory", Aliases: []string{"i"}, Usage: "inventory `FILE`: also show the hosts each step runs on"}},
		Action: func(c *cli.Context) error {
			if err := oneOf("format", c.String("format"), "text", "mermaid", "dot"); err != nil {
				return err
			}
			var rb *runbook.Runbook
			// on says where a step runs: its role, and with -i the
			// inventory's hosts for it, as every other command takes -i.
			on := func(st *runbook.Step) string { return st.On }
			if c.String("inventory") != "" {
				l, err := a.load(c)
				if err != nil {
					return err
				}
				rb = l.binding.Runbook
				on = func(st *runbook.Step) string {
					var hs []string
					for _, in := range l.binding.Instances[st.ID] {
						hs = append(hs, in.Host.Name)
					}
					if len(hs) == 1 && hs[0] == st.On {
						return st.On
					}
					return st.On + " (" + strings.Join(hs, ", ") + ")"
				}
			} else {
				var err error
				if rb, _, _, err = a.loadRunbook(c); err != nil {
					return err
				}
			}
			switch c.String("format") {
			case "mermaid":
				mermaid(a.stdout, rb, on)
			case "dot":
				dot(a.stdout, rb, on)
			default:
				graphText(a.stdout, rb, on)
			}
			return nil
		},
	}
}

func graphText(w io.Writer, rb *runbook.Runbook, on func(*runbook.Step) string) {
	fmt.Fprintf(w, "%s: %s\n", rb.Name, count(len(rb.Steps), "step"))
	idw, kindw, onw := 0, 0, 10
	for _, st := range rb.Steps {
		idw = max(idw, len(st.ID))
		kindw = max(kindw, len(st.Kind.Name))
		onw = max(onw, len(on(st)))
	}
	for _, st := range rb.Order() {
		needs := "(start)"
		if ns := rb.Graph.Needs(st.ID); len(ns) > 0 {
			needs = "needs " + strings.Join(ns, ", ")
		}
		fmt.Fprintf(w, "%-5s %-*s  %-*s  on %-*s %s\n", st.Label(), idw, st.ID, kindw, st.Kind.Name, onw, on(st), needs)
	}
}

func nodeID(i int) string { return "s" + strconv.Itoa(i+1) }

func mermaid(w io.Writer, rb *runbook.Runbook, on func(*runbook.Step) string) {
	ids := map[string]string{}
	fmt.Fprintln(w, "flowchart TD")
	for i, st := range rb.Steps {
		ids[st.ID] = nodeID(i)
		label := fmt.Sprintf("%s %s<br/>%s @ %s", st.Label(), st.ID, st.Kind.Name, on(st))
		fmt.Fprintf(w, "    %s[\"%s\"]\n", nodeID(i), strings.ReplaceAll(label, `"`, "#quot;"))
	}
	for _, e := range rb.Graph.Edges() {
		fmt.Fprintf(w, "    %s --> %s\n", ids[e[1]], ids[e[0]])
	}
}

func dot(w io.Writer, rb *runbook.Runbook, on func(*runbook.Step) string) {
	q := strconv.Quote
	fmt.Fprintf(w, "digraph %s {\n    rankdir=TB;\n    node [shape=box];\n", q(rb.Name))
	for _, st := range rb.Steps {
		fmt.Fprintf(w, "    %s [label=%s];\n", q(st.ID), q(fmt.Sprintf("%s %s\n%s @ %s", st.Label(), st.ID, st.Kind.Name, on(st))))
	}
	for _, e := range rb.Graph.Edges() {
		fmt.Fprintf(w, "    %s -> %s;\n", q(e[1]), q(e[0]))
	}
	fmt.Fprintln(w, "}")
}
