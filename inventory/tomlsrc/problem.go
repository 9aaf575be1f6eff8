package tomlsrc

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// Problem is one thing wrong with an input file, placed where a person can
// find it.
type Problem struct {
	File string
	Line int
	Msg  string
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
	src   string
}

// Parse reads src. A syntax error comes back as a single Problem at the
// parser's line; the caller stops there, since nothing after it is known.
func Parse(file string, src []byte) (*Source, error) {
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
	return &Source{File: file, Index: Build(src), Raw: raw, src: string(src)}, nil
}

// Decode fills v from the file. Call it after Check found nothing: the
// decoder's own errors are then limited to what Check cannot see (values a
// type's UnmarshalText refuses), and are reported without a line.
func (s *Source) Decode(v any) (toml.MetaData, error) {
	md, err := toml.Decode(s.src, v)
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
	return Problem{File: s.File, Line: s.Index.Line(path), Msg: fmt.Sprintf(format, args...)}
}
