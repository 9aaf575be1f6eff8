package steps

import (
	"context"
	"strconv"
	"strings"

	"tejun/transport"
)

// Mount puts a file system in /etc/fstab and, with State "mounted",
// mounts it (the Garoon app servers' NFS mounts of the DB servers'
// virtual IP). The fstab entry for the mount point is replaced, never
// duplicated; every other line stays.
type Mount struct {
	Src     string `toml:"src" tejun:"path" doc:"What to mount: a device or a remote file system such as 10.0.0.5:/export."`
	Path    string `toml:"path" tejun:"path" doc:"The mount point on the host."`
	FSType  string `toml:"fstype" doc:"The file system type, as fstab's third field (nfs, xfs)."`
	Options string `toml:"options" default:"defaults" doc:"The mount options, as fstab's fourth field."`
	Dump    int    `toml:"dump" doc:"fstab's fifth field, for dump(8); 0 almost always."`
	Pass    int    `toml:"pass" doc:"fstab's sixth field, the fsck order at boot (0: never checked)."`
	// State is "mounted" (default: in fstab and mounted) or "present"
	// (in fstab only).
	State string `toml:"state" doc:"mounted (default) puts the entry in fstab and mounts it; present only writes the entry."`
	// Fstab is the table to edit; /etc/fstab unless a test says otherwise.
	Fstab string `toml:"fstab" tejun:"path" default:"/etc/fstab" doc:"The file system table to edit."`
}

func (m *Mount) Validate() []Problem {
	ps := Require("mount", "src", m.Src, "path", m.Path, "fstype", m.FSType)
	if m.State != "" && m.State != "mounted" && m.State != "present" {
		ps = append(ps, Problem{"state", "state " + m.State + ": want mounted or present"})
	}
	for _, f := range []struct{ key, v string }{{"src", m.Src}, {"path", m.Path}, {"fstype", m.FSType}, {"options", m.Options}} {
		if strings.ContainsAny(f.v, " \t\n\r\v\f#") {
			ps = append(ps, Problem{f.key, "fstab fields cannot contain spaces or #: " + f.v})
		}
		ps = append(ps, NotOption(f.key, f.v)...)
	}
	ps = append(ps, Absolute("path", m.Path)...)
	return append(ps, Absolute("fstab", m.Fstab)...)
}

func (m *Mount) fstab() string {
	if m.Fstab == "" {
		return "/etc/fstab"
	}
	return m.Fstab
}

func (m *Mount) mounted() bool { return m.State != "present" }

func (m *Mount) entry() string {
	opts := m.Options
	if opts == "" {
		opts = "defaults"
	}
	return strings.Join([]string{m.Src, m.Path, m.FSType, opts, strconv.Itoa(m.Dump), strconv.Itoa(m.Pass)}, " ")
}

func (m *Mount) line() *Line {
	return &Line{Path: m.fstab(), Line: m.entry(), Regexp: `^\S+\s+` + regexpQuote(m.Path) + `\s`, Create: true}
}

func regexpQuote(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`\.+*?()|[]{}^$`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// mountCmd ends options before src and path; the manual's form does not
// (Validate refused values that would need it).
func (m *Mount) mountCmd(manual bool) transport.Cmd {
	argv := []string{"mount"}
	if m.Options != "" {
		argv = append(argv, "-o", m.Options)
	}
	if !manual {
		argv = append(argv, "--")
	}
	return transport.Cmd{Argv: append(argv, m.Src, m.Path)}
}

func (m *Mount) findmnt() transport.Cmd {
	return Parsed(transport.Cmd{Argv: []string{"findmnt", "-n", "-o", "SOURCE", "--mountpoint", m.Path}})
}

func (m *Mount) Describe(lang string) Description {
	d := Description{Blocks: []Block{
		{Heading: T(lang, m.fstab()+" に追記します", "Added to "+m.fstab()), Lines: []string{m.entry()}, Code: Literal},
	}}
	if m.mounted() {
		d.Blocks = append([]Block{CommandBlock(lang, m.mountCmd(true))}, d.Blocks...)
	}
	d.Notes = []string{T(lang, "既にその状態であれば作業不要です", "Nothing to do if already so")}
	return d
}

func (m *Mount) Plan() Plan {
	p := Plan{Check: m.line().Plan().Check}
	if m.mounted() {
		p.Check = append(p.Check, Op{Cmd: m.findmnt()})
	}
	p.Apply = append(m.line().Plan().Apply, Op{Cmd: transport.Cmd{Argv: []string{"mkdir", "-p", "--", m.Path}}})
	if m.mounted() {
		p.Apply = append(p.Apply, Op{Cmd: m.mountCmd(false)})
	}
	return p
}

func (m *Mount) isMounted(ctx context.Context, env Env) (bool, error) {
	out, err := env.Run(ctx, m.findmnt(), nil)
	if exitCode(err) == 1 {
		return false, nil
	}
	return strings.TrimSpace(out) == m.Src, err
}

func (m *Mount) Check(ctx context.Context, env Env) (Status, error) {
	st, err := m.line().Check(ctx, env)
	if err != nil || !st.Done {
		return st, err
	}
	if m.mounted() {
		ok, err := m.isMounted(ctx, env)
		if err != nil {
			return Status{}, err
		}
		if !ok {
			return NotDone("%s is not mounted", m.Path), nil
		}
	}
	return Done("%s is in %s%s", m.Path, m.fstab(), map[bool]string{true: " and mounted", false: ""}[m.mounted()]), nil
}

func (m *Mount) Apply(ctx context.Context, env Env) error {
	if err := m.line().Apply(ctx, env); err != nil {
		return err
	}
	if _, err := env.Run(ctx, transport.Cmd{Argv: []string{"mkdir", "-p", "--", m.Path}}, nil); err != nil {
		return err
	}
	if m.mounted() {
		if ok, err := m.isMounted(ctx, env); err != nil || ok {
			return err
		}
		_, err := env.Run(ctx, m.mountCmd(false), nil)
		return err
	}
	return nil
}

func (m *Mount) Verify(ctx context.Context, env Env) error { return VerifyByCheck(ctx, env, m) }
