package runbook

import (
	"errors"
	"fmt"
	"sort"

	"tejun/inventory"
	"tejun/inventory/tomlsrc"
	"tejun/steps"
)

// Binding is a runbook tied to an inventory: every step resolved to its
// hosts, every template expanded. Building one contacts no host.
type Binding struct {
	Runbook   *Runbook
	Inventory *inventory.Inventory
	// Instances are the steps per host, by step id, in the target's host
	// order.
	Instances map[string][]*Instance
	// Sections holds each section's title and note with templates expanded.
	Sections map[*Section]Texts
	// Warnings are things allowed but risky (a value pasted unquoted into
	// shell text), each at its line, for tejun check to show.
	Warnings tomlsrc.Problems
}

// Texts are a title and a note after templating, and for a step its
// example outputs and explanation.
type Texts struct {
	Title    inventory.Text
	Note     inventory.Text
	Examples []Example
	Explain  inventory.Text
}

// Instance is one step on one host.
type Instance struct {
	Step *Step
	Host *inventory.Host
	Impl steps.Step
	Texts
}

// Bind checks the runbook against inv and expands it. It may be given a
// runbook or inventory that had problems of their own, to report its own
// problems alongside; the binding is then not fit to run. Outputs of producing
// steps take the placeholders their kinds give (checkpoint.ckp.N) so the
// dry-run can show the procedure before any of it has run. Every problem is
// returned, each at its line.
func Bind(rb *Runbook, inv *inventory.Inventory) (*Binding, error) {
	b := &Binding{Runbook: rb, Inventory: inv, Instances: map[string][]*Instance{}, Sections: map[*Section]Texts{}}
	var ps tomlsrc.Problems
	reportedVars := map[string]bool{}
	for i, sec := range rb.Sections {
		path := fmt.Sprintf("section[%d]", i)
		hosts, err := inv.Select(sec.On)
		if sec.On != "" && err != nil && sec.IfNoHosts.JA+sec.IfNoHosts.EN != "" {
			hosts, err = inv.SelectPresent(sec.On), nil
		}
		if sec.On != "" && err != nil {
			ps = append(ps, rb.src.At(path+".on", "section %s: %v", sec.ID, err))
			continue
		}
		sc := &scope{b: b}
		if len(hosts) > 0 {
			sc.host = hosts[0]
		}
		t, err := sc.texts(sec.Title, sec.Note)
		if err != nil {
			ps = append(ps, b.placeAt(path, "section "+sec.ID, err, reportedVars)...)
		}
		b.Sections[sec] = t
	}
	outputs := Outputs{}
	for _, st := range rb.Order() {
		if !st.Runnable() {
			continue
		}
		warn := func(key string) func(string) {
			return func(msg string) {
				b.Warnings = append(b.Warnings, rb.src.At(st.path+"."+key, "step %s: %s: %s", st.ID, key, msg))
			}
		}
		var hosts []*inventory.Host
		if st.On != "" {
			var err error
			hosts, err = inv.Select(st.On)
			if err != nil && st.Section.IfNoHosts.JA+st.Section.IfNoHosts.EN != "" {
				hosts, err = inv.SelectPresent(st.On), nil
			}
			if err != nil {
				ps = append(ps, rb.src.At(st.path, "step %s: %v", st.ID, err))
			}
		}
		if len(hosts) == 0 {
			// No host to bind to (the missing one is reported already):
			// its templates and parameters are still checked, against a
			// stand-in host, so that one run shows every problem.
			in, err := b.instantiate(st, nil, outputs, warn)
			if err != nil {
				ps = append(ps, b.placeAt(st.path, "step "+st.ID, err, reportedVars)...)
			} else {
				deprecated(in.Impl, warn)
				if p, ok := in.Impl.(steps.Producer); ok {
					outputs[st.ID] = p.Outputs()
				}
			}
			continue
		}
		for i, h := range hosts {
			in, err := b.instantiate(st, h, outputs, warn)
			if err != nil {
				ps = append(ps, b.placeAt(st.path, "step "+st.ID, err, reportedVars)...)
				continue
			}
			if i == 0 {
				deprecated(in.Impl, warn)
			}
			b.Instances[st.ID] = append(b.Instances[st.ID], in)
			if p, ok := in.Impl.(steps.Producer); ok {
				if len(hosts) > 1 {
					ps = append(ps, rb.src.At(st.path+".on", "step %s produces a result but runs on %d hosts; aim it at one", st.ID, len(hosts)))
				}
				outputs[st.ID] = p.Outputs()
			}
		}
	}
	if err := b.Warnings.Err(); err != nil {
		var ws tomlsrc.Problems
		if errors.As(err, &ws) {
			b.Warnings = ws
		}
	}
	return b, ps.Err()
}

// Instantiate decodes a fresh copy of the step's parameters, expands its
// templates for host h with the given outputs, and validates the result.
// The executor calls it again with real outputs once they are known.
func (b *Binding) Instantiate(st *Step, h *inventory.Host, outputs Outputs) (*Instance, error) {
	return b.instantiate(st, h, outputs, nil)
}

// instantiate is Instantiate telling warn(key) of risky templates; with no
// host it binds to a stand-in, for checking only.
func (b *Binding) instantiate(st *Step, h *inventory.Host, outputs Outputs, warn func(key string) func(string)) (*Instance, error) {
	impl := st.Kind.New()
	if err := b.Runbook.md.PrimitiveDecode(st.prim, impl); err != nil {
		return nil, err
	}
	sc := &scope{b: b, step: st, host: h, outputs: outputs, placeholder: h == nil}
	var errs []error
	texts, err := sc.texts(st.Title, st.Note)
	if err != nil {
		errs = append(errs, err)
	}
	if texts.Examples, texts.Explain, err = sc.examples(st); err != nil {
		errs = append(errs, err)
	}
	if err := steps.Expand(impl, func(key, v string, mode steps.Mode) (string, error) {
		fsc := *sc
		if warn != nil {
			fsc.warn = warn(key)
		}
		out, err := fsc.render(v, mode)
		if err != nil {
			return "", &steps.KeyError{Key: key, Err: err}
		}
		return out, nil
	}); err != nil {
		errs = append(errs, err)
	}
	// A step of a section for roles the inventory has no host of is
	// checked for its templates only: stand-in values cannot pass its
	// kind's checks (an absolute root), and it will not run.
	standIn := h == nil && st.Section != nil && st.Section.IfNoHosts.JA+st.Section.IfNoHosts.EN != ""
	if v, ok := impl.(steps.Validator); ok && len(errs) == 0 && !standIn {
		for _, p := range v.Validate() {
			errs = append(errs, &steps.KeyError{Key: p.Key, Err: errors.New(p.Msg)})
		}
	}
	if hu, ok := impl.(steps.HostUser); ok && len(errs) == 0 {
		for key, target := range hu.HostParams() {
			hosts, err := b.Inventory.Select(target)
			if err == nil && len(hosts) != 1 {
				err = fmt.Errorf("%s names %d hosts; a transfer goes to one", target, len(hosts))
			}
			if err != nil {
				errs = append(errs, &steps.KeyError{Key: key, Err: err})
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &Instance{Step: st, Host: h, Impl: impl, Texts: texts}, nil
}

// placeAt turns an instantiation error into problems at the right lines: a
// parameter's own line, or a [vars] entry's line (once) when the var is
// what is wrong.
func (b *Binding) placeAt(path, what string, err error, reportedVars map[string]bool) tomlsrc.Problems {
	var ps tomlsrc.Problems
	for _, e := range flatten(err) {
		var ve *varError
		if errors.As(e, &ve) {
			if !reportedVars[ve.name] {
				reportedVars[ve.name] = true
				ps = append(ps, b.Runbook.src.At("vars."+ve.name, "vars.%s: %v", ve.name, ve.err))
			}
			continue
		}
		var ke *steps.KeyError
		if errors.As(e, &ke) {
			ps = append(ps, b.Runbook.src.At(path+"."+ke.Key, "%s: %s: %v", what, ke.Key, ke.Err))
			continue
		}
		ps = append(ps, b.Runbook.src.At(path, "%s: %v", what, e))
	}
	return ps
}

// flatten undoes errors.Join and the steps package's joined key errors.
func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

// deprecated warns, once per step, of each old key it still uses.
func deprecated(impl steps.Step, warn func(key string) func(string)) {
	d, ok := impl.(steps.Deprecated)
	if !ok {
		return
	}
	old := d.Deprecated()
	keys := make([]string, 0, len(old))
	for k := range old {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		warn(k)(old[k])
	}
}
