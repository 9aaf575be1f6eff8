package steps

import (
	"fmt"
	"reflect"
	"strings"
)

// Expand replaces every string parameter of step (in nested structs and
// string lists too) with fn's result. Templating is done here, by reflection
// over the parameter struct, so that a new kind gets it without writing any
// code for it. Keys are the TOML keys, for error messages.
func Expand(step Step, fn func(key, value string) (string, error)) error {
	var errs []error
	expand(reflect.ValueOf(step).Elem(), "", fn, &errs)
	if len(errs) > 0 {
		return joinErrors(errs)
	}
	return nil
}

func expand(v reflect.Value, key string, fn func(key, value string) (string, error), errs *[]error) {
	switch v.Kind() {
	case reflect.String:
		s, err := fn(key, v.String())
		if err != nil {
			*errs = append(*errs, err)
			return
		}
		v.SetString(s)
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			expand(v.Index(i), fmt.Sprintf("%s[%d]", key, i), fn, errs)
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
			expand(v.Field(i), sub, fn, errs)
		}
	}
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

type multiError []error

func (m multiError) Error() string {
	s := make([]string, len(m))
	for i, e := range m {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// Unwrap lets errors.As find each KeyError.
func (m multiError) Unwrap() []error { return m }

func joinErrors(errs []error) error { return multiError(errs) }
