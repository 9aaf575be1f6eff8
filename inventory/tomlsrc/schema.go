package tomlsrc

import (
	"encoding"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// Check compares a decoded TOML tree with the Go types that will receive it
// and reports every unknown key and every value of the wrong type, each at its
// own line. The decoder itself stops at the first mismatch and its unknown
// keys lose array indices (so no line can be found); this walk gives the
// "every problem at once, with file:line" that validation promises.
//
// raw is what toml.Decode produced for that part of the file; when several
// types are given the table may hold the fields of any of them (a step table
// holds the common step keys and its kind's parameters side by side).
func (s *Source) Check(path string, raw any, types ...reflect.Type) Problems {
	var ps Problems
	s.check(&ps, path, raw, types)
	return ps
}

var (
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
	tomlUnmarshaler = reflect.TypeFor[toml.Unmarshaler]()
	primitiveType   = reflect.TypeFor[toml.Primitive]()
)

func (s *Source) check(ps *Problems, path string, raw any, types []reflect.Type) {
	t := types[0]
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	pt := reflect.PointerTo(t)
	switch {
	case t == primitiveType || t.Kind() == reflect.Interface || pt.Implements(tomlUnmarshaler):
		return // checked by whoever decodes it
	case pt.Implements(textUnmarshaler):
		if _, ok := raw.(string); !ok {
			*ps = append(*ps, s.At(path, "%s: want a string, got %s", leaf(path), tomlType(raw)))
		}
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := raw.(map[string]any)
		if !ok {
			*ps = append(*ps, s.At(path, "%s: want a table, got %s", leaf(path), tomlType(raw)))
			return
		}
		for _, k := range sortedKeys(m) {
			sub := join(path, k)
			ft, found := fieldType(k, types)
			if !found {
				*ps = append(*ps, s.At(sub, "unknown key %q%s", k, suggest(k, fieldNames(types))))
				continue
			}
			s.check(ps, sub, m[k], []reflect.Type{ft})
		}
	case reflect.Map:
		m, ok := raw.(map[string]any)
		if !ok {
			*ps = append(*ps, s.At(path, "%s: want a table, got %s", leaf(path), tomlType(raw)))
			return
		}
		for _, k := range sortedKeys(m) {
			s.check(ps, join(path, k), m[k], []reflect.Type{t.Elem()})
		}
	case reflect.Slice:
		switch items := raw.(type) {
		case []any:
			for i, v := range items {
				s.check(ps, path+"["+strconv.Itoa(i)+"]", v, []reflect.Type{t.Elem()})
			}
		case []map[string]any:
			for i, v := range items {
				s.check(ps, path+"["+strconv.Itoa(i)+"]", v, []reflect.Type{t.Elem()})
			}
		default:
			*ps = append(*ps, s.At(path, "%s: want an array, got %s", leaf(path), tomlType(raw)))
		}
	case reflect.String:
		s.want(ps, path, raw, "a string", func() bool { _, ok := raw.(string); return ok })
	case reflect.Bool:
		s.want(ps, path, raw, "true or false", func() bool { _, ok := raw.(bool); return ok })
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Uint16, reflect.Uint32, reflect.Uint:
		s.want(ps, path, raw, "a whole number", func() bool { _, ok := raw.(int64); return ok })
	case reflect.Float64:
		s.want(ps, path, raw, "a number", func() bool {
			switch raw.(type) {
			case int64, float64:
				return true
			}
			return false
		})
	}
}

func (s *Source) want(ps *Problems, path string, raw any, what string, ok func() bool) {
	if !ok() {
		*ps = append(*ps, s.At(path, "%s: want %s, got %s", leaf(path), what, tomlType(raw)))
	}
}

func leaf(path string) string {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[i+1:]
	}
	return path
}

func tomlType(v any) string {
	switch v := v.(type) {
	case string:
		return "the string " + strconv.Quote(v)
	case int64:
		return "the number " + strconv.FormatInt(v, 10)
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case []any, []map[string]any:
		return "an array"
	case map[string]any:
		return "a table"
	case time.Time:
		return "a date"
	}
	return fmt.Sprintf("%T", v)
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// fieldType finds the field a TOML key decodes into, by tag, as the decoder
// does (BurntSushi also matches names case-insensitively; tejun's schemas tag
// every field, so only tags count and a miscased key is reported).
func fieldType(key string, types []reflect.Type) (reflect.Type, bool) {
	for _, t := range types {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if ft, ok := structField(t, key); ok {
			return ft, true
		}
	}
	return nil, false
}

func structField(t reflect.Type, key string) (reflect.Type, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct && f.Tag.Get("toml") == "" {
			if ft, ok := structField(f.Type, key); ok {
				return ft, true
			}
			continue
		}
		name := strings.Split(f.Tag.Get("toml"), ",")[0]
		if name != "" && name != "-" && name == key {
			return f.Type, true
		}
	}
	return nil, false
}

func fieldNames(types []reflect.Type) []string {
	var names []string
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if f.Anonymous && f.Type.Kind() == reflect.Struct && f.Tag.Get("toml") == "" {
				walk(f.Type)
				continue
			}
			if name := strings.Split(f.Tag.Get("toml"), ",")[0]; name != "" && name != "-" {
				names = append(names, name)
			}
		}
	}
	for _, t := range types {
		walk(t)
	}
	return names
}

// suggest names the closest known word when it is a likely typo.
func suggest(word string, known []string) string {
	if s := Closest(word, known); s != "" {
		return fmt.Sprintf(" (did you mean %q?)", s)
	}
	return ""
}

// Closest returns the known word within a small edit distance of word, or "".
func Closest(word string, known []string) string {
	best, bestD := "", len(word)/3+2
	for _, k := range known {
		if d := distance(word, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
