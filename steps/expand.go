package steps

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// Mode says what a parameter's text becomes on the host, and so how a
// template value substituted into it must be treated. It comes from the
// field's `tejun:"..."` struct tag: the kind's author says it once, and
// every runbook that uses the kind is protected without thinking of it.
type Mode int

const (
	// PlainText reaches the host as one argv word, or is only shown.
	PlainText Mode = iota
	// ShellText is run by a shell: a value must stay one word.
	ShellText
	// PathText names a file: a value must not climb out with "..".
	PathText
)

func (m Mode) String() string {
	switch m {
	case ShellText:
		return "shell"
	case PathText:
		return "path"
	}
	return "plain"
}

// Scripter is a kind with a field tagged `tejun:"script"`: text that is
// shell only when the step says so (a file's content is shell when the file
// is a script). Script is asked after every other field is expanded, so a
// templated mode counts.
type Scripter interface {
	Script() bool
}

// Expand replaces every string parameter of step (in nested structs and
// string lists too) with fn's result. Templating is done here, by reflection
// over the parameter struct, so that a new kind gets it without writing any
// code for it. Keys are the TOML keys, for error messages; the mode comes
// from the field's tejun tag.
func Expand(step Step, fn func(key, value string, mode Mode) (string, error)) error {
	var errs []error
	var later []field
	for _, f := range fields(reflect.ValueOf(step).Elem(), "", PlainText) {
		if f.script {
			later = append(later, f)
			continue
		}
		f.expand(fn, &errs)
	}
	if len(later) > 0 {
		// Not knowing whether it is a script (an error above, or a kind
		// that cannot say), treat it as one: an over-quoted value is a
		// visible mistake, an unquoted one is code.
		mode := ShellText
		if s, ok := step.(Scripter); ok && len(errs) == 0 && !s.Script() {
			mode = PlainText
		}
		for _, f := range later {
			f.mode = mode
			f.expand(fn, &errs)
		}
	}
	return errors.Join(errs...)
}

// field is one settable string of a parameter struct.
type field struct {
	v      reflect.Value
	key    string
	mode   Mode
	script bool
}

func (f field) expand(fn func(key, value string, mode Mode) (string, error), errs *[]error) {
	s, err := fn(f.key, f.v.String(), f.mode)
	if err != nil {
		*errs = append(*errs, err)
		return
	}
	f.v.SetString(s)
}

func fields(v reflect.Value, key string, mode Mode) []field {
	return collect(v, key, mode, false, nil)
}

func collect(v reflect.Value, key string, mode Mode, script bool, out []field) []field {
	switch v.Kind() {
	case reflect.String:
		out = append(out, field{v: v, key: key, mode: mode, script: script})
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			out = collect(v.Index(i), fmt.Sprintf("%s[%d]", key, i), mode, script, out)
		}
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name := strings.Split(f.Tag.Get("toml"), ",")[0]
			sub := key
			if name != "" && !f.Anonymous {
				sub = joinKey(key, name)
			}
			m, sc := mode, script
			switch f.Tag.Get("tejun") {
			case "shell":
				m = ShellText
			case "path":
				m = PathText
			case "script":
				sc = true
			}
			out = collect(v.Field(i), sub, m, sc, out)
		}
	}
	return out
}

func joinKey(prefix, k string) string {
	if prefix == "" {
		return k
	}
	return prefix + "." + k
}

// KeyError is a problem with one parameter, keyed for placement.
type KeyError struct {
	Key string
	Err error
}

func (e *KeyError) Error() string { return e.Key + ": " + e.Err.Error() }
func (e *KeyError) Unwrap() error { return e.Err }
