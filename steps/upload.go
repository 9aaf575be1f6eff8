package steps

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"tejun/transport"
)

// Upload copies a file from the machine running tejun to the host,
// atomically, with owner and mode. Done when the host's copy has the same
// SHA-256, owner and mode.
type Upload struct {
	// Src is a local path, relative to the runbook's directory.
	Src   string `toml:"src" tejun:"path" doc:"The file on the machine running tejun, relative to the runbook's directory."`
	Dst   string `toml:"dst" tejun:"path" doc:"Where it goes on the host."`
	Owner string `toml:"owner" doc:"The user to own it; unset leaves the owner as it is."`
	Group string `toml:"group" doc:"The group to own it; unset leaves the group as it is."`
	Mode  string `toml:"mode" doc:"The permissions in octal; unset leaves them as they are."`
	// become writes as this user through sudo, for places the login user
	// may not write.
	writeAs
}

func (u *Upload) Validate() []Problem {
	ps := Require("upload", "src", u.Src, "dst", u.Dst)
	ps = append(ps, u.validate()...)
	ps = append(ps, Absolute("dst", u.Dst)...)
	if u.Mode != "" && !validMode(u.Mode) {
		ps = append(ps, Problem{"mode", "mode " + u.Mode + " is not an octal mode such as 0644"})
	}
	return ps
}

func (u *Upload) Describe(lang string) Description {
	lines := []string{u.Src + " → " + u.Dst}
	if u.Owner != "" || u.Mode != "" {
		lines = append(lines, T(lang, "所有者 ", "owner ")+ownerSpec(u.Owner, u.Group)+T(lang, "、モード ", ", mode ")+u.Mode)
	}
	return Description{
		Notes:  []string{T(lang, "内容・所有者・モードが同じであれば作業不要です", "Nothing to do if content, owner and mode already match")},
		Blocks: []Block{{Heading: T(lang, "アップロード", "Upload"), Lines: lines, Code: Literal}},
	}
}

func (u *Upload) stat() transport.Cmd {
	return Parsed(transport.Cmd{Argv: []string{"stat", "-c", "%U %G %a", "--", u.Dst}})
}

func (u *Upload) Plan() Plan {
	return Plan{
		Check: Ops(sha256Cmd(u.Dst), u.stat()),
		Apply: []Op{{Action: "sftp " + u.Src + " → " + u.Dst + " (atomic rename, SHA-256 compared)",
			ActionJa: "sftp " + u.Src + " → " + u.Dst + "（一時ファイルから置き換え、SHA-256 で照合）"}},
	}
}

func (u *Upload) local(env Env) string {
	if filepath.IsAbs(u.Src) {
		return u.Src
	}
	return filepath.Join(env.Dir(), u.Src)
}

func (u *Upload) Check(ctx context.Context, env Env) (Status, error) {
	f, err := os.Open(u.local(env))
	if err != nil {
		return Status{}, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return Status{}, err
	}
	want := hex.EncodeToString(h.Sum(nil))
	got, err := remoteSum(ctx, env, u.Dst)
	if err != nil {
		return Status{}, err
	}
	if got == "" {
		return NotDone("%s does not exist", u.Dst), nil
	}
	if got != want {
		return NotDone("%s has other content", u.Dst), nil
	}
	out, err := env.Run(ctx, u.stat(), nil)
	if err != nil {
		return Status{}, err
	}
	f3 := strings.Fields(out)
	if len(f3) == 3 {
		if u.Owner != "" && f3[0] != u.Owner || u.Group != "" && f3[1] != u.Group {
			return NotDone("%s is owned by %s:%s", u.Dst, f3[0], f3[1]), nil
		}
		if u.Mode != "" && !sameMode(f3[2], u.Mode) {
			return NotDone("%s has mode %s", u.Dst, f3[2]), nil
		}
	}
	return Done("%s is up to date", u.Dst), nil
}

func (u *Upload) Apply(ctx context.Context, env Env) error {
	f, err := os.Open(u.local(env))
	if err != nil {
		return err
	}
	defer f.Close()
	files, err := env.Files()
	if err != nil {
		return err
	}
	var mode os.FileMode
	if u.Mode != "" {
		var m uint32
		fmt.Sscanf(u.Mode, "%o", &m)
		mode = os.FileMode(m)
	}
	_, err = files.WriteFile(ctx, u.Dst, f, transport.WriteOptions{Mode: mode, Owner: u.Owner, Group: u.Group, As: u.user()})
	return err
}

func (u *Upload) Verify(ctx context.Context, env Env) error { return VerifyByCheck(ctx, env, u) }
