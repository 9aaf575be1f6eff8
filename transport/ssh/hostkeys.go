package ssh

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/skeema/knownhosts"
	gossh "golang.org/x/crypto/ssh"
	xknownhosts "golang.org/x/crypto/ssh/knownhosts"

	"tejun/transport"
)

// knownHostsMu serialises recording accepted keys, so hosts first met in
// parallel do not interleave their lines.
var knownHostsMu sync.Mutex

// hostKeyCallback verifies against known_hosts as OpenSSH does: it offers
// first the host-key algorithms known_hosts holds keys for, in the
// configured preference order, so a wrong key for the preferred algorithm
// is a changed key even when a key of another algorithm would match.
func hostKeyCallback(name, addr string, cfg Config) (gossh.HostKeyCallback, []string, error) {
	files := cfg.KnownHosts
	if len(files) == 0 {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, nil, err
		}
		files = []string{filepath.Join(home, ".ssh", "known_hosts")}
	}
	record := files[0]
	if cfg.HostKey == "accept-new" {
		if err := os.MkdirAll(filepath.Dir(record), 0o700); err != nil {
			return nil, nil, err
		}
		f, err := os.OpenFile(record, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			return nil, nil, err
		}
		f.Close()
	}
	prefs := cfg.HostKeyAlgorithms
	if prefs == nil {
		prefs = defaultHostKeyAlgorithms()
	}
	db, cleanup, err := loadKnownHosts(append(append([]string{}, files...), cfg.GlobalKnownHosts...))
	if err != nil {
		return nil, nil, err
	}
	defer cleanup()
	unknown := func(key gossh.PublicKey) error {
		return &transport.HostKeyError{Host: name, Fingerprint: gossh.FingerprintSHA256(key), KnownHosts: record, Err: transport.ErrHostKeyUnknown}
	}
	if db == nil {
		return func(hostname string, remote net.Addr, key gossh.PublicKey) error {
			if cfg.HostKey == "accept-new" {
				return recordKey(record, hostname, key, cfg.HashKnownHosts)
			}
			return unknown(key)
		}, prefs, nil
	}
	check := db.HostKeyCallback()
	cb := func(hostname string, remote net.Addr, key gossh.PublicKey) error {
		err := check(hostname, remote, key)
		switch {
		case err == nil:
			return nil
		case knownhosts.IsHostKeyChanged(err):
			return &transport.HostKeyError{Host: name, Fingerprint: gossh.FingerprintSHA256(key), KnownHosts: record, Err: transport.ErrHostKeyChanged}
		case knownhosts.IsHostUnknown(err) && cfg.HostKey == "accept-new":
			return recordKey(record, hostname, key, cfg.HashKnownHosts)
		case knownhosts.IsHostUnknown(err):
			return unknown(key)
		}
		return err
	}
	var algos []string
	knownAlgos := db.HostKeyAlgorithms(addr)
	for _, a := range prefs {
		if contains(knownAlgos, a) {
			algos = append(algos, a)
		}
	}
	if len(algos) == 0 {
		// Nothing known (or only keys of algorithms not configured): the
		// server's key is then unknown, and accept-new may record it.
		algos = prefs
	}
	return cb, algos, nil
}

func defaultHostKeyAlgorithms() []string {
	have := gossh.SupportedAlgorithms().HostKeys
	var out []string
	for _, a := range strings.Split(sshDefaults["hostkeyalgorithms"], ",") {
		if contains(have, a) {
			out = append(out, a)
		}
	}
	return out
}

func recordKey(file, hostname string, key gossh.PublicKey, hash bool) error {
	knownHostsMu.Lock()
	defer knownHostsMu.Unlock()
	f, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	host := knownhosts.Normalize(hostname)
	if hash {
		host = xknownhosts.HashHostname(host)
	}
	_, err = fmt.Fprintln(f, knownhosts.Line([]string{host}, key))
	return err
}

// loadKnownHosts reads the files that exist. A line that does not parse
// is skipped, as OpenSSH skips it, instead of making every host unknown:
// the good lines are then read from a private copy.
func loadKnownHosts(files []string) (*knownhosts.HostKeyDB, func(), error) {
	var use []string
	var dir string
	cleanup := func() {
		if dir != "" {
			os.RemoveAll(dir)
		}
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, cleanup, fmt.Errorf("known_hosts: %w", err)
		}
		good, bad := cleanKnownHosts(data)
		if !bad {
			use = append(use, f)
			continue
		}
		if dir == "" {
			if dir, err = os.MkdirTemp("", "tejun-known-hosts-"); err != nil {
				return nil, cleanup, err
			}
		}
		copyPath := filepath.Join(dir, fmt.Sprint(len(use)))
		if err := os.WriteFile(copyPath, good, 0o600); err != nil {
			return nil, cleanup, err
		}
		use = append(use, copyPath)
	}
	if len(use) == 0 {
		return nil, cleanup, nil
	}
	db, err := knownhosts.NewDB(use...)
	if err != nil {
		return nil, cleanup, fmt.Errorf("known_hosts: %w", err)
	}
	return db, cleanup, nil
}

// cleanKnownHosts drops the lines x/crypto cannot parse; bad says whether
// there were any.
func cleanKnownHosts(data []byte) (good []byte, bad bool) {
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Bytes()
		trimmed := bytes.TrimSpace(line)
		if len(trimmed) > 0 && trimmed[0] != '#' {
			if _, _, _, _, _, err := gossh.ParseKnownHosts(trimmed); err != nil {
				bad = true
				continue
			}
		}
		out.Write(line)
		out.WriteByte('\n')
	}
	return out.Bytes(), bad
}
