package app

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
		Flags:     []cli.Flag{&cli.StringFlag{Name: "format", Value: "text", Usage: "text, mermaid or dot"}},
		Action: func(c *cli.Context) error {
			if err := oneOf("format", c.String("format"), "text", "mermaid", "dot"); err != nil {
				return err
			}
			rb, _, _, err := a.loadRunbook(c)
			if err != nil {
				return err
			}
			switch c.String("format") {
			case "mermaid":
				mermaid(a.stdout, rb)
			case "dot":
				dot(a.stdout, rb)
			default:
				graphText(a.stdout, rb)
			}
			return nil
		},
	}
}

func graphText(w io.Writer, rb *runbook.Runbook) {
	fmt.Fprintf(w, "%s: %s\n", rb.Name, count(len(rb.Steps), "step"))
	idw, kindw := 0, 0
	for _, st := range rb.Steps {
		idw = max(idw, len(st.ID))
		kindw = max(kindw, len(st.Kind.Name))
	}
	for _, st := range rb.Order() {
		needs := "(start)"
		if ns := rb.Graph.Needs(st.ID); len(ns) > 0 {
			needs = "needs " + strings.Join(ns, ", ")
		}
		fmt.Fprintf(w, "%-5s %-*s  %-*s  on %-10s %s\n", st.Label(), idw, st.ID, kindw, st.Kind.Name, st.On, needs)
	}
}

func nodeID(i int) string { return "s" + strconv.Itoa(i+1) }

func mermaid(w io.Writer, rb *runbook.Runbook) {
	ids := map[string]string{}
	fmt.Fprintln(w, "flowchart TD")
	for i, st := range rb.Steps {
		ids[st.ID] = nodeID(i)
		label := fmt.Sprintf("%s %s<br/>%s @ %s", st.Label(), st.ID, st.Kind.Name, st.On)
		fmt.Fprintf(w, "    %s[\"%s\"]\n", nodeID(i), strings.ReplaceAll(label, `"`, "#quot;"))
	}
	for _, e := range rb.Graph.Edges() {
		fmt.Fprintf(w, "    %s --> %s\n", ids[e[1]], ids[e[0]])
	}
}

func dot(w io.Writer, rb *runbook.Runbook) {
	q := strconv.Quote
	fmt.Fprintf(w, "digraph %s {\n    rankdir=TB;\n    node [shape=box];\n", q(rb.Name))
	for _, st := range rb.Steps {
		fmt.Fprintf(w, "    %s [label=%s];\n", q(st.ID), q(fmt.Sprintf("%s %s\n%s @ %s", st.Label(), st.ID, st.Kind.Name, st.On)))
	}
	for _, e := range rb.Graph.Edges() {
		fmt.Fprintf(w, "    %s -> %s;\n", q(e[1]), q(e[0]))
	}
	fmt.Fprintln(w, "}")
}
