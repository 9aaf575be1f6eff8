package tomlsrc

import "testing"

func TestLines(t *testing.T) {
	src := `# comment
name = "x"   # trailing [not.a.table]
[runbook]
title.ja = "タイトル"
text = """
fake = "not a key"
[not.a.table]
"""
list = [
  "a",
  "b = c",
]

[[section]]
id = "one"
[[section.step]]
id = "s1"
[[section.step]]
id = "s2"
"quoted.key" = 1
[section.step.with]
deep = 1

[[section]]
id = "two"
[[section.step]]
kind = 'p4.server'
inline = { a = 1,
  b = 2 }
after = true
`
	ix := Build([]byte(src))
	cases := map[string]int{
		"name":                          2,
		"runbook":                       3,
		"runbook.title.ja":              4,
		"runbook.text":                  5,
		"runbook.list":                  9,
		"section[0]":                    14,
		"section[0].id":                 15,
		"section[0].step[0].id":         17,
		"section[0].step[1].id":         19,
		"section[0].step[1].quoted.key": 20,
		"section[0].step[1].with.deep":  22,
		"section[1].id":                 25,
		"section[1].step[0].kind":       27,
		"section[1].step[0].inline.a":   28, // falls back to the inline table's key
		"section[1].step[0].after":      30,
		"section[1].step[0].never.set":  26, // falls back to the step header
		"fake":                          0,
		"not.a.table":                   0,
	}
	for path, want := range cases {
		if got := ix.Line(path); got != want {
			t.Errorf("Line(%q) = %d, want %d", path, got, want)
		}
	}
}

func FuzzBuild(f *testing.F) {
	f.Add(`a = """x`)
	f.Add(`[[a.b]]` + "\n" + `c = [ "]", '[' ]`)
	f.Fuzz(func(t *testing.T, src string) {
		ix := Build([]byte(src))
		_ = ix.Line("a.b[0].c")
	})
}
