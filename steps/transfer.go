package steps

import (
	"path"
	"strings"

	"tejun/transport"
)

// Transfer copies a file from the step's host to another host, streamed
// through tejun (no copy on the machine running tejun) and checked by
// SHA-256 on both ends. The manual does this with "an FTP tool of your
// choice"; a checkpoint that arrives truncated restores a broken standby.
type Transfer struct {
	Src string `toml:"src"`
	To  string `toml:"to"`
	Dst string `toml:"dst"`
}

func (t *Transfer) Validate() []Problem {
	var ps []Problem
	if t.Src == "" || !path.IsAbs(t.Src) {
		ps = append(ps, Problem{"src", "transfer needs an absolute src"})
	}
	if t.To == "" {
		ps = append(ps, Problem{"to", "transfer needs the destination host (to)"})
	}
	if t.Dst == "" || !path.IsAbs(t.Dst) {
		ps = append(ps, Problem{"dst", "transfer needs an absolute dst"})
	}
	return ps
}

func (t *Transfer) HostParams() map[string]string { return map[string]string{"to": t.To} }

// target is the file on the destination; a dst ending in "/" is a directory.
func (t *Transfer) target() string {
	if strings.HasSuffix(t.Dst, "/") {
		return t.Dst + path.Base(t.Src)
	}
	return t.Dst
}

func (t *Transfer) Outputs() map[string]string {
	return map[string]string{"path": t.target(), "file": path.Base(t.target())}
}

func (t *Transfer) Describe(lang string) Description {
	return Description{
		Notes: []string{T(lang, "転送済みで内容(SHA-256)が一致していれば作業不要です", "Nothing to do if already there with the same SHA-256")},
		Blocks: []Block{{
			Heading: T(lang, "転送", "Transfer"),
			Lines:   []string{t.Src + " → " + t.To + ":" + t.target()},
			Code:    Literal,
		}},
	}
}

func (t *Transfer) Plan() Plan {
	sum := func(p string) transport.Cmd { return transport.Cmd{Argv: []string{"sha256sum", "--", p}} }
	return Plan{
		Check: []Op{{Cmd: sum(t.Src)}, {Host: t.To, Cmd: sum(t.target())}},
		Apply: []Op{
			{Action: "sftp " + t.Src + " → " + t.To + ":" + t.target() + " (streamed, SHA-256 compared)"},
		},
	}
}
