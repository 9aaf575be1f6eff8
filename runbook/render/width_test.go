package render

import "testing"

func TestPadRightByDisplayWidth(t *testing.T) {
	for _, c := range []struct {
		s    string
		w    int
		want string
	}{
		{"ok", 5, "ok   "},
		{"作業不要", 10, "作業不要  "},
		{"（完了）", 8, "（完了）"},
		{"1-①", 5, "1-①  "},
		{"toolong", 3, "toolong"},
	} {
		if got := PadRight(c.s, c.w); got != c.want {
			t.Errorf("PadRight(%q, %d) = %q, want %q", c.s, c.w, got, c.want)
		}
	}
}

func TestMarkdownCellAndCode(t *testing.T) {
	for in, want := range map[string]string{
		"a|b\nc_d\n": `a\|b<br>c\_d`,
		"x\r\ny":     "x<br>y",
	} {
		if got := mdCell(in); got != want {
			t.Errorf("mdCell(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"root@10.0.0.1:22": "`root@10.0.0.1:22`",
		"a|b":              "`a\\|b`",
		"echo `x`":         "`` echo `x` ``",
		"":                 "",
	} {
		if got := MarkdownCode(in); got != want {
			t.Errorf("MarkdownCode(%q) = %q, want %q", in, got, want)
		}
	}
}
