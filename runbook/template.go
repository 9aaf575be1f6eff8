package runbook

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"tejun/inventory"
	"tejun/steps"
	"tejun/transport"
)

// A template reference is {{ namespace.name[.field] }}:
//
//	vars.NAME             the runbook's [vars], else the inventory's
//	host.FIELD            the host the step runs on (address, port, name, user, or a var)
//	hosts.NAME.FIELD      a named host
//	roles.ROLE.FIELD      the single host of a role
//	steps.ID.OUTPUT       what an earlier step produced (the checkpoint file)
//
// "{{ vars.home | sh }}" quotes the value as one POSIX shell word, for
// values written into a script a shell will run later (CLUSTERPRO's start
// scripts): there too an inventory value must stay a value.
//
// Nothing else is expanded and nothing is ever left empty: an unknown name
// is an error before any host is contacted.
var refPattern = regexp.MustCompile(`\{\{\s*([A-Za-z0-9_.\-]+)\s*(\|\s*sh\s*)?\}\}`)

// scope is what a template sees for one step on one host.
type scope struct {
	b       *Binding
	step    *Step
	host    *inventory.Host
	outputs Outputs
	varPath []string // vars being expanded, to catch a var that uses itself
}

// Outputs are the values steps produced, by step id then output name.
type Outputs map[string]map[string]string

// varError is a problem inside a [vars] value: reported once, at the var.
type varError struct {
	name string
	err  error
}

func (e *varError) Error() string { return e.err.Error() }

func (sc *scope) render(text string) (string, error) {
	var errs []error
	out := refPattern.ReplaceAllStringFunc(text, func(m string) string {
		sub := refPattern.FindStringSubmatch(m)
		v, err := sc.lookup(sub[1])
		if err == nil && sub[2] != "" {
			v, err = transport.Quote(v)
		}
		if err != nil {
			errs = append(errs, err)
			return m
		}
		return v
	})
	if len(errs) > 0 {
		return "", errs[0]
	}
	if rest := refPattern.ReplaceAllString(text, ""); strings.Contains(rest, "{{") || strings.Contains(rest, "}}") {
		return "", fmt.Errorf("malformed template in %q: want {{ namespace.name }}", text)
	}
	if strings.IndexByte(out, 0) >= 0 {
		return "", errors.New("value contains a NUL byte, which no command line can carry")
	}
	return out, nil
}

func (sc *scope) lookup(ref string) (string, error) {
	parts := strings.Split(ref, ".")
	inv := sc.b.Inventory
	switch parts[0] {
	case "vars":
		if len(parts) != 2 {
			return "", fmt.Errorf("{{ %s }}: want vars.NAME", ref)
		}
		return sc.variable(parts[1])
	case "host":
		if len(parts) != 2 {
			return "", fmt.Errorf("{{ %s }}: want host.FIELD", ref)
		}
		if sc.host == nil {
			return "", fmt.Errorf("{{ %s }}: no host here; use hosts.NAME or roles.ROLE", ref)
		}
		return field(inv, sc.host, parts[1], ref)
	case "hosts":
		if len(parts) != 3 {
			return "", fmt.Errorf("{{ %s }}: want hosts.NAME.FIELD", ref)
		}
		h := inv.Host(parts[1])
		if h == nil {
			return "", fmt.Errorf("{{ %s }}: no host %q in %s", ref, parts[1], inv.File)
		}
		return field(inv, h, parts[2], ref)
	case "roles":
		if len(parts) != 3 {
			return "", fmt.Errorf("{{ %s }}: want roles.ROLE.FIELD", ref)
		}
		r := inv.Roles[parts[1]]
		if r == nil {
			return "", fmt.Errorf("{{ %s }}: no role %q in %s", ref, parts[1], inv.File)
		}
		if len(r.Hosts) != 1 {
			return "", fmt.Errorf("{{ %s }}: role %s has %d hosts; name one with hosts.NAME", ref, r.Name, len(r.Hosts))
		}
		return field(inv, r.Hosts[0], parts[2], ref)
	case "steps":
		if len(parts) != 3 {
			return "", fmt.Errorf("{{ %s }}: want steps.ID.OUTPUT", ref)
		}
		return sc.output(parts[1], parts[2], ref)
	case "secrets":
		return "", fmt.Errorf("{{ %s }}: secrets are never put into commands; give the secret's name to the step's secret parameter", ref)
	}
	return "", fmt.Errorf("{{ %s }}: unknown namespace %q (want vars, host, hosts, roles or steps)", ref, parts[0])
}

func field(inv *inventory.Inventory, h *inventory.Host, name, ref string) (string, error) {
	if v, ok := inv.Field(h, name); ok {
		return v, nil
	}
	return "", fmt.Errorf("{{ %s }}: host %s has no %q (fields: name, address, port, user; vars: %s)", ref, h.Name, name, varNames(inv, h))
}

func varNames(inv *inventory.Inventory, h *inventory.Host) string {
	set := map[string]bool{}
	for k := range inv.Vars {
		set[k] = true
	}
	for _, r := range h.Roles {
		for k := range inv.Roles[r].Vars {
			set[k] = true
		}
	}
	for k := range h.Vars {
		set[k] = true
	}
	names := make([]string, 0, len(set))
	for k := range set {
		names = append(names, k)
	}
	sort.Strings(names)
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

func (sc *scope) variable(name string) (string, error) {
	raw, ok := sc.b.Runbook.Vars[name]
	if !ok {
		if v, ok := sc.b.Inventory.Vars[name]; ok {
			return v, nil
		}
		return "", fmt.Errorf("{{ vars.%s }}: no variable %q in the runbook's or the inventory's [vars]", name, name)
	}
	for _, p := range sc.varPath {
		if p == name {
			return "", &varError{name, fmt.Errorf("variable %s uses itself: %s → %s", name, strings.Join(sc.varPath, " → "), name)}
		}
	}
	inner := *sc
	inner.varPath = append(append([]string(nil), sc.varPath...), name)
	v, err := inner.render(raw)
	if err != nil {
		var ve *varError
		if errors.As(err, &ve) {
			return "", err
		}
		return "", &varError{name, err}
	}
	return v, nil
}

func (sc *scope) output(id, name, ref string) (string, error) {
	src := sc.b.Runbook.Step(id)
	if src == nil {
		return "", fmt.Errorf("{{ %s }}: no step %q", ref, id)
	}
	if sc.step == nil || !sc.b.Runbook.Graph.Ancestors(sc.step.ID)[id] {
		return "", fmt.Errorf("{{ %s }}: step %s does not come before this step (add it to needs)", ref, id)
	}
	if !src.Runnable() {
		return "", fmt.Errorf("{{ %s }}: step %s has an unknown kind", ref, id)
	}
	if _, ok := src.Kind.New().(steps.Producer); !ok {
		return "", fmt.Errorf("{{ %s }}: a %s step produces nothing", ref, src.Kind.Name)
	}
	outs, ok := sc.outputs[id]
	if !ok {
		return "", fmt.Errorf("{{ %s }}: step %s has no result yet", ref, id)
	}
	v, ok := outs[name]
	if !ok {
		names := make([]string, 0, len(outs))
		for k := range outs {
			names = append(names, k)
		}
		sort.Strings(names)
		return "", fmt.Errorf("{{ %s }}: step %s produces %s, not %q", ref, id, strings.Join(names, ", "), name)
	}
	return v, nil
}

// texts expands a title and a note, whose errors are keyed like parameters.
func (sc *scope) texts(title, note inventory.Text) (Texts, error) {
	var errs []error
	r := func(key, v string) string {
		out, err := sc.render(v)
		if err != nil {
			errs = append(errs, &steps.KeyError{Key: key, Err: err})
		}
		return out
	}
	t := Texts{
		Title: inventory.Text{JA: r("title.ja", title.JA), EN: r("title.en", title.EN)},
		Note:  inventory.Text{JA: r("note.ja", note.JA), EN: r("note.en", note.EN)},
	}
	return t, errors.Join(errs...)
}
