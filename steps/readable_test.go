package steps

import (
	"strings"
	"testing"
)

func TestExpectedLines(t *testing.T) {
	for _, c := range []struct{ lang, subject, pattern, want string }{
		{"ja", "出力", `(?m)^10.0.14.0\s+10.0.12.1\s+255\.255\.255\.0\s+UG\s.*\seth1$`,
			"出力に「10.0.14.0 10.0.12.1 255.255.255.0 UG … eth1」の行があること|（… は任意の文字列、空白は1つ以上の空白）|正規表現: (?m)^10.0.14.0\\s+10.0.12.1\\s+255\\.255\\.255\\.0\\s+UG\\s.*\\seth1$"},
		{"en", "出力", `^3.10.0-327.el7.x86_64$`, "the output is “3.10.0-327.el7.x86_64”|regular expression: ^3.10.0-327.el7.x86_64$"},
		{"en", "出力", ` 0% packet loss`, "the output has “ 0% packet loss”"},
		{"ja", "出力", `^Disabled`, "出力に「Disabled…」で始まる行があること|（… は任意の文字列、空白は1つ以上の空白）|正規表現: ^Disabled"},
		{"en", "ログ", `pcheck\[[0-9]+\]: Up`, "the log has “pcheck[<number>]: Up”|regular expression: pcheck\\[[0-9]+\\]: Up"},
		{"en", "ログ", "(?s)a Down\\n.*b EXIT", "the log has these lines, in this order|    a Down|    …b EXIT|(… is any text, a blank one or more blanks)|regular expression: (?s)a Down\\n.*b EXIT"},
		// Alternatives and optional parts have no plain reading: shown as is.
		{"en", "出力", `(active|running)`, "the output matches (active|running)"},
		{"ja", "出力", `^ok?$`, "出力が ^ok?$ に一致すること"},
	} {
		if got := strings.Join(ExpectedLines(c.lang, c.subject, c.pattern), "|"); got != c.want {
			t.Errorf("%s %q:\n got %q\nwant %q", c.lang, c.pattern, got, c.want)
		}
	}
}
