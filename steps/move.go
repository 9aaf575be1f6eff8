package steps

import (
	"path"
	"strings"

	"tejun/transport"
)

// Move renames a file into place (the checkpoint from /tmp into P4ROOT).
// Done when the source is gone and the destination is there.
type Move struct {
	Src string `toml:"src"`
	Dst string `toml:"dst"`
}

func (m *Move) Validate() []Problem {
	return Require("move", "src", m.Src, "dst", m.Dst)
}

// target is the destination file: a destination ending in "/" is a
// directory, as with mv.
func (m *Move) target() string {
	if strings.HasSuffix(m.Dst, "/") {
		return m.Dst + path.Base(m.Src)
	}
	return m.Dst
}

func (m *Move) Describe(lang string) Description {
	return Description{
		Notes:  []string{T(lang, m.target()+" へ移動済みであれば作業不要です", "Nothing to do if already moved to "+m.target())},
		Blocks: []Block{CommandBlock(lang, transport.Cmd{Argv: []string{"mv", m.Src, m.Dst}})},
	}
}

func (m *Move) Plan() Plan {
	return Plan{
		Check: Ops(transport.Cmd{Argv: []string{"test", "-e", m.target()}}, transport.Cmd{Argv: []string{"test", "!", "-e", m.Src}}),
		Apply: Ops(transport.Cmd{Argv: []string{"mv", "--", m.Src, m.target()}}),
	}
}
