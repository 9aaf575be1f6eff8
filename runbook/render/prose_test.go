package render

import "testing"

func TestProse(t *testing.T) {
	for _, c := range []struct{ in, md, plain string }{
		{"`p4 servers -J`: shows how far journal copying has got", "`p4 servers -J`: shows how far journal copying has got", "p4 servers -J: shows how far journal copying has got"},
		{"set `any#P4LOG` for *this* standby", "set `any#P4LOG` for \\*this\\* standby", "set any#P4LOG for *this* standby"},
		{"`startup.1=journalcopy -i 1`：起動時に", "`startup.1=journalcopy -i 1`：起動時に", "startup.1=journalcopy -i 1：起動時に"},
		// No pair: nothing is code, the backtick is escaped.
		{"a lone ` here", "a lone \\` here", "a lone ` here"},
		{"`a` and ` b", "`a` and \\` b", "a and ` b"},
		{"no code_here", "no code\\_here", "no code_here"},
		{"", "", ""},
	} {
		if got := MarkdownProse(c.in); got != c.md {
			t.Errorf("MarkdownProse(%q) = %q, want %q", c.in, got, c.md)
		}
		if got := PlainProse(c.in); got != c.plain {
			t.Errorf("PlainProse(%q) = %q, want %q", c.in, got, c.plain)
		}
	}
}
