package steps

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"tejun/transport"
)

// WaitFields runs a read-only status command whose output is "name = value"
// lines (ProcessSaver's padmin show pent, and many others) until every
// expectation holds, and keeps the fields it read for later steps: a restart
// test compares the new PID and restart_count with the ones read before the
// kill, which a pattern alone cannot, so a re-run cannot pass on an old
// count. It changes nothing.
type WaitFields struct {
	RunAs
	Argv []string `toml:"argv" doc:"A read-only command printing tagged fields (p4 -ztag ...), run until expect holds."`
	// Expect holds "FIELD OP VALUE" lines: OP is = (same text), != (other
	// text) or > (a larger integer). VALUE may name an earlier step's field.
	Expect []string `toml:"expect" doc:"FIELD OP VALUE lines (OP: = same text, != other text, > larger integer); VALUE may name an earlier step's field."`

	fields map[string]string // read by the last Check that held
}

type expectation struct{ field, op, value string }

var expectLine = regexp.MustCompile(`^\s*([A-Za-z0-9_.-]+)\s*(!=|=|>)\s*(.*?)\s*$`)

func parseExpect(s string) (expectation, error) {
	m := expectLine.FindStringSubmatch(s)
	if m == nil {
		return expectation{}, fmt.Errorf("%q: want FIELD = VALUE, FIELD != VALUE or FIELD > NUMBER", s)
	}
	return expectation{m[1], m[2], m[3]}, nil
}

func (w *WaitFields) Validate() []Problem {
	var ps []Problem
	if len(w.Argv) == 0 {
		ps = append(ps, Problem{"argv", "wait_fields needs argv"})
	}
	if len(w.Expect) == 0 {
		ps = append(ps, Problem{"expect", "wait_fields needs at least one expectation"})
	}
	for i, e := range w.Expect {
		if _, err := parseExpect(e); err != nil {
			ps = append(ps, Problem{fmt.Sprintf("expect[%d]", i), err.Error()})
		}
	}
	return ps
}

func (w *WaitFields) Waits() {}

// cmd runs under LC_ALL=C: the output is parsed.
func (w *WaitFields) cmd() transport.Cmd {
	return w.As(Parsed(transport.Cmd{Argv: w.Argv}))[0]
}

func (w *WaitFields) Describe(lang string) Description {
	b := Block{Heading: T(lang, "確認する内容", "Expected"), Code: Literal}
	for _, e := range w.Expect {
		b.Lines = append(b.Lines, strings.TrimSpace(e))
	}
	return Description{Blocks: []Block{CommandBlock(lang, w.cmd()), b}}
}

func (w *WaitFields) Plan() Plan { return Plan{Check: Ops(w.cmd())} }

// Outputs are what the dry-run shows for the fields a later step uses.
func (w *WaitFields) Outputs() map[string]string {
	out := map[string]string{}
	for _, e := range w.Expect {
		if x, err := parseExpect(e); err == nil {
			out[x.field] = "<" + x.field + ">"
		}
	}
	return out
}

// Produced are the fields of the output that met every expectation.
func (w *WaitFields) Produced() map[string]string { return w.fields }

func parseFields(out string) map[string]string {
	f := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		name, value, ok := strings.Cut(l, "=")
		if name = strings.TrimSpace(name); ok && name != "" {
			if _, seen := f[name]; !seen {
				f[name] = strings.TrimSpace(value)
			}
		}
	}
	return f
}

// Check fails closed: a command that cannot run is an error; a field that
// is missing, or not a number where > wants one, does not hold.
func (w *WaitFields) Check(ctx context.Context, env Env) (Status, error) {
	out, err := env.Run(ctx, w.cmd(), nil)
	if err != nil {
		if exitCode(err) >= 0 {
			return NotDone("%v", err), nil
		}
		return Status{}, err
	}
	f := parseFields(out)
	for _, e := range w.Expect {
		x, err := parseExpect(e)
		if err != nil {
			return Status{}, err
		}
		got, ok := f[x.field]
		if !ok {
			return NotDone("no field %s in the output", x.field), nil
		}
		if why := x.fails(got); why != "" {
			return NotDone("%s", why), nil
		}
	}
	w.fields = f
	return Done("%s", strings.Join(w.Expect, ", ")), nil
}

func (x expectation) fails(got string) string {
	switch x.op {
	case "=":
		if got != x.value {
			return fmt.Sprintf("%s = %s, want %s", x.field, got, x.value)
		}
	case "!=":
		if got == x.value {
			return fmt.Sprintf("%s is still %s", x.field, got)
		}
	case ">":
		g, err1 := strconv.ParseInt(got, 10, 64)
		v, err2 := strconv.ParseInt(x.value, 10, 64)
		if err1 != nil || err2 != nil {
			return fmt.Sprintf("%s = %q, want a number above %q", x.field, got, x.value)
		}
		if g <= v {
			return fmt.Sprintf("%s = %d, want more than %d", x.field, g, v)
		}
	}
	return ""
}

// Apply has nothing to change: the executor only waits on Check.
func (w *WaitFields) Apply(ctx context.Context, env Env) error { return nil }
