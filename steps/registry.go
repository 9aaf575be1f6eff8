package steps

import (
	"reflect"
	"sort"
)

// Kind is a named constructor: New returns a pointer to a zero parameter
// struct for the TOML decoder to fill.
type Kind struct {
	Name string
	New  func() Step
	// Caps are what the kind can do, declared here once so that the
	// runbook, the executor and `tejun kinds` ask the entry instead of
	// making instances to probe; TestKindCaps holds every entry to the
	// interfaces its type implements (Implemented).
	Caps Caps
}

// Caps are a kind's capabilities.
type Caps struct {
	// Verify kinds check and wait: they have nothing to apply, so retries
	// and interval mean something, and a check still not holding after
	// them fails the step ("not reached"). They implement Waiter.
	Verify bool
	// Manual kinds are work a person does; Apply asks the operator, which
	// is not a failure for want of commands.
	Manual bool
	// MayDestroy kinds can destroy data or stop a service; an instance's
	// Destructive method says whether this one does (Destroyer).
	MayDestroy bool
	// Produces: later steps may template the kind's outputs (Producer);
	// RealOutputs: the real values are known only once it has run
	// (RealProducer), so a run learns them even for a step not selected.
	Produces, RealOutputs bool
	// Credentials: what its commands print may hold a credential, masked
	// from then on (Credentialer).
	Credentials bool
	// DryRunOnly kinds print in the dry-run but cannot run yet (no Runner).
	DryRunOnly bool
}

// Implemented is what the kind's type implements, as Caps; tests compare
// it with the declared Caps so a declaration cannot drift from the code.
func (k Kind) Implemented() Caps {
	s := k.New()
	var c Caps
	_, c.Verify = s.(Waiter)
	_, c.Manual = s.(*Manual)
	_, c.MayDestroy = s.(Destroyer)
	_, c.Produces = s.(Producer)
	_, c.RealOutputs = s.(RealProducer)
	_, c.Credentials = s.(Credentialer)
	_, runs := s.(Runner)
	c.DryRunOnly = !runs
	return c
}

// Registry maps kind names to kinds. It is a value built by whoever needs it
// (no package-level registration), so tests can use a registry of their own.
type Registry struct {
	kinds map[string]Kind
}

// NewRegistry makes a registry of kinds; a name given twice is a programming
// error and panics.
func NewRegistry(kinds ...Kind) *Registry {
	r := &Registry{kinds: map[string]Kind{}}
	for _, k := range kinds {
		if _, dup := r.kinds[k.Name]; dup {
			panic("steps: kind registered twice: " + k.Name)
		}
		r.kinds[k.Name] = k
	}
	return r
}

// Lookup returns the kind called name.
func (r *Registry) Lookup(name string) (Kind, bool) {
	k, ok := r.kinds[name]
	return k, ok
}

// Names lists the kinds, sorted.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.kinds))
	for n := range r.kinds {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Type is the parameter struct type of a kind, for schema checks.
func (k Kind) Type() reflect.Type {
	return reflect.TypeOf(k.New()).Elem()
}

// Generic lists the kinds that are not tied to one product.
func Generic() []Kind {
	return []Kind{
		{Name: "command", New: func() Step { return &Command{} }},
		{Name: "manual", New: func() Step { return &Manual{} }, Caps: Caps{Manual: true}},
		{Name: "directory", New: func() Step { return &Directory{} }},
		{Name: "owner", New: func() Step { return &Owner{} }},
		{Name: "move", New: func() Step { return &Move{} }},
		{Name: "remove", New: func() Step { return &Remove{} }, Caps: Caps{MayDestroy: true}},
		{Name: "transfer", New: func() Step { return &Transfer{} }, Caps: Caps{Produces: true}},
		{Name: "upload", New: func() Step { return &Upload{} }},
		{Name: "service", New: func() Step { return &Service{} }},
		{Name: "wait_until", New: func() Step { return &WaitUntil{} }, Caps: Caps{Verify: true}},
		{Name: "wait_fields", New: func() Step { return &WaitFields{} }, Caps: Caps{Verify: true, Produces: true, RealOutputs: true}},
		{Name: "log_match", New: func() Step { return &LogMatch{} }, Caps: Caps{Verify: true}},
		{Name: "secret_env_file", New: func() Step { return &SecretEnvFile{} }},
		{Name: "file", New: func() Step { return &File{} }},
		{Name: "line", New: func() Step { return &Line{} }},
		{Name: "package", New: func() Step { return &Package{} }},
		{Name: "mount", New: func() Step { return &Mount{} }},
		{Name: "reboot", New: func() Step { return &Reboot{} }, Caps: Caps{MayDestroy: true}},
	}
}
