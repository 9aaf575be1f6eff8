// Package tomlsrc finds the line on which each key of a TOML document is
// written. BurntSushi/toml reports positions only for syntax errors, yet every
// problem tejun finds in a runbook or inventory (unknown kind, mistyped
// parameter, missing host) must name file:line, so the document is scanned a
// second time, lightly, just for key positions.
package tomlsrc

import (
	"strconv"
	"strings"
)

// Index maps a key path to the 1-based line where it is written. Paths are
// dotted; members of arrays of tables carry their index, e.g.
// "section[0].step[2].kind".
type Index struct {
	lines map[string]int
}

// Line returns the line of path or, when path itself was not written (an
// inline table member, a default), of its nearest written ancestor; 0 when
// nothing of it is known.
func (ix Index) Line(path string) int {
	for path != "" {
		if l, ok := ix.lines[path]; ok {
			return l
		}
		cut := strings.LastIndexAny(path, ".[")
		if cut < 0 {
			return 0
		}
		path = path[:cut]
	}
	return 0
}

// Build scans src. It never fails: on malformed input it records what it can,
// because the real parser reports the syntax error itself.
func Build(src []byte) Index {
	s := &scanner{src: string(src), line: 1, ix: Index{lines: map[string]int{}}, arrays: map[string]int{}}
	s.run()
	return s.ix
}

type scanner struct {
	src    string
	pos    int
	line   int
	ix     Index
	table  string         // resolved path of the current table
	arrays map[string]int // resolved array-of-tables path -> current index
}

func (s *scanner) peek(n int) string {
	if s.pos+n > len(s.src) {
		return s.src[s.pos:]
	}
	return s.src[s.pos : s.pos+n]
}

func (s *scanner) advance() {
	if s.src[s.pos] == '\n' {
		s.line++
	}
	s.pos++
}

func (s *scanner) skipSpace() {
	for s.pos < len(s.src) && (s.src[s.pos] == ' ' || s.src[s.pos] == '\t' || s.src[s.pos] == '\r') {
		s.pos++
	}
}

func (s *scanner) skipToEOL() {
	for s.pos < len(s.src) && s.src[s.pos] != '\n' {
		s.pos++
	}
}

func (s *scanner) run() {
	for s.pos < len(s.src) {
		s.skipSpace()
		if s.pos >= len(s.src) {
			return
		}
		switch c := s.src[s.pos]; {
		case c == '\n':
			s.advance()
		case c == '#':
			s.skipToEOL()
		case s.peek(2) == "[[":
			s.pos += 2
			parts := s.keyParts("]")
			s.pos += min(2, len(s.src)-s.pos)
			s.header(parts, true)
			s.skipToEOL()
		case c == '[':
			s.pos++
			parts := s.keyParts("]")
			s.pos += min(1, len(s.src)-s.pos)
			s.header(parts, false)
			s.skipToEOL()
		default:
			line := s.line
			parts := s.keyParts("=")
			if s.pos >= len(s.src) || s.src[s.pos] != '=' || len(parts) == 0 {
				s.skipToEOL()
				continue
			}
			s.pos++
			path := s.table
			for _, p := range parts {
				path = join(path, p)
			}
			s.ix.lines[path] = line
			s.value()
		}
	}
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// header resolves a [table] or [[array]] header against the arrays seen so far
// so that "section.step" inside the third section becomes "section[2].step[n]".
func (s *scanner) header(parts []string, array bool) {
	path := ""
	for i, p := range parts {
		path = join(path, p)
		last := i == len(parts)-1
		if last && array {
			n, ok := s.arrays[path]
			if ok {
				n++
			}
			s.arrays[path] = n
			path += "[" + strconv.Itoa(n) + "]"
		} else if n, ok := s.arrays[path]; ok {
			path += "[" + strconv.Itoa(n) + "]"
		}
	}
	s.table = path
	s.ix.lines[path] = s.line
}

// keyParts reads a possibly dotted, possibly quoted key up to stop.
func (s *scanner) keyParts(stop string) []string {
	var parts []string
	var cur strings.Builder
	for s.pos < len(s.src) {
		c := s.src[s.pos]
		switch {
		case strings.IndexByte(stop, c) >= 0 || c == '\n':
			return append(parts, strings.TrimSpace(cur.String()))
		case c == '"' || c == '\'':
			cur.WriteString(s.quoted(c))
		case c == '.':
			parts = append(parts, strings.TrimSpace(cur.String()))
			cur.Reset()
			s.pos++
		default:
			cur.WriteByte(c)
			s.pos++
		}
	}
	return append(parts, strings.TrimSpace(cur.String()))
}

// quoted reads a one-line quoted key and returns its text (escapes kept raw,
// enough to name a key).
func (s *scanner) quoted(q byte) string {
	s.pos++
	start := s.pos
	for s.pos < len(s.src) && s.src[s.pos] != q && s.src[s.pos] != '\n' {
		if q == '"' && s.src[s.pos] == '\\' && s.pos+1 < len(s.src) {
			s.pos++
		}
		s.pos++
	}
	text := s.src[start:s.pos]
	if s.pos < len(s.src) && s.src[s.pos] == q {
		s.pos++
	}
	return text
}

// value skips one value, which may span lines (multi-line strings, arrays,
// inline tables), so that keys inside strings are never mistaken for keys.
func (s *scanner) value() {
	depth := 0
	for s.pos < len(s.src) {
		c := s.src[s.pos]
		switch {
		case s.peek(3) == `"""` || s.peek(3) == "'''":
			s.multiline(s.peek(3))
		case c == '"' || c == '\'':
			s.quoted(c)
		case c == '[' || c == '{':
			depth++
			s.pos++
		case c == ']' || c == '}':
			depth--
			s.pos++
		case c == '#':
			s.skipToEOL()
		case c == '\n':
			if depth <= 0 {
				return
			}
			s.advance()
		default:
			s.pos++
		}
	}
}

func (s *scanner) multiline(delim string) {
	s.pos += 3
	for s.pos < len(s.src) {
		if delim == `"""` && s.src[s.pos] == '\\' && s.pos+1 < len(s.src) {
			s.pos++
			s.advance()
			continue
		}
		if s.peek(3) == delim {
			s.pos += 3
			// A closing delimiter may be followed by up to two more quotes
			// that belong to the string.
			for s.pos < len(s.src) && s.src[s.pos] == delim[0] {
				s.pos++
			}
			return
		}
		s.advance()
	}
}
