package tomlsrc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// Problem is one thing wrong with an input file, placed where a person can
// find it.
type Problem struct {
	File string
	Line int
	Msg  string
	key  string // the key path it is about, for Prune
}

func (p Problem) Error() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg)
	}
	return fmt.Sprintf("%s: %s", p.File, p.Msg)
}

// Problems collects every problem of a load so that all are reported in one
// go: fixing a runbook one error per run is what tejun exists to avoid.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// Sort orders problems by file and line, keeping the order of discovery
// within a line, so output is stable for golden tests.
func (ps Problems) Sort() {
	sort.SliceStable(ps, func(i, j int) bool {
		if ps[i].File != ps[j].File {
			return ps[i].File < ps[j].File
		}
		return ps[i].Line < ps[j].Line
	})
}

// Err returns nil for no problems, else the problems sorted, each once.
func (ps Problems) Err() error {
	if len(ps) == 0 {
		return nil
	}
	// The same mistake met once per host of a role is one problem.
	seen := map[Problem]bool{}
	out := ps[:0:0]
	for _, p := range ps {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	out.Sort()
	return out
}

// Source is one loaded TOML file: its name for messages, its key index and
// its decoded tree.
type Source struct {
	File  string
	Index Index
	Raw   map[string]any
}

// Parse reads src. A syntax error comes back as a single Problem at the
// parser's line; the caller stops there, since nothing after it is known.
func Parse(file string, src []byte) (*Source, error) {
	if err := Prescan(context.Background(), file, src); err != nil {
		return nil, err
	}
	raw := map[string]any{}
	if _, err := toml.Decode(string(src), &raw); err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			msg := pe.Message
			if pe.Usage != "" {
				msg += " (" + strings.TrimSpace(strings.SplitN(pe.Usage, "\n", 2)[0]) + ")"
			}
			return nil, Problems{{File: file, Line: pe.Position.Line, Msg: "TOML syntax: " + msg}}
		}
		return nil, Problems{{File: file, Msg: typeError(err)}}
	}
	return &Source{File: file, Index: Build(src), Raw: raw}, nil
}

// Decode fills v from the tree as Check and Prune left it. The decoder's
// own errors are then limited to what Check cannot see (values a type's
// UnmarshalText refuses), and are reported without a line.
func (s *Source) Decode(v any) (toml.MetaData, error) {
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(s.Raw); err != nil {
		return toml.MetaData{}, Problems{{File: s.File, Msg: err.Error()}}
	}
	md, err := toml.Decode(buf.String(), v)
	if err != nil {
		return md, Problems{{File: s.File, Msg: typeError(err)}}
	}
	return md, nil
}

// typeError shortens BurntSushi's decode messages ("toml: line 3 (last key
// ...): incompatible types ...") to the part a runbook author acts on.
func typeError(err error) string {
	return strings.TrimPrefix(err.Error(), "toml: ")
}

// At makes a Problem at the line of key path.
func (s *Source) At(path, format string, args ...any) Problem {
	return Problem{File: s.File, Line: s.Index.Line(path), Msg: fmt.Sprintf(format, args...), key: path}
}

// Prune drops the keys that problems are about from the decoded tree, so
// that decoding what is left succeeds and the checks after it (ids, hosts,
// variables) still run: one run reports everything. Array members are
// never removed, only emptied of the bad key, so indices and therefore
// line numbers stay right.
func (s *Source) Prune(ps Problems) {
	for _, p := range ps {
		if p.key != "" && p.File == s.File {
			prune(s.Raw, p.key)
		}
	}
}

func prune(m map[string]any, path string) {
	parts := strings.Split(path, ".")
	var cur any = m
	for i, part := range parts {
		name, idx := part, -1
		if j := strings.IndexByte(part, '['); j >= 0 && strings.HasSuffix(part, "]") {
			name = part[:j]
			n, err := strconv.Atoi(part[j+1 : len(part)-1])
			if err != nil {
				return
			}
			idx = n
		}
		table, ok := cur.(map[string]any)
		if !ok {
			return
		}
		if i == len(parts)-1 && idx < 0 {
			delete(table, name)
			return
		}
		cur = table[name]
		if idx >= 0 {
			switch arr := cur.(type) {
			case []map[string]any:
				if idx >= len(arr) {
					return
				}
				if i == len(parts)-1 {
					arr[idx] = map[string]any{}
					return
				}
				cur = arr[idx]
			case []any:
				if idx >= len(arr) {
					return
				}
				if i == len(parts)-1 {
					table[name] = append(arr[:idx:idx], arr[idx+1:]...)
					return
				}
				cur = arr[idx]
			default:
				return
			}
		}
	}
}
