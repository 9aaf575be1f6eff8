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
		{Name: "manual", New: func() Step { return &Manual{} }},
		{Name: "directory", New: func() Step { return &Directory{} }},
		{Name: "owner", New: func() Step { return &Owner{} }},
		{Name: "move", New: func() Step { return &Move{} }},
		{Name: "remove", New: func() Step { return &Remove{} }},
		{Name: "transfer", New: func() Step { return &Transfer{} }},
		{Name: "upload", New: func() Step { return &Upload{} }},
		{Name: "service", New: func() Step { return &Service{} }},
		{Name: "wait_until", New: func() Step { return &WaitUntil{} }},
		{Name: "wait_fields", New: func() Step { return &WaitFields{} }},
		{Name: "log_match", New: func() Step { return &LogMatch{} }},
		{Name: "secret_env_file", New: func() Step { return &SecretEnvFile{} }},
		{Name: "file", New: func() Step { return &File{} }},
		{Name: "line", New: func() Step { return &Line{} }},
		{Name: "package", New: func() Step { return &Package{} }},
		{Name: "mount", New: func() Step { return &Mount{} }},
		{Name: "reboot", New: func() Step { return &Reboot{} }},
	}
}
