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
//	host.FIELD            the host the step runs on (address, service_address, port, name, user, or a var)
//	hosts.NAME.FIELD      a named host
//	roles.ROLE.FIELD      the single host of a role
//	steps.ID.OUTPUT       what an earlier step produced (the checkpoint file)
//
// What a value may do depends on the parameter it lands in (its kind's
// `tejun` tag), because inventory values are data, never code:
//
//   - In shell text (command.shell, a script's content) a value is quoted
//     as one POSIX shell word, always: "printf %s {{ vars.v }}" prints v
//     whatever v holds. So the template must stand outside quotes; one
//     inside '...' or "..." is refused, since its quotes would show.
//     "{{ vars.v | unsafe_raw }}" pastes the value unquoted, for the rare
//     value that is itself shell code the author controls; tejun check
//     warns at every use.
//   - In a path (path, src, dst, dir, creates, root, ...) a value may not
//     hold a ".." component, so an inventory value cannot climb out of
//     the directory the runbook names; "{{ vars.p | path_any }}" allows it
//     for that one value (tejun check warns at every use). A literal ".."
//     the author wrote is theirs. No path may hold a NUL or a newline.
//   - "{{ vars.v | sh }}" quotes the value as one shell word anywhere,
//     for shell text a kind cannot know about (a var that is pasted
//     later); in shell text it is what happens anyway.
//   - "{{ host.v | optional }}" is "" when the inventory gives the host no
//     v (host, hosts and roles fields only): for a setting most sites
//     leave out (an ssl: P4PORT's fingerprint), so that existing
//     inventories keep working. Any other missing name is still an error.
//
// Nothing else is expanded and nothing is ever left empty: an unknown name
// is an error before any host is contacted.
var refPattern = regexp.MustCompile(`\{\{\s*([A-Za-z0-9_.\-]+)\s*(?:\|\s*([A-Za-z_]+)\s*)?\}\}`)

// Filters a template may name after "|".
const (
	filterQuote = "sh"
	filterRaw   = "unsafe_raw"
	filterPath  = "path_any"
	filterOpt   = "optional"
)

// missingField is a host's field or var the inventory does not give.
type missingField struct{ error }

// scope is what a template sees for one step on one host.
type scope struct {
	b       *Binding
	step    *Step
	host    *inventory.Host
	outputs Outputs
	varPath []string // vars being expanded, to catch a var that uses itself
	// warn, when set, is told of templates that are allowed but risky.
	warn func(msg string)
	// placeholder is set when the step has no host to bind to: host.FIELD
	// then stands for itself, so the rest can still be checked.
	placeholder bool
}

// Outputs are the values steps produced, by step id then output name.
type Outputs map[string]map[string]string

// varError is a problem inside a [vars] value: reported once, at the var.
type varError struct {
	name string
	err  error
}

func (e *varError) Error() string { return e.err.Error() }

// span is where a substituted value sits in the rendered text.
type span struct {
	start, end int
	ref        string
	anyPath    bool
}

func (sc *scope) render(text string, mode steps.Mode) (string, error) {
	var errs []error
	var b strings.Builder
	var spans []span
	matches := refPattern.FindAllStringSubmatchIndex(text, -1)
	var quoted []bool
	if mode == steps.ShellText && len(matches) > 0 {
		quoted = insideQuotes(text, matches)
	}
	last := 0
	for i, m := range matches {
		b.WriteString(text[last:m[0]])
		last = m[1]
		whole, ref, filter := text[m[0]:m[1]], text[m[2]:m[3]], ""
		if m[4] >= 0 {
			filter = text[m[4]:m[5]]
		}
		v, err := sc.lookup(ref)
		var missing missingField
		if err != nil && filter == filterOpt && errors.As(err, &missing) {
			v, err = "", nil
		}
		if err == nil {
			v, err = sc.filter(v, ref, filter, mode, quoted != nil && quoted[i])
		}
		if err != nil {
			errs = append(errs, err)
			b.WriteString(whole)
			continue
		}
		spans = append(spans, span{b.Len(), b.Len() + len(v), ref, filter == filterPath})
		b.WriteString(v)
	}
	b.WriteString(text[last:])
	out := b.String()
	if len(errs) > 0 {
		return "", errs[0]
	}
	if rest := refPattern.ReplaceAllString(text, ""); strings.Contains(rest, "{{") || strings.Contains(rest, "}}") {
		return "", fmt.Errorf("malformed template in %q: want {{ namespace.name }}", text)
	}
	if strings.IndexByte(out, 0) >= 0 {
		return "", errors.New("value contains a NUL byte, which no command line can carry")
	}
	if mode == steps.PathText {
		if err := checkPath(out, spans); err != nil {
			return "", err
		}
	}
	return out, nil
}

// filter applies a template's filter for the parameter's mode.
func (sc *scope) filter(v, ref, filter string, mode steps.Mode, inQuotes bool) (string, error) {
	switch filter {
	case "", filterQuote, filterRaw, filterPath, filterOpt:
	default:
		return "", fmt.Errorf("{{ %s | %s }}: unknown filter %q (want %s, %s, %s or %s)", ref, filter, filter, filterQuote, filterRaw, filterPath, filterOpt)
	}
	if filter == filterRaw {
		if mode == steps.ShellText && sc.warn != nil {
			sc.warn(fmt.Sprintf("{{ %s | %s }}: the value is pasted into shell text unquoted, so whoever sets it can run commands", ref, filterRaw))
		}
		return v, nil
	}
	if filter == filterPath && mode == steps.PathText && sc.warn != nil {
		sc.warn(fmt.Sprintf("{{ %s | %s }}: the value may name a path outside the directory around it (\"..\")", ref, filterPath))
	}
	if mode == steps.ShellText && inQuotes {
		return "", fmt.Errorf("{{ %s }} is inside quotes in shell text; a value is quoted as one word already, so put the template outside the quotes (or | %s for a value that is shell code)", ref, filterRaw)
	}
	if filter == filterQuote || mode == steps.ShellText {
		return transport.Quote(v)
	}
	return v, nil
}

// checkPath refuses what would let a value name a file other than the one
// the runbook means: a ".." component that came from a value, and NUL or
// newline anywhere.
func checkPath(p string, spans []span) error {
	if strings.ContainsAny(p, "\x00\n\r") {
		return fmt.Errorf("path %q holds a newline or NUL", p)
	}
	start := 0
	for i := 0; i <= len(p); i++ {
		if i < len(p) && p[i] != '/' {
			continue
		}
		if p[start:i] == ".." {
			for _, s := range spans {
				if !s.anyPath && s.start < i && start < s.end {
					return fmt.Errorf("{{ %s }} makes a \"..\" component in path %q; a value may not climb out of the directory the runbook names (| %s allows it)", s.ref, p, filterPath)
				}
			}
		}
		start = i + 1
	}
	return nil
}

// insideQuotes reports, for each template match in shell text, whether it
// starts inside a '...' or "..." string, where a quoted value would keep
// its quotes. It knows backslashes and # comments, which is what shell
// lines and scripts in runbooks use; templates are skipped over whole.
func insideQuotes(text string, matches [][]int) []bool {
	out := make([]bool, len(matches))
	var q byte // 0, '\'' or '"'
	next := 0
	wordStart := true
	for i := 0; i < len(text); i++ {
		if next < len(matches) && i == matches[next][0] {
			out[next] = q != 0
			i = matches[next][1] - 1
			next++
			wordStart = false
			continue
		}
		c := text[i]
		switch {
		case q == '\'':
			if c == '\'' {
				q = 0
			}
		case q == '"':
			if c == '\\' {
				i++
			} else if c == '"' {
				q = 0
			}
		case c == '\\':
			i++
		case c == '\'' || c == '"':
			q = c
		case c == '#' && wordStart:
			for i < len(text) && text[i] != '\n' {
				if next < len(matches) && i == matches[next][0] {
					i = matches[next][1] - 1 // a template in a comment is not quoted
					next++
				}
				i++
			}
			i--
		}
		wordStart = strings.IndexByte(" \t\n;&|()", c) >= 0 && q == 0
	}
	return out
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
		if sc.placeholder {
			return "<" + ref + ">", nil
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
	return "", missingField{fmt.Errorf("{{ %s }}: host %s has no %q (fields: name, address, service_address, port, user; vars: %s)", ref, h.Name, name, varNames(inv, h))}
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
	v, err := inner.render(raw, steps.PlainText)
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
	if !src.Kind.Caps.Produces {
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
		out, err := sc.render(v, steps.PlainText)
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

// examples expands a step's example outputs and explanation: the manual's
// sample output names the site's servers, so it takes the inventory's.
func (sc *scope) examples(st *Step) ([]Example, inventory.Text, error) {
	var errs []error
	r := func(key, v string) string {
		out, err := sc.render(v, steps.PlainText)
		if err != nil {
			errs = append(errs, &steps.KeyError{Key: key, Err: err})
		}
		return out
	}
	var ex []Example
	for i, e := range st.Examples {
		k := fmt.Sprintf("example[%d].", i)
		ex = append(ex, Example{
			Heading: inventory.Text{JA: r(k+"heading.ja", e.Heading.JA), EN: r(k+"heading.en", e.Heading.EN)},
			Output:  r(k+"output", e.Output),
			Note:    inventory.Text{JA: r(k+"note.ja", e.Note.JA), EN: r(k+"note.en", e.Note.EN)},
		})
	}
	explain := inventory.Text{JA: r("explain.ja", st.Explain.JA), EN: r("explain.en", st.Explain.EN)}
	return ex, explain, errors.Join(errs...)
}
