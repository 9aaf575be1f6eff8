package tomlsrc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// Limits on what tejun will parse. The TOML decoder's memory grows far
// faster than its input on deep nesting (32 KB of nested inline tables took
// over 4 GB, a 3000-part dotted key 300 MB), so an input is measured before
// it is decoded; no runbook or inventory a person writes comes near either.
const (
	MaxFileSize = 4 << 20
	MaxDepth    = 32
)

// ReadFile reads a runbook or inventory, refusing before reading anything
// that is not a regular file (a FIFO would block, /dev/zero never ends) or
// is larger than MaxFileSize. Problems name the file.
func ReadFile(ctx context.Context, path string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// Opening is itself an act on a device (a tape rewinds, a tty becomes
	// the controlling terminal) or a FIFO (a waiting writer is let go): what
	// the path names, symlinks followed, is checked before it is opened.
	fi, err := os.Stat(path)
	if err != nil {
		return nil, Problems{{File: path, Msg: openError(err)}}
	}
	if !fi.Mode().IsRegular() {
		return nil, notRegular(path, fi.Mode())
	}
	// O_NONBLOCK: should the path be swapped for a FIFO after the check,
	// the open must not wait for a writer; the check below then refuses it.
	// Regular files ignore the flag.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, Problems{{File: path, Msg: openError(err)}}
	}
	defer f.Close()
	opened, err := f.Stat()
	if err != nil {
		return nil, Problems{{File: path, Msg: openError(err)}}
	}
	if !opened.Mode().IsRegular() {
		return nil, notRegular(path, opened.Mode())
	}
	if !os.SameFile(fi, opened) {
		return nil, Problems{{File: path, Msg: "replaced while it was being opened; try again"}}
	}
	fi = opened
	if fi.Size() > MaxFileSize {
		return nil, tooBig(path)
	}
	// The size can change between Stat and Read: read one byte more than
	// allowed to know.
	src, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, Problems{{File: path, Msg: openError(err)}}
	}
	if len(src) > MaxFileSize {
		return nil, tooBig(path)
	}
	return src, nil
}

func notRegular(path string, m fs.FileMode) Problems {
	return Problems{{File: path, Msg: fmt.Sprintf("not a regular file (%s); tejun reads runbooks and inventories from files only", kindOf(m))}}
}

func tooBig(path string) Problems {
	return Problems{{File: path, Msg: fmt.Sprintf("larger than %d MiB; no runbook or inventory is that big", MaxFileSize>>20)}}
}

func kindOf(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return m.Type().String()
}

func openError(err error) string {
	if errors.Is(err, fs.ErrNotExist) {
		return "no such file"
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// Prescan refuses, before any decoding, an input that is too large or
// nested deeper than MaxDepth, counting what makes the tree deep: table
// header parts, dotted key parts, and [ and { of values, outside strings
// and comments. It is a lexer, not a parser: on malformed input it gives up
// quietly and leaves the syntax error to the decoder. ctx is honoured, so
// an interrupt is not held up by a large input.
func Prescan(ctx context.Context, file string, src []byte) error {
	if len(src) > MaxFileSize {
		return tooBig(file)
	}
	p := prescan{src: src, line: 1}
	return p.run(ctx, file)
}

type prescan struct {
	src  []byte
	pos  int
	line int
}

func (p *prescan) run(ctx context.Context, file string) error {
	deep := func() error {
		return Problems{{File: file, Line: p.line, Msg: fmt.Sprintf("nested more than %d levels deep; no runbook or inventory needs that", MaxDepth)}}
	}
	var stack []int // per open [ or {: how deep it makes the tree
	var tables []bool
	sum := 0
	header := 0   // parts of the current [table] header
	segments := 1 // parts of the key being read
	pending := 0  // parts of the key whose value is being read
	inKey := true
	lineStart := true
	next := 0
	for p.pos < len(p.src) {
		if p.pos >= next {
			if err := ctx.Err(); err != nil {
				return err
			}
			next = p.pos + 64<<10
		}
		c := p.src[p.pos]
		switch {
		case c == '\n':
			p.line++
			p.pos++
			if len(stack) == 0 {
				lineStart, inKey, segments, pending = true, true, 1, 0
			}
			continue
		case c == ' ' || c == '\t' || c == '\r':
			p.pos++
			continue
		case c == '#':
			for p.pos < len(p.src) && p.src[p.pos] != '\n' {
				p.pos++
			}
			continue
		case c == '"' || c == '\'':
			if !p.str(c) {
				return nil
			}
			lineStart = false
			continue
		}
		switch {
		case lineStart && c == '[' && len(stack) == 0:
			// A table header: its dotted parts are its depth.
			header = 1
			p.pos++
			for p.pos < len(p.src) && p.src[p.pos] != '\n' && p.src[p.pos] != ']' {
				switch p.src[p.pos] {
				case '.':
					header++
					if header > MaxDepth {
						return deep()
					}
					p.pos++
				case '"', '\'':
					if !p.str(p.src[p.pos]) {
						return nil
					}
				case '#':
					return nil // malformed; the decoder says so
				default:
					p.pos++
				}
			}
			for p.pos < len(p.src) && p.src[p.pos] != '\n' && p.src[p.pos] != '#' {
				p.pos++
			}
			lineStart = false
			continue
		case inKey && c == '.':
			segments++
			if header+sum+segments > MaxDepth {
				return deep()
			}
		case inKey && c == '=':
			inKey = false
			pending, segments = segments, 1
		case inKey && c == '}' && len(tables) > 0 && tables[len(tables)-1]:
			// An empty inline table, "{}", or a trailing comma.
			inKey = false
			sum -= stack[len(stack)-1]
			stack, tables = stack[:len(stack)-1], tables[:len(tables)-1]
		case inKey:
		case c == '[' || c == '{':
			stack = append(stack, pending+1)
			tables = append(tables, c == '{')
			sum += pending + 1
			pending = 0
			if header+sum > MaxDepth {
				return deep()
			}
			inKey = c == '{'
		case c == ']' || c == '}':
			if len(stack) > 0 {
				sum -= stack[len(stack)-1]
				stack, tables = stack[:len(stack)-1], tables[:len(tables)-1]
			}
			pending = 0
		case c == ',':
			pending = 0
			if len(tables) > 0 && tables[len(tables)-1] {
				inKey = true
			}
		}
		lineStart = false
		p.pos++
	}
	return nil
}

// str skips a string starting at pos (basic, literal, or either's
// multi-line form); false when it never ends.
func (p *prescan) str(q byte) bool {
	delim := []byte{q}
	if p.pos+2 < len(p.src) && p.src[p.pos+1] == q && p.src[p.pos+2] == q {
		delim = []byte{q, q, q}
	}
	p.pos += len(delim)
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == '\\' && q == '"':
			p.pos++
			if p.pos < len(p.src) && p.src[p.pos] == '\n' {
				p.line++
			}
		case c == '\n':
			if len(delim) == 1 {
				return false
			}
			p.line++
		case c == q && hasPrefix(p.src[p.pos:], delim):
			p.pos += len(delim)
			// A closing """ may be followed by up to two more quotes
			// that belong to the string.
			for len(delim) == 3 && p.pos < len(p.src) && p.src[p.pos] == q {
				p.pos++
			}
			return true
		}
		p.pos++
	}
	return false
}

func hasPrefix(b, prefix []byte) bool {
	return len(b) >= len(prefix) && string(b[:len(prefix)]) == string(prefix)
}
