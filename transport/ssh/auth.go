package ssh

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/term"

	"tejun/transport"
)

// identity is one IdentityFile: its public key (from the file, its .pub
// or an encrypted key's clear header) and, once usable, its signer.
type identity struct {
	file   string
	pub    gossh.PublicKey
	signer gossh.Signer
	locked bool // protected by a passphrase
	agent  bool // signer is the agent's copy
}

// passphrases caches keys decrypted at a prompt, so parallel hosts ask once.
var passphrases = struct {
	sync.Mutex
	signers map[string]gossh.Signer
}{signers: map[string]gossh.Signer{}}

// authMethods offers keys in OpenSSH's order: agent keys that are also
// identity files, then the agent's other keys (none with IdentitiesOnly),
// then identity files the agent does not hold; each with its certificate
// first when one is beside it or named by CertificateFile.
func authMethods(cfg Config) ([]gossh.AuthMethod, func(), error) {
	closeAgent := func() {}
	var ids []*identity
	var notes []string
	for i, f := range cfg.IdentityFiles {
		id, err := loadIdentity(f)
		if err != nil {
			if i == 0 && cfg.IdentityRequired {
				return nil, closeAgent, fmt.Errorf("identity file: %w", err)
			}
			continue
		}
		ids = append(ids, id)
	}
	var agentSigners []gossh.Signer
	sock := cfg.AgentSocket
	if sock == "" {
		sock = os.Getenv("SSH_AUTH_SOCK")
	}
	if sock != "" && sock != "none" {
		if conn, err := net.Dial("unix", sock); err == nil {
			closeAgent = func() { conn.Close() }
			if ss, err := agent.NewClient(conn).Signers(); err == nil {
				agentSigners = ss
			}
		}
	}
	var preferred, others []gossh.Signer
	for _, as := range agentSigners {
		matched := false
		for _, id := range ids {
			if !id.agent && id.pub != nil && bytes.Equal(id.pub.Marshal(), as.PublicKey().Marshal()) {
				id.signer, id.agent = as, true
				preferred = append(preferred, as)
				matched = true
				break
			}
		}
		if !matched && !cfg.IdentitiesOnly {
			others = append(others, as)
		}
	}
	signers := append(preferred, others...)
	for _, id := range ids {
		if id.agent {
			continue
		}
		if id.signer != nil {
			signers = append(signers, id.signer)
			continue
		}
		if id.signer == nil && id.locked {
			if s := prompt(id.file); s != nil {
				id.signer = s
				signers = append(signers, s)
				continue
			}
			notes = append(notes, id.file+" is protected by a passphrase and not in ssh-agent (ssh-add it)")
		}
	}
	signers = withCertificates(signers, ids, cfg.CertificateFiles)
	if len(signers) == 0 {
		why := "no ssh-agent and no identity file"
		if len(notes) > 0 {
			why = strings.Join(notes, "; ")
		}
		return nil, closeAgent, fmt.Errorf("%w: no usable key: %s", transport.ErrAuth, why)
	}
	return []gossh.AuthMethod{gossh.PublicKeys(signers...)}, closeAgent, nil
}

func loadIdentity(f string) (*identity, error) {
	pem, err := os.ReadFile(f)
	if err != nil {
		return nil, err
	}
	id := &identity{file: f}
	signer, err := gossh.ParsePrivateKey(pem)
	var missing *gossh.PassphraseMissingError
	switch {
	case err == nil:
		id.signer, id.pub = signer, signer.PublicKey()
	case errors.As(err, &missing):
		id.locked, id.pub = true, missing.PublicKey
		if id.pub == nil {
			if data, err := os.ReadFile(f + ".pub"); err == nil {
				id.pub, _, _, _, _ = gossh.ParseAuthorizedKey(data)
			}
		}
	default:
		return nil, fmt.Errorf("%s: %w", f, err)
	}
	return id, nil
}

// withCertificates puts, before each identity's key, the certificates for
// it: its -cert.pub and any CertificateFile certifying the same key.
func withCertificates(signers []gossh.Signer, ids []*identity, certFiles []string) []gossh.Signer {
	var certs []*gossh.Certificate
	read := func(f string) {
		data, err := os.ReadFile(f)
		if err != nil {
			return
		}
		if k, _, _, _, err := gossh.ParseAuthorizedKey(data); err == nil {
			if c, ok := k.(*gossh.Certificate); ok {
				certs = append(certs, c)
			}
		}
	}
	for _, f := range certFiles {
		read(f)
	}
	for _, id := range ids {
		read(id.file + "-cert.pub")
	}
	if len(certs) == 0 {
		return signers
	}
	var out []gossh.Signer
	for _, s := range signers {
		if _, isCert := s.PublicKey().(*gossh.Certificate); !isCert {
			for _, c := range certs {
				if bytes.Equal(c.Key.Marshal(), s.PublicKey().Marshal()) {
					if cs, err := gossh.NewCertSigner(c, s); err == nil {
						out = append(out, cs)
					}
				}
			}
		}
		out = append(out, s)
	}
	return out
}

// holdScreen, when set, is called before a passphrase is asked and what
// it returns after the answer: the CLI's live display redraws the
// terminal several times a second, clearing from its first line to the
// end of the screen, the question's line included.
var holdScreen atomic.Pointer[func() func()]

// SetHoldScreen sets what keeps the terminal still while a passphrase is
// asked (nil: nothing to hold).
func SetHoldScreen(hold func() func()) {
	if hold == nil {
		holdScreen.Store(nil)
		return
	}
	holdScreen.Store(&hold)
}

// prompt asks for an identity's passphrase on the terminal, as ssh does;
// never without one, and never in CI.
func prompt(file string) gossh.Signer {
	passphrases.Lock()
	defer passphrases.Unlock()
	if s, ok := passphrases.signers[file]; ok {
		return s
	}
	if os.Getenv("CI") != "" || !term.IsTerminal(int(os.Stdin.Fd())) {
		return nil
	}
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return nil
	}
	defer tty.Close()
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil
	}
	if hold := holdScreen.Load(); hold != nil {
		defer (*hold)()()
	}
	fmt.Fprintf(tty, "Enter passphrase for key '%s': ", file)
	pass, err := term.ReadPassword(int(tty.Fd()))
	fmt.Fprintln(tty)
	if err != nil {
		return nil
	}
	s, err := gossh.ParsePrivateKeyWithPassphrase(pem, pass)
	if err != nil {
		passphrases.signers[file] = nil
		return nil
	}
	passphrases.signers[file] = s
	return s
}
