package ssh

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// OpenSSH's defaults (9.2), for the options the Go parser resolves the way
// ssh -G prints them.
var sshDefaults = map[string]string{
	"ciphers":           "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com",
	"kexalgorithms":     "sntrup761x25519-sha512,sntrup761x25519-sha512@openssh.com,curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group14-sha256",
	"macs":              "umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha1-etm@openssh.com,umac-64@openssh.com,umac-128@openssh.com,hmac-sha2-256,hmac-sha2-512,hmac-sha1",
	"hostkeyalgorithms": "ssh-ed25519-cert-v01@openssh.com,ecdsa-sha2-nistp256-cert-v01@openssh.com,ecdsa-sha2-nistp384-cert-v01@openssh.com,ecdsa-sha2-nistp521-cert-v01@openssh.com,sk-ssh-ed25519-cert-v01@openssh.com,sk-ecdsa-sha2-nistp256-cert-v01@openssh.com,rsa-sha2-512-cert-v01@openssh.com,rsa-sha2-256-cert-v01@openssh.com,ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,sk-ssh-ed25519@openssh.com,sk-ecdsa-sha2-nistp256@openssh.com,rsa-sha2-512,rsa-sha2-256",
}

var defaultIdentities = []string{"~/.ssh/id_rsa", "~/.ssh/id_ecdsa", "~/.ssh/id_ecdsa_sk", "~/.ssh/id_ed25519", "~/.ssh/id_ed25519_sk", "~/.ssh/id_xmss", "~/.ssh/id_dsa"}

// multi are the options every occurrence of which adds a value; for the
// others the first value obtained wins, as in OpenSSH.
var multi = map[string]bool{"identityfile": true, "certificatefile": true}

// known are the options the Go parser keeps: those tejun uses.
var known = map[string]bool{
	"hostname": true, "user": true, "port": true, "identityfile": true, "certificatefile": true,
	"identitiesonly": true, "identityagent": true, "proxyjump": true, "proxycommand": true,
	"stricthostkeychecking": true, "userknownhostsfile": true, "globalknownhostsfile": true,
	"hashknownhosts": true, "connecttimeout": true, "serveraliveinterval": true, "serveralivecountmax": true,
	"hostkeyalgorithms": true, "ciphers": true, "kexalgorithms": true, "macs": true,
}

type parser struct {
	opts      map[string][]string
	host      string // what Host lines match: the name, then (final pass) the HostName
	orig      string // the name as typed, for Match originalhost and %n
	final     bool
	wantFinal bool
	local     local
	// cliIdentity: ssh -i named a file that exists, so no default
	// identity files are added.
	cliIdentity bool
}

// parse is the Go stand-in for ssh -G: the command line's options, then
// the user's file, then the system's, first value winning; Host lines
// match the name, Match host the HostName in force.
func (u *UserConfig) parse(req Request) (map[string][]string, error) {
	args, err := u.sshArgs(req)
	if err != nil {
		return nil, err
	}
	name := args[len(args)-1]
	p := &parser{opts: map[string][]string{}, host: name, orig: name, local: localInfo()}
	if req.Address != "" && req.Address != req.Name {
		p.set("hostname", req.Address)
	}
	if req.IdentityFile != "" {
		if _, err := os.Stat(expandHome(req.IdentityFile, p.local.home)); err == nil {
			p.cliIdentity = true
		}
	}
	if req.Port != 0 {
		p.set("port", strconv.Itoa(req.Port))
	}
	if req.User != "" {
		p.set("user", req.User)
	}
	if req.NoJump {
		p.set("proxyjump", "none")
		p.set("proxycommand", "none")
	} else if req.Jump != "" {
		p.set("proxyjump", req.Jump)
	}
	switch req.HostKey {
	case "strict":
		p.set("stricthostkeychecking", "true")
	case "accept-new":
		p.set("stricthostkeychecking", "accept-new")
	}
	if req.KnownHosts != "" {
		p.set("userknownhostsfile", expandHome(req.KnownHosts, p.local.home))
	}
	files := []struct {
		path   string
		system bool
	}{{u.File, false}}
	if u.File == "" {
		sys := u.System
		if sys == "" {
			sys = "/etc/ssh/ssh_config"
		}
		files = []struct {
			path   string
			system bool
		}{{filepath.Join(p.local.home, ".ssh", "config"), false}, {sys, true}}
	}
	run := func() error {
		for _, f := range files {
			if f.path == "none" {
				continue
			}
			if err := p.file(f.path, f.system, 0, f.path == u.File); err != nil {
				return err
			}
		}
		return nil
	}
	if err := run(); err != nil {
		return nil, err
	}
	if p.wantFinal {
		p.final = true
		if hn := first(p.opts, "hostname"); hn != "" {
			p.host = expandTokens(hn, map[byte]string{'h': p.host})
		}
		if err := run(); err != nil {
			return nil, err
		}
	}
	p.defaults()
	return p.opts, nil
}

func (p *parser) set(k, v string) {
	if multi[k] {
		p.opts[k] = append(p.opts[k], v)
	} else if _, done := p.opts[k]; !done {
		p.opts[k] = []string{v}
	}
}

func (p *parser) defaults() {
	hn := first(p.opts, "hostname")
	if hn == "" {
		hn = p.orig
	}
	p.opts["hostname"] = []string{expandTokens(hn, map[byte]string{'h': p.orig})}
	p.set("user", p.local.user)
	p.set("port", "22")
	if len(p.opts["identityfile"]) == 0 && !p.cliIdentity {
		p.opts["identityfile"] = defaultIdentities
	}
	p.set("userknownhostsfile", expandHome("~/.ssh/known_hosts", p.local.home)+" "+expandHome("~/.ssh/known_hosts2", p.local.home))
	p.set("globalknownhostsfile", "/etc/ssh/ssh_known_hosts /etc/ssh/ssh_known_hosts2")
	p.set("stricthostkeychecking", "ask")
	p.set("hashknownhosts", "no")
	p.set("identitiesonly", "no")
	p.set("connecttimeout", "none")
	p.set("serveraliveinterval", "0")
	p.set("serveralivecountmax", "3")
	for k, def := range sshDefaults {
		v := first(p.opts, k)
		p.opts[k] = []string{algorithms(def, v)}
	}
}

// algorithms applies an option's value to OpenSSH's default list: a plain
// list replaces it, +list appends, -list removes (patterns allowed), ^list
// puts in front.
func algorithms(def, v string) string {
	if v == "" {
		return def
	}
	list := strings.Split(def, ",")
	switch v[0] {
	case '+':
		for _, a := range strings.Split(v[1:], ",") {
			if !contains(list, a) {
				list = append(list, a)
			}
		}
	case '-':
		var keep []string
		for _, a := range list {
			if !matchList(a, v[1:]) {
				keep = append(keep, a)
			}
		}
		list = keep
	case '^':
		front := strings.Split(v[1:], ",")
		var rest []string
		for _, a := range list {
			if !contains(front, a) {
				rest = append(rest, a)
			}
		}
		list = append(front, rest...)
	default:
		return v
	}
	return strings.Join(list, ",")
}

func (p *parser) file(name string, system bool, depth int, explicit bool) error {
	if depth > 16 {
		return fmt.Errorf("%s: Include nested too deeply", name)
	}
	data, err := os.ReadFile(name)
	if os.IsNotExist(err) && !explicit {
		return nil
	}
	if err != nil {
		return err
	}
	active := true
	for _, d := range readLines(data) {
		kw := strings.ToLower(d.words[0])
		args := d.words[1:]
		switch kw {
		case "host":
			active = p.matchHost(args)
			continue
		case "match":
			active, err = p.match(args)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			continue
		}
		if !active {
			continue
		}
		switch {
		case kw == "include":
			for _, pat := range args {
				pat = expandHome(pat, p.local.home)
				if !filepath.IsAbs(pat) {
					if system {
						pat = filepath.Join("/etc/ssh", pat)
					} else {
						pat = filepath.Join(p.local.home, ".ssh", pat)
					}
				}
				matches, _ := filepath.Glob(pat)
				for _, m := range matches {
					if err := p.file(m, system, depth+1, false); err != nil {
						return err
					}
				}
			}
		case !known[kw] || len(args) == 0:
		case kw == "proxycommand":
			p.set(kw, d.rest)
		case kw == "identityfile" || kw == "certificatefile":
			p.set(kw, args[0])
		case kw == "userknownhostsfile" || kw == "globalknownhostsfile":
			var fs []string
			for _, a := range args {
				fs = append(fs, expandHome(a, p.local.home))
			}
			p.set(kw, strings.Join(fs, " "))
		case kw == "stricthostkeychecking":
			v := strings.ToLower(args[0])
			switch v {
			case "yes":
				v = "true"
			case "no", "off":
				v = "false"
			}
			p.set(kw, v)
		case kw == "connecttimeout" || kw == "serveraliveinterval":
			if strings.EqualFold(args[0], "none") {
				p.set(kw, "none")
				continue
			}
			n, err := convtime(args[0])
			if err != nil {
				return fmt.Errorf("%s: %s %q: %w", name, d.words[0], args[0], err)
			}
			p.set(kw, strconv.Itoa(n))
		case kw == "hashknownhosts" || kw == "identitiesonly":
			p.set(kw, strings.ToLower(args[0]))
		case kw == "hostname":
			p.set(kw, strings.ToLower(args[0]))
		default:
			p.set(kw, args[0])
		}
	}
	return nil
}

// convtime reads OpenSSH time values: 30, 30s, 5m, 1h30m.
func convtime(s string) (int, error) {
	if n, err := strconv.Atoi(s); err == nil && n >= 0 {
		return n, nil
	}
	d, err := time.ParseDuration(strings.ToLower(s))
	if err != nil || d < 0 {
		return 0, fmt.Errorf("not a time")
	}
	return int(d / time.Second), nil
}

// matchHost is a Host line: any negated pattern that matches excludes the
// host, else any pattern that matches includes it.
func (p *parser) matchHost(pats []string) bool {
	hit := false
	for _, pat := range pats {
		neg := strings.HasPrefix(pat, "!")
		if glob(strings.ToLower(strings.TrimPrefix(pat, "!")), p.host) {
			if neg {
				return false
			}
			hit = true
		}
	}
	return hit
}

// matchList is a comma-separated pattern list, as in Match host.
func matchList(s, list string) bool {
	hit := false
	for _, pat := range strings.Split(list, ",") {
		neg := strings.HasPrefix(pat, "!")
		if glob(strings.ToLower(strings.TrimPrefix(pat, "!")), strings.ToLower(s)) {
			if neg {
				return false
			}
			hit = true
		}
	}
	return hit
}

func glob(pat, s string) bool {
	ok, err := path.Match(strings.ReplaceAll(strings.ReplaceAll(pat, "[", "\\["), "]", "\\]"), s)
	return err == nil && ok
}

// match evaluates a Match line: every criterion must hold.
func (p *parser) match(args []string) (bool, error) {
	if len(args) == 0 {
		return false, fmt.Errorf("a Match line without criteria")
	}
	result := true
	for i := 0; i < len(args); i++ {
		crit := strings.ToLower(args[i])
		neg := strings.HasPrefix(crit, "!")
		crit = strings.TrimPrefix(crit, "!")
		var ok bool
		switch crit {
		case "all":
			ok = true
		case "canonical", "final":
			if crit == "final" {
				p.wantFinal = true
			}
			ok = p.final
		case "host", "originalhost", "user", "localuser", "exec":
			if i+1 >= len(args) {
				return false, fmt.Errorf("criterion %s of a Match line needs an argument", crit)
			}
			i++
			arg := args[i]
			switch crit {
			case "host":
				h := p.host
				if hn := first(p.opts, "hostname"); hn != "" {
					h = expandTokens(hn, map[byte]string{'h': p.host})
				}
				ok = matchList(h, arg)
			case "originalhost":
				ok = matchList(p.orig, arg)
			case "user":
				ok = matchList(p.user(), arg)
			case "localuser":
				ok = matchList(p.local.user, arg)
			case "exec":
				if !result {
					// OpenSSH skips exec once the line cannot match.
					continue
				}
				ok = p.exec(arg)
			}
		default:
			return false, fmt.Errorf("criterion %s of a Match line: tejun's parser does not support it (install the ssh client)", crit)
		}
		if neg {
			ok = !ok
		}
		if !ok {
			result = false
		}
	}
	return result, nil
}

func (p *parser) user() string {
	if u := first(p.opts, "user"); u != "" {
		return u
	}
	return p.local.user
}

// exec runs a Match exec command as ssh does, through the user's shell
// with ssh's tokens expanded; it succeeds when the command does.
func (p *parser) exec(cmd string) bool {
	h := p.host
	if hn := first(p.opts, "hostname"); hn != "" {
		h = expandTokens(hn, map[byte]string{'h': p.host})
	}
	port := first(p.opts, "port")
	if port == "" {
		port = "22"
	}
	sum := sha1.Sum([]byte(p.local.host + h + port + p.user()))
	line := expandTokens(cmd, map[byte]string{
		'h': h, 'n': p.orig, 'p': port, 'r': p.user(), 'u': p.local.user, 'd': p.local.home,
		'l': p.local.host, 'L': p.local.short, 'i': p.local.uid, 'C': hex.EncodeToString(sum[:]),
	})
	shell := os.Getenv("SHELL")
	if shell == "" {
		shell = "/bin/sh"
	}
	c := exec.Command(shell, "-c", line)
	c.Stdin, c.Stdout, c.Stderr = nil, nil, nil
	return c.Run() == nil
}
