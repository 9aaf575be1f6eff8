package render

import (
	"strings"

	"github.com/mattn/go-runewidth"
)

// widths measures text as a terminal shows it: a kanji or a full-width
// 「（」 takes two columns, so padding by rune count (fmt's %-12s) leaves
// Japanese columns ragged. The condition is fixed, not read from the
// locale (runewidth's default), so the output does not depend on who runs
// it: ambiguous characters such as ① count as one column.
var widths = &runewidth.Condition{EastAsianWidth: false}

// Width is the number of terminal columns s takes.
func Width(s string) int { return widths.StringWidth(s) }

// PadRight pads s with spaces to w columns.
func PadRight(s string, w int) string {
	if n := Width(s); n < w {
		return s + strings.Repeat(" ", w-n)
	}
	return s
}
