package transport

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	sshconfig "github.com/kevinburke/ssh_config"
)

// UserConfig is a parsed OpenSSH client configuration (~/.ssh/config).
type UserConfig struct {
	cfg *sshconfig.Config
}

// LoadUserConfig parses path; a missing file is an empty configuration.
func LoadUserConfig(path string) (*UserConfig, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return &UserConfig{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	c, err := sshconfig.Decode(f)
	if err != nil {
		return nil, err
	}
	return &UserConfig{cfg: c}, nil
}

// DefaultUserConfig is ~/.ssh/config.
func DefaultUserConfig() (*UserConfig, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return &UserConfig{}, nil
	}
	return LoadUserConfig(filepath.Join(home, ".ssh", "config"))
}

func (u *UserConfig) get(alias, key string) string {
	if u == nil || u.cfg == nil {
		return ""
	}
	v, _ := u.cfg.Get(alias, key)
	return v
}

func (u *UserConfig) getAll(alias, key string) []string {
	if u == nil || u.cfg == nil {
		return nil
	}
	v, _ := u.cfg.GetAll(alias, key)
	return v
}

// Apply fills what cfg leaves open from the Host blocks matching alias, as
// ssh would: settings the inventory gives explicitly win, like options on
// ssh's command line win over its config file. A StrictHostKeyChecking of
// "no" is not honoured: tejun never skips host-key checks.
func (u *UserConfig) Apply(cfg *SSHConfig, alias string) {
	if hn := u.get(alias, "HostName"); hn != "" && (cfg.Address == "" || cfg.Address == alias) {
		cfg.Address = strings.ReplaceAll(hn, "%h", alias)
	}
	if cfg.Address == "" {
		cfg.Address = alias
	}
	if cfg.User == "" {
		cfg.User = u.get(alias, "User")
	}
	if cfg.Port == 0 {
		if p, err := strconv.Atoi(u.get(alias, "Port")); err == nil {
			cfg.Port = p
		}
	}
	if len(cfg.IdentityFiles) == 0 {
		for _, f := range u.getAll(alias, "IdentityFile") {
			if f != "" {
				cfg.IdentityFiles = append(cfg.IdentityFiles, expandHome(f))
			}
		}
	}
	if len(cfg.KnownHosts) == 0 {
		for _, f := range strings.Fields(u.get(alias, "UserKnownHostsFile")) {
			cfg.KnownHosts = append(cfg.KnownHosts, expandHome(f))
		}
	}
	if cfg.HostKey == "" && strings.EqualFold(u.get(alias, "StrictHostKeyChecking"), "accept-new") {
		cfg.HostKey = "accept-new"
	}
	if cfg.Jump == nil {
		if pj := u.get(alias, "ProxyJump"); pj != "" && !strings.EqualFold(pj, "none") {
			cfg.Jump = u.jumpChain(strings.Split(pj, ","), cfg)
		}
	}
}

// jumpChain turns "a,b" (reach b through a) into nested configs.
func (u *UserConfig) jumpChain(hops []string, target *SSHConfig) *SSHConfig {
	var prev *SSHConfig
	for _, hop := range hops {
		j := ParseJump(strings.TrimSpace(hop))
		j.KnownHosts = target.KnownHosts
		j.HostKey = target.HostKey
		u.Apply(j, j.Address)
		j.Jump = prev
		prev = j
	}
	return prev
}

// ParseJump reads "[user@]host[:port]".
func ParseJump(s string) *SSHConfig {
	c := &SSHConfig{}
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

func expandHome(p string) string {
	if strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[2:])
		}
	}
	return p
}
