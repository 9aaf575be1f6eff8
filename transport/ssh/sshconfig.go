package ssh

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// Request is what the inventory says about reaching one host. Empty fields
// are unset: the OpenSSH client configuration decides them, as it would
// for `ssh -o HostName=ADDRESS -p PORT -l USER -i IDENTITY -J JUMP NAME`.
type Request struct {
	Name         string // what Host blocks match, as the name typed on ssh's command line
	Address      string // overrides HostName; "" lets ssh_config's HostName apply
	Port         int
	User         string
	IdentityFile string
	Jump         string // [user@]host[:port],... as ssh -J takes it
	NoJump       bool   // no jump and no ProxyCommand, whatever ssh_config says
	HostKey      string // "", "strict" or "accept-new"
	KnownHosts   string
}

// UserConfig resolves hosts the way the OpenSSH client would: through
// `ssh -G` when ssh is installed (so Match exec, Include, tokens and
// /etc/ssh/ssh_config all behave exactly as they do for the operator's own
// ssh), else through tejun's own parser of the same files.
type UserConfig struct {
	// File is ssh's -F: the only configuration file read; "" reads
	// ~/.ssh/config and /etc/ssh/ssh_config, "none" reads nothing.
	File string
	// SSH is the ssh client to ask; "" uses the Go parser.
	SSH string
	// Note is told, once, that the Go parser stands in for ssh.
	Note func(string)
	// System is the system-wide file the Go parser reads after the
	// user's; "" is /etc/ssh/ssh_config.
	System string

	once sync.Once
}

// DefaultUserConfig reads the configuration ssh would: $TEJUN_SSH_CONFIG
// when set (as ssh -F), else ~/.ssh/config and /etc/ssh/ssh_config.
func DefaultUserConfig() (*UserConfig, error) {
	return NewUserConfig(os.Getenv("TEJUN_SSH_CONFIG"), os.Stderr), nil
}

// NewUserConfig resolves through the installed ssh client, or, without
// one, through the Go parser, saying so once on w.
func NewUserConfig(file string, w io.Writer) *UserConfig {
	u := &UserConfig{File: file}
	if p, err := exec.LookPath("ssh"); err == nil {
		u.SSH = p
	} else if w != nil {
		u.Note = func(s string) { fmt.Fprintln(w, s) }
	}
	return u
}

// LoadUserConfig is the Go parser reading only path (ssh -F path).
func LoadUserConfig(path string) (*UserConfig, error) {
	if _, err := os.Stat(path); err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	return &UserConfig{File: path}, nil
}

// Options returns the effective options for req, keyed by lower-case
// directive, as `ssh -G` prints them (identityfile and certificatefile
// once per value, the others as one joined value).
func (u *UserConfig) Options(req Request) (map[string][]string, error) {
	if u == nil {
		u = &UserConfig{File: "none"}
	}
	if u.SSH != "" {
		return u.sshG(req)
	}
	u.once.Do(func() {
		if u.Note != nil {
			u.Note("tejun: no ssh client installed; reading the ssh configuration with tejun's own parser")
		}
	})
	return u.parse(req)
}

// sshArgs are the ssh options that make the inventory's settings win as
// ssh's command line wins over its configuration files.
func (u *UserConfig) sshArgs(req Request) ([]string, error) {
	if err := hostWord("host name", req.Name); err != nil {
		return nil, err
	}
	var args []string
	if u.File != "" {
		args = append(args, "-F", u.File)
	}
	// Values go in as whole argv words where ssh has an option for them;
	// in -o text, ssh would split on blanks and read quotes.
	opt := func(k, v string) error {
		if strings.ContainsAny(v, " \t\"'\\\n\r") {
			return fmt.Errorf("%s %q: blanks, quotes and backslashes cannot be passed to ssh", k, v)
		}
		args = append(args, "-o", k+"="+v)
		return nil
	}
	if req.Address != "" && req.Address != req.Name {
		if err := opt("HostName", req.Address); err != nil {
			return nil, err
		}
	}
	if req.Port != 0 {
		args = append(args, "-p", strconv.Itoa(req.Port))
	}
	if req.User != "" {
		args = append(args, "-l", req.User)
	}
	if req.IdentityFile != "" {
		args = append(args, "-i", req.IdentityFile)
	}
	switch {
	case req.NoJump:
		args = append(args, "-o", "ProxyJump=none", "-o", "ProxyCommand=none")
	case req.Jump != "":
		if err := opt("ProxyJump", req.Jump); err != nil {
			return nil, err
		}
	}
	switch req.HostKey {
	case "strict":
		args = append(args, "-o", "StrictHostKeyChecking=yes")
	case "accept-new":
		args = append(args, "-o", "StrictHostKeyChecking=accept-new")
	}
	if req.KnownHosts != "" {
		if err := opt("UserKnownHostsFile", req.KnownHosts); err != nil {
			return nil, err
		}
	}
	return append(args, "--", strings.ToLower(req.Name)), nil
}

// hostWord refuses what ssh would read as something other than a host
// name (an option, user@host, a URI) or what tokens would carry into a
// shell command.
func hostWord(what, s string) error {
	if s == "" || strings.HasPrefix(s, "-") || strings.ContainsAny(s, "@/ \t\r\n'\"`;&|<>()$\\*?[]{}!~#") {
		return fmt.Errorf("%s %q cannot be looked up in the ssh configuration", what, s)
	}
	return nil
}

func (u *UserConfig) sshG(req Request) (map[string][]string, error) {
	args, err := u.sshArgs(req)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(u.SSH, append([]string{"-G"}, args...)...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("ssh -G %s: %v: %s", req.Name, err, strings.TrimSpace(stderr.String()))
	}
	opts := map[string][]string{}
	for _, line := range strings.Split(string(out), "\n") {
		k, v, _ := strings.Cut(line, " ")
		if k != "" {
			opts[k] = append(opts[k], v)
		}
	}
	return opts, nil
}

// Resolve returns how to reach req's host, jump hosts included.
func (u *UserConfig) Resolve(req Request) (Config, error) {
	return u.resolve(req, 0)
}

func (u *UserConfig) resolve(req Request, depth int) (Config, error) {
	if depth > 8 {
		return Config{}, fmt.Errorf("%s: more than 8 nested jump hosts: they form a loop", req.Name)
	}
	opts, err := u.Options(req)
	if err != nil {
		return Config{}, err
	}
	cfg, err := fromOptions(req, opts)
	if err != nil {
		return cfg, fmt.Errorf("%s: %w", req.Name, err)
	}
	if pj := first(opts, "proxyjump"); pj != "" && pj != "none" && !req.NoJump {
		// As ssh -J a,b does: b is reached through a (whatever b's own
		// ProxyJump says), a through its own configuration.
		hops := strings.Split(pj, ",")
		last := hops[len(hops)-1]
		hop := ParseJump(strings.TrimSpace(last))
		if hop.Address == "" {
			return cfg, fmt.Errorf("%s: ProxyJump %q: no host", req.Name, pj)
		}
		jr := Request{Name: hop.Address, Port: hop.Port, User: hop.User, HostKey: req.HostKey, KnownHosts: req.KnownHosts}
		if len(hops) > 1 {
			jr.Jump = strings.Join(hops[:len(hops)-1], ",")
		}
		j, err := u.resolve(jr, depth+1)
		if err != nil {
			return cfg, fmt.Errorf("%s: through %s: %w", req.Name, last, err)
		}
		cfg.Jump = &j
		cfg.ProxyCommand = ""
	}
	return cfg, nil
}

func first(opts map[string][]string, k string) string {
	if v := opts[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// fromOptions turns ssh -G's view into tejun's, expanding the tokens ssh
// would expand when it connects.
func fromOptions(req Request, opts map[string][]string) (Config, error) {
	local := localInfo()
	cfg := Config{Name: req.Name, Address: first(opts, "hostname"), User: first(opts, "user")}
	if cfg.Name == "" {
		cfg.Name = cfg.Address
	}
	var err error
	if cfg.Port, err = strconv.Atoi(first(opts, "port")); err != nil || cfg.Port < 1 || cfg.Port > 65535 {
		return cfg, fmt.Errorf("port %q is not between 1 and 65535", first(opts, "port"))
	}
	tokens := map[byte]string{
		'h': cfg.Address, 'p': strconv.Itoa(cfg.Port), 'r': cfg.User, 'n': strings.ToLower(req.Name),
		'u': local.user, 'd': local.home, 'i': local.uid, 'l': local.host, 'L': local.short,
	}
	path := func(p string) string { return expandHome(expandTokens(p, tokens), local.home) }
	// ssh -i drops a file that does not exist; the inventory's file is
	// required, so it goes first whether ssh listed it or not.
	var inv string
	if req.IdentityFile != "" {
		inv = path(req.IdentityFile)
		cfg.IdentityFiles, cfg.IdentityRequired = []string{inv}, true
	}
	for _, f := range opts["identityfile"] {
		if f = path(f); f != inv {
			cfg.IdentityFiles = append(cfg.IdentityFiles, f)
		}
	}
	for _, f := range opts["certificatefile"] {
		cfg.CertificateFiles = append(cfg.CertificateFiles, path(f))
	}
	cfg.IdentitiesOnly = yes(first(opts, "identitiesonly"))
	switch a := first(opts, "identityagent"); {
	case a == "" || a == "SSH_AUTH_SOCK":
	case a == "none":
		cfg.AgentSocket = "none"
	case strings.HasPrefix(a, "$"):
		cfg.AgentSocket = os.Getenv(a[1:])
		if cfg.AgentSocket == "" {
			cfg.AgentSocket = "none"
		}
	default:
		cfg.AgentSocket = path(a)
	}
	for _, f := range strings.Fields(first(opts, "userknownhostsfile")) {
		if f != "none" {
			cfg.KnownHosts = append(cfg.KnownHosts, path(f))
		}
	}
	for _, f := range strings.Fields(first(opts, "globalknownhostsfile")) {
		if f != "none" {
			cfg.GlobalKnownHosts = append(cfg.GlobalKnownHosts, path(f))
		}
	}
	cfg.HashKnownHosts = yes(first(opts, "hashknownhosts"))
	// StrictHostKeyChecking no (or ask, which tejun cannot ask) is
	// strict: tejun never connects to a host it cannot identify.
	cfg.HostKey = "strict"
	if first(opts, "stricthostkeychecking") == "accept-new" {
		cfg.HostKey = "accept-new"
	}
	if pc := first(opts, "proxycommand"); pc != "" && pc != "none" && !req.NoJump {
		for _, w := range []struct{ what, v string }{{"host name", cfg.Address}, {"user", cfg.User}, {"host name", req.Name}} {
			if err := hostWord(w.what, w.v); err != nil && strings.Contains(pc, "%") {
				return cfg, fmt.Errorf("ProxyCommand: %w", err)
			}
		}
		cfg.ProxyCommand = expandTokens(pc, tokens)
	}
	if ct := first(opts, "connecttimeout"); ct != "" && ct != "none" {
		n, err := strconv.Atoi(ct)
		if err != nil {
			return cfg, fmt.Errorf("ConnectTimeout %q is not a number of seconds", ct)
		}
		cfg.ConnectTimeout = time.Duration(n) * time.Second
	}
	if n, err := strconv.Atoi(first(opts, "serveraliveinterval")); err == nil && n > 0 {
		cfg.Keepalive = time.Duration(n) * time.Second
	}
	if n, err := strconv.Atoi(first(opts, "serveralivecountmax")); err == nil && n > 0 {
		cfg.KeepaliveMax = n
	}
	supported := gossh.SupportedAlgorithms()
	for _, a := range []struct {
		key  string
		have []string
		dst  *[]string
	}{
		{"hostkeyalgorithms", supported.HostKeys, &cfg.HostKeyAlgorithms},
		{"ciphers", supported.Ciphers, &cfg.Ciphers},
		{"kexalgorithms", supported.KeyExchanges, &cfg.KexAlgorithms},
		{"macs", supported.MACs, &cfg.MACs},
	} {
		v := first(opts, a.key)
		if v == "" {
			continue
		}
		for _, alg := range strings.Split(v, ",") {
			if contains(a.have, alg) {
				*a.dst = append(*a.dst, alg)
			}
		}
		if len(*a.dst) == 0 {
			return cfg, fmt.Errorf("%s %s: tejun supports none of them", a.key, v)
		}
	}
	return cfg, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func yes(v string) bool { return v == "yes" || v == "true" }

type local struct{ user, home, uid, host, short string }

var localOnce = sync.OnceValue(func() local {
	var l local
	if u, err := user.Current(); err == nil {
		l.user, l.home, l.uid = u.Username, u.HomeDir, u.Uid
	} else {
		l.home, _ = os.UserHomeDir()
		l.uid = strconv.Itoa(os.Getuid())
	}
	l.host, _ = os.Hostname()
	l.short, _, _ = strings.Cut(l.host, ".")
	return l
})

func localInfo() local { return localOnce() }

// expandTokens replaces ssh's %x tokens; an unknown token stays as it is.
func expandTokens(s string, tokens map[byte]string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		if s[i] == '%' {
			b.WriteByte('%')
		} else if v, ok := tokens[s[i]]; ok {
			b.WriteString(v)
		} else {
			b.WriteByte('%')
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// ParseJump reads "[user@]host[:port]" or "ssh://[user@]host[:port]".
func ParseJump(s string) *Config {
	s = strings.TrimPrefix(s, "ssh://")
	c := &Config{}
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		c.User, s = s[:i], s[i+1:]
	}
	host, port := s, ""
	if strings.HasPrefix(s, "[") {
		if i := strings.Index(s, "]"); i > 0 {
			host, port = s[1:i], strings.TrimPrefix(s[i+1:], ":")
		}
	} else if i := strings.LastIndexByte(s, ':'); i >= 0 && strings.Count(s, ":") == 1 {
		host, port = s[:i], s[i+1:]
	}
	c.Address, c.Name = host, host
	c.Port, _ = strconv.Atoi(port)
	return c
}

func expandHome(p, home string) string {
	if p == "~" {
		return home
	}
	if strings.HasPrefix(p, "~/") {
		return filepath.Join(home, p[2:])
	}
	return p
}

// ExpandHome expands a leading ~/ as ssh does for identity files.
func ExpandHome(p string) string { return expandHome(p, localInfo().home) }

// directive is one line of a configuration file: its words, and the raw
// text after the keyword (ProxyCommand takes that, quotes and all).
type directive struct {
	words []string
	rest  string
}

// readLines splits a configuration file into directives, as OpenSSH's
// argv_split does: a keyword, an optional "=", then words that may be
// quoted.
func readLines(data []byte) []directive {
	var lines []directive
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		// The keyword ends at whitespace or "=".
		i := strings.IndexAny(line, " \t=")
		if i < 0 {
			lines = append(lines, directive{words: []string{line}})
			continue
		}
		kw, rest := line[:i], strings.TrimLeft(line[i:], " \t")
		if strings.HasPrefix(rest, "=") {
			rest = strings.TrimLeft(rest[1:], " \t")
		}
		raw := rest
		words := []string{kw}
		for rest != "" {
			var w strings.Builder
			j := 0
			quote := byte(0)
			for ; j < len(rest); j++ {
				ch := rest[j]
				switch {
				case quote != 0 && ch == quote:
					quote = 0
				case quote != 0:
					w.WriteByte(ch)
				case ch == '"' || ch == '\'':
					quote = ch
				case ch == '\\' && j+1 < len(rest):
					j++
					w.WriteByte(rest[j])
				case ch == ' ' || ch == '\t':
					goto done
				case ch == '#' && w.Len() == 0:
					j = len(rest)
					goto done
				default:
					w.WriteByte(ch)
				}
			}
		done:
			if w.Len() > 0 || j > 0 {
				words = append(words, w.String())
			}
			if j >= len(rest) {
				break
			}
			rest = strings.TrimLeft(rest[j:], " \t")
		}
		lines = append(lines, directive{words: words, rest: raw})
	}
	return lines
}

// Describe lists the settings tejun uses, one "key value" line each, with
// ssh -G's names; a jump host's lines follow with "jump." in front.
func (c Config) Describe() []string {
	var out []string
	add := func(k string, v any) { out = append(out, fmt.Sprintf("%s %v", k, v)) }
	join := func(l []string, sep string) string {
		if len(l) == 0 {
			return "none"
		}
		return strings.Join(l, sep)
	}
	onOff := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	add("user", c.User)
	add("hostname", c.Address)
	add("port", c.Port)
	for _, f := range c.IdentityFiles {
		add("identityfile", f)
	}
	for _, f := range c.CertificateFiles {
		add("certificatefile", f)
	}
	add("identitiesonly", onOff(c.IdentitiesOnly))
	agentSock := c.AgentSocket
	if agentSock == "" {
		agentSock = "SSH_AUTH_SOCK"
	}
	add("identityagent", agentSock)
	pc := c.ProxyCommand
	if pc == "" {
		pc = "none"
	}
	add("proxycommand", pc)
	add("stricthostkeychecking", c.HostKey)
	add("userknownhostsfile", join(c.KnownHosts, " "))
	add("globalknownhostsfile", join(c.GlobalKnownHosts, " "))
	add("hashknownhosts", onOff(c.HashKnownHosts))
	ct := "none"
	if c.ConnectTimeout > 0 {
		ct = strconv.Itoa(int(c.ConnectTimeout / time.Second))
	}
	add("connecttimeout", ct)
	add("serveraliveinterval", int(c.Keepalive/time.Second))
	add("serveralivecountmax", c.KeepaliveMax)
	add("hostkeyalgorithms", join(c.HostKeyAlgorithms, ","))
	add("ciphers", join(c.Ciphers, ","))
	add("kexalgorithms", join(c.KexAlgorithms, ","))
	add("macs", join(c.MACs, ","))
	if c.Jump == nil {
		add("proxyjump", "none")
	} else {
		add("proxyjump", fmt.Sprintf("%s@%s", c.Jump.User, net.JoinHostPort(c.Jump.Address, strconv.Itoa(c.Jump.Port))))
		for _, l := range c.Jump.Describe() {
			out = append(out, "jump."+l)
		}
	}
	return out
}
