// Package mask keeps secrets out of everything tejun prints or records.
// Every sink (terminal, -v output, JSON events, JUnit, audit, error
// messages) goes through one Masker, so a secret is hidden the same way
// everywhere, and Visible makes remote text safe to show on a terminal.
//
// Exact replacement is not enough: a host echoes a multi-line secret line
// by line, error messages join lines with " / ", and a kept tail or head of
// output starts or ends in the middle of a secret. So besides the whole
// secret and each of its lines (of Line bytes or more), every run of the
// output made of Window-byte pieces of a secret is hidden: no Window bytes
// of a secret survive, wherever the output was cut or rejoined.
package mask

import (
	"strings"
	"sync"
)

const (
	// Hidden replaces each masked run.
	Hidden = "********"
	// Window is the shortest piece of a secret hidden wherever it occurs.
	Window = 8
	// Line is the shortest line of a multi-line secret hidden on its own:
	// shorter lines ("}" of a key file) are too common to mean anything.
	Line = 4
)

// Masker hides a set of secrets. Secrets may be added while a run goes
// on (a ticket a command printed); the zero value hides nothing.
type Masker struct {
	mu    sync.RWMutex
	exact map[string]bool     // whole secrets and their lines, shorter than Window
	grams map[uint64]struct{} // every Window-byte piece of every secret
}

// New returns a Masker hiding secrets.
func New(secrets ...string) *Masker {
	m := &Masker{}
	for _, s := range secrets {
		m.Add(s)
	}
	return m
}

// Add hides s (and its lines) from now on.
func (m *Masker) Add(s string) {
	if s == "" {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.exact == nil {
		m.exact, m.grams = map[string]bool{}, map[uint64]struct{}{}
	}
	parts := []string{s}
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSuffix(l, "\r")
		if len(l) >= Line {
			parts = append(parts, l)
		}
	}
	for _, p := range parts {
		if len(p) < Window {
			if len(p) > 0 {
				m.exact[p] = true
			}
			continue
		}
		for i := 0; i+Window <= len(p); i++ {
			m.grams[gram(p[i:])] = struct{}{}
		}
	}
}

func gram(s string) uint64 {
	var g uint64
	for i := 0; i < Window; i++ {
		g = g<<8 | uint64(s[i])
	}
	return g
}

// Replace returns s with every secret, secret line and Window-byte piece
// of a secret replaced by Hidden (one Hidden per contiguous masked run).
func (m *Masker) Replace(s string) string {
	if m == nil {
		return s
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if len(m.exact) == 0 && len(m.grams) == 0 {
		return s
	}
	var hide []bool
	mark := func(from, to int) {
		if hide == nil {
			hide = make([]bool, len(s))
		}
		for i := from; i < to; i++ {
			hide[i] = true
		}
	}
	if len(m.grams) > 0 {
		for i := 0; i+Window <= len(s); i++ {
			if _, ok := m.grams[gram(s[i:])]; ok {
				mark(i, i+Window)
			}
		}
	}
	for e := range m.exact {
		for off := 0; ; {
			j := strings.Index(s[off:], e)
			if j < 0 {
				break
			}
			mark(off+j, off+j+len(e))
			off += j + 1
		}
	}
	if hide == nil {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if !hide[i] {
			b.WriteByte(s[i])
			continue
		}
		b.WriteString(Hidden)
		for i+1 < len(s) && hide[i+1] {
			i++
		}
	}
	return b.String()
}
