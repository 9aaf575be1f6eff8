package mask

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Visible renders control characters in s as text, so remote output or an
// inventory value cannot drive the terminal it is printed on: no screen
// clearing (ESC[2J), no clipboard writes (OSC 52), no line overwritten by
// a carriage return, no reordering by bidi controls. Tab and newline stay;
// a CR before a newline is a line ending and goes; C0 controls show in
// caret notation (ESC is ^[), C1 controls, bidi controls (the embeddings,
// overrides and isolates, and the LRM, RLM and ALM marks) and the Unicode
// line and paragraph separators (a line break to an editor or a log
// viewer, where it could start a forged line) as \u009b,
// bytes that are not UTF-8 as \x9b (some terminals take a raw 0x9b for
// CSI). JSON output keeps the text as a value: encoding/json escapes the
// C0 controls, and the CLI the rest (Escaped).
func Visible(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' && c != '\n' || c >= 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\r' && i+1 < len(s) && s[i+1] == '\n':
		case r == '\t' || r == '\n':
			b.WriteRune(r)
		case r < 0x20:
			b.WriteByte('^')
			b.WriteByte(byte(r) + 0x40)
		case r == 0x7f:
			b.WriteString("^?")
		case Escaped(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// Escaped says whether r, a character beyond ASCII, is one that Visible
// shows as \u escape: a C1 control, a bidi control or a line or paragraph
// separator. JSON output escapes these too (encoding/json leaves them
// raw), so a terminal showing it has nothing to obey.
func Escaped(r rune) bool {
	return r >= 0x80 && r < 0xa0 || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 ||
		r == 0x200e || r == 0x200f || r == 0x061c || r == 0x2028 || r == 0x2029
}
