package steps

import (
	"regexp/syntax"
	"strings"
	"unicode"
)

// Readable turns a pattern a check matches into the result a reviewer
// expects to see: "(?m)^10.0.14.0\s+10.0.12.1\s+UG\s.*\seth1$" is the
// line "10.0.14.0 10.0.12.1 UG … eth1". It handles what such patterns
// are made of (literal text, runs of blanks, "anything" and digits,
// line anchors, newlines) through regexp/syntax's own parse, so what it
// says is what the pattern means; anything else (alternatives, optional
// parts) returns ok false and the pattern is shown as it is. The lines
// returned are the expected text, one per line of output.
//
// whole says the pattern is anchored at both ends of the output, line at
// both ends of a line ((?m)^...$).
func Readable(lang, pattern string) (lines []string, whole, line, ok bool) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil, false, false, false
	}
	re = re.Simplify()
	var subs []*syntax.Regexp
	if re.Op == syntax.OpConcat {
		subs = re.Sub
	} else {
		subs = []*syntax.Regexp{re}
	}
	var b strings.Builder
	var begin, end syntax.Op
	for i, s := range subs {
		switch s.Op {
		case syntax.OpBeginText, syntax.OpBeginLine:
			if i != 0 {
				return nil, false, false, false
			}
			begin = s.Op
			continue
		case syntax.OpEndText, syntax.OpEndLine:
			if i != len(subs)-1 {
				return nil, false, false, false
			}
			end = s.Op
			continue
		}
		if !readablePart(lang, &b, s) {
			return nil, false, false, false
		}
	}
	text := b.String()
	if strings.TrimSpace(text) == "" {
		return nil, false, false, false
	}
	whole = begin == syntax.OpBeginText && end == syntax.OpEndText
	line = !whole && begin != 0 && end != 0
	if begin != 0 && end == 0 {
		text += "…" // "^Disabled": starts with, then anything
	}
	return strings.Split(text, "\n"), whole, line, true
}

func readablePart(lang string, b *strings.Builder, s *syntax.Regexp) bool {
	any := T(lang, "…", "…")
	switch s.Op {
	case syntax.OpLiteral:
		b.WriteString(string(s.Rune))
	case syntax.OpAnyCharNotNL, syntax.OpAnyChar:
		b.WriteString(".") // as the author wrote it: 10.0.14.0
	case syntax.OpCharClass:
		switch {
		case isBlankClass(s.Rune):
			b.WriteString(" ")
		case len(s.Rune) == 2 && s.Rune[0] == s.Rune[1]:
			b.WriteRune(s.Rune[0])
		default:
			return false
		}
	case syntax.OpStar, syntax.OpPlus, syntax.OpRepeat:
		sub := s.Sub[0]
		switch {
		case sub.Op == syntax.OpAnyCharNotNL || sub.Op == syntax.OpAnyChar:
			b.WriteString(any)
		case sub.Op == syntax.OpCharClass && isBlankClass(sub.Rune):
			if s.Op != syntax.OpStar || !strings.HasSuffix(b.String(), " ") {
				b.WriteString(" ")
			}
		case sub.Op == syntax.OpCharClass && isDigitClass(sub.Rune):
			b.WriteString(T(lang, "<数字>", "<number>"))
		default:
			return false
		}
	case syntax.OpConcat:
		for _, x := range s.Sub {
			if !readablePart(lang, b, x) {
				return false
			}
		}
	case syntax.OpCapture:
		return readablePart(lang, b, s.Sub[0])
	case syntax.OpEmptyMatch:
	default:
		return false
	}
	return true
}

// isBlankClass is \s, [ \t] and the like: only blanks.
func isBlankClass(r []rune) bool {
	if len(r) == 0 {
		return false
	}
	for i := 0; i+1 < len(r); i += 2 {
		for c := r[i]; c <= r[i+1]; c++ {
			if !unicode.IsSpace(c) || c == '\n' && len(r) == 2 {
				return false
			}
		}
	}
	return true
}

func isDigitClass(r []rune) bool { return len(r) == 2 && r[0] == '0' && r[1] == '9' }

// ExpectedLines is what a check's Expected block says of a pattern the
// output (or a log) must match: the readable result, then the pattern
// itself for the exact rule.
func ExpectedLines(lang, subject, pattern string) []string {
	lines, whole, line, ok := Readable(lang, pattern)
	if !ok {
		return []string{T(lang, subject+"が "+pattern+" に一致すること", "the "+subjectEN(subject)+" matches "+pattern)}
	}
	var out []string
	switch {
	case len(lines) > 1:
		out = append(out, T(lang, subject+"に次の行が順に現れること", "the "+subjectEN(subject)+" has these lines, in this order"))
		for _, l := range lines {
			out = append(out, "    "+l)
		}
	case whole:
		out = append(out, T(lang, subject+"が「"+lines[0]+"」であること", "the "+subjectEN(subject)+" is “"+lines[0]+"”"))
	case line:
		out = append(out, T(lang, subject+"に「"+lines[0]+"」の行があること", "the "+subjectEN(subject)+" has the line “"+lines[0]+"”"))
	case strings.HasPrefix(pattern, "^") || strings.HasPrefix(pattern, "(?m)^"):
		out = append(out, T(lang, subject+"に「"+lines[0]+"」で始まる行があること", "the "+subjectEN(subject)+" has a line “"+lines[0]+"”"))
	default:
		out = append(out, T(lang, subject+"に「"+lines[0]+"」があること", "the "+subjectEN(subject)+" has “"+lines[0]+"”"))
	}
	if strings.Contains(strings.Join(lines, ""), "…") {
		out = append(out, T(lang, "（… は任意の文字列、空白は1つ以上の空白）", "(… is any text, a blank one or more blanks)"))
	}
	if strings.Join(lines, "\n") == pattern {
		return out // plain text: the pattern says nothing more
	}
	return append(out, T(lang, "正規表現: ", "regular expression: ")+pattern)
}

func subjectEN(ja string) string {
	switch ja {
	case "ログ":
		return "log"
	}
	return "output"
}
