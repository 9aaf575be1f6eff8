// Package testbed starts real OpenSSH sshd hosts for tests: each on its own
// loopback address (127.0.0.11, .12, ...), in its own mount namespace and
// root directory, so every host has private /tmp, /etc, home directories and
// P4ROOT paths such as /master and /standby. Only tests use it; it needs root,
// sshd and unshare, and skips the test (saying why) where they are missing.
package testbed

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"
)

// Users every host has besides root. perforce owns P4ROOT; ops may sudo
// to anyone without a password; nosudo may not sudo at all.
var Users = []struct {
	Name  string
	UID   int
	Sudo  bool
	Shell string
}{
	{"perforce", 1666, false, "/bin/bash"},
	{"ops", 1700, true, "/bin/bash"},
	{"nosudo", 1701, false, "/bin/bash"},
}

// Bed is a set of hosts sharing one client key and known_hosts file.
type Bed struct {
	Dir        string // everything of the bed lives here
	KeyFile    string // the client's private key, authorised on every host for every user
	KnownHosts string // holds every host's key
	Hosts      []*Host
}

// Host is one running sshd.
type Host struct {
	Name    string
	Address string
	Port    int
	// Root is the host's "/" on the test machine's disk: a test reads what
	// the host wrote at /standby/x from Root+"/standby/x".
	Root string
	// HostKey is the host's public key.
	HostKey ssh.PublicKey

	bed   *Bed
	netns *network // nil: the test machine's own network
	cmd   *exec.Cmd
	log   *logBuffer
	// exited is closed when the running sshd's Wait returns, so its output
	// copier is done with log before a restart reuses it.
	exited      chan struct{}
	mu          sync.Mutex
	index       int
	sshd        string // extra sshd_config lines
	maxSessions int
}

// Requirements reports why a test-bed cannot start here, or "".
func Requirements() string {
	if os.Geteuid() != 0 {
		return "the sshd test-bed needs root (CI runs as root)"
	}
	for _, p := range []string{"/usr/sbin/sshd", "/usr/bin/unshare", "/usr/sbin/chroot", "/usr/bin/ssh-keygen"} {
		if _, err := os.Stat(p); err != nil {
			return "the sshd test-bed needs " + p + " (apt-get install openssh-server openssh-client util-linux coreutils)"
		}
	}
	return ""
}

// Start starts one host per name. Hosts are stopped when the test ends.
func Start(t testing.TB, names ...string) *Bed {
	t.Helper()
	specs := make([]HostSpec, len(names))
	for i, n := range names {
		specs[i] = HostSpec{Name: n}
	}
	return StartHosts(t, specs...)
}

// StartHosts starts hosts as specified; see HostSpec for private hosts.
func StartHosts(t testing.TB, specs ...HostSpec) *Bed {
	t.Helper()
	if why := Requirements(); why != "" {
		t.Skip(why)
	}
	dir, err := os.MkdirTemp("", "tejun-bed-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	b := &Bed{Dir: dir, KeyFile: filepath.Join(dir, "client_key"), KnownHosts: filepath.Join(dir, "known_hosts")}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "tejun test client")
	if err != nil {
		t.Fatal(err)
	}
	must(t, os.WriteFile(b.KeyFile, pem.EncodeToMemory(block), 0o600))
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	var netw *network
	for _, s := range specs {
		if (s.Private || s.Gateway) && netw == nil {
			netw = newNetwork(t)
		}
	}
	var known strings.Builder
	for i, spec := range specs {
		name := spec.Name
		h := &Host{Name: name, Address: fmt.Sprintf("127.0.0.%d", 11+i), bed: b, index: i, log: &logBuffer{}, sshd: spec.SSHD, maxSessions: spec.MaxSessions}
		if h.maxSessions == 0 {
			h.maxSessions = 200
		}
		if spec.Private || spec.Gateway {
			h.netns = netw
		}
		h.Root = filepath.Join(dir, name)
		if err := h.prepare(ssh.MarshalAuthorizedKey(sshPub)); err != nil {
			t.Fatalf("test-bed host %s: %v", name, err)
		}
		if spec.Packages {
			if err := h.preparePackages(); err != nil {
				t.Fatalf("test-bed host %s: %v", name, err)
			}
		}
		if err := h.start(); err != nil {
			t.Fatalf("test-bed host %s: %v\n%s", name, err, h.log.String())
		}
		t.Cleanup(h.Stop)
		if spec.Gateway {
			netw.publish(t, h.Addr())
		}
		known.WriteString(knownhosts.Line([]string{knownhosts.Normalize(h.Addr())}, h.HostKey) + "\n")
		b.Hosts = append(b.Hosts, h)
	}
	must(t, os.WriteFile(b.KnownHosts, []byte(known.String()), 0o600))
	return b
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Host returns the host called name.
func (b *Bed) Host(name string) *Host {
	for _, h := range b.Hosts {
		if h.Name == name {
			return h
		}
	}
	return nil
}

// Addr is host:port.
func (h *Host) Addr() string { return net.JoinHostPort(h.Address, strconv.Itoa(h.Port)) }

// Path is where the host's absolute path p lives on the test machine.
func (h *Host) Path(p string) string {
	if rest, ok := strings.CutPrefix(filepath.Clean(p), "/usr/local"); ok {
		return filepath.Join(h.Root, "usr-local", rest)
	}
	return filepath.Join(h.Root, p)
}

// Install copies an executable into the host's /usr/local/bin (a stand-in
// such as systemctl on a host without an init system), under its own name
// or the names given.
func (h *Host) Install(t testing.TB, src string, names ...string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		names = []string{filepath.Base(src)}
	}
	for _, n := range names {
		if err := os.WriteFile(h.Path("/usr/local/bin/"+n), data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

func run(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
	return nil
}

// prepare builds the host's root: its own copy of /etc (with the test
// users, sudo rules, host key and sshd config), empty /tmp, /root, /home,
// /run and /var, a writable /usr/local of its own, and mount points for
// /usr (the machine's, under an overlay the host may write: what it
// installs lands in usr-upper), a private /dev and /proc.
func (h *Host) prepare(authorizedKey []byte) error {
	r := h.Root
	for _, d := range []string{"usr", "usr-upper", "usr-work", "usr-local/bin", "usr-local/sbin", "dev", "proc", "tmp", "root", "home", "run/sshd", "var/tmp", "var/lib", "var/log", "var/cache", "srv", "opt"} {
		if err := os.MkdirAll(filepath.Join(r, d), 0o755); err != nil {
			return err
		}
	}
	if err := os.Chmod(filepath.Join(r, "tmp"), 0o1777|os.ModeSticky); err != nil {
		return err
	}
	for _, l := range []string{"bin", "sbin", "lib", "lib64"} {
		if target, err := os.Readlink("/" + l); err == nil {
			if err := os.Symlink(target, filepath.Join(r, l)); err != nil {
				return err
			}
		}
	}
	if err := run("cp", "-a", "/etc", r+"/"); err != nil {
		return err
	}
	// The package database's status, so package checks (dpkg-query) see
	// what the shared /usr holds; the rest of /var/lib/dpkg is 30 MB a
	// host that no check reads.
	if status, err := os.ReadFile("/var/lib/dpkg/status"); err == nil {
		for _, d := range []string{"var/lib/dpkg/updates", "var/lib/dpkg/info"} {
			if err := os.MkdirAll(filepath.Join(r, d), 0o755); err != nil {
				return err
			}
		}
		if err := os.WriteFile(filepath.Join(r, "var/lib/dpkg/status"), status, 0o644); err != nil {
			return err
		}
	}
	etc := filepath.Join(r, "etc")
	for _, u := range Users {
		home := filepath.Join(r, "home", u.Name)
		if err := os.MkdirAll(home, 0o755); err != nil {
			return err
		}
		if err := os.Chown(home, u.UID, u.UID); err != nil {
			return err
		}
		if err := appendFile(filepath.Join(etc, "passwd"), fmt.Sprintf("%s:x:%d:%d::/home/%s:%s\n", u.Name, u.UID, u.UID, u.Name, u.Shell)); err != nil {
			return err
		}
		if err := appendFile(filepath.Join(etc, "group"), fmt.Sprintf("%s:x:%d:\n", u.Name, u.UID)); err != nil {
			return err
		}
		if err := appendFile(filepath.Join(etc, "shadow"), u.Name+":*:19000:0:99999:7:::\n"); err != nil {
			return err
		}
		if u.Sudo {
			if err := os.MkdirAll(filepath.Join(etc, "sudoers.d"), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(etc, "sudoers.d", "tejun-"+u.Name), []byte(u.Name+" ALL=(ALL:ALL) NOPASSWD: ALL\n"), 0o440); err != nil {
				return err
			}
		}
	}
	if err := os.WriteFile(filepath.Join(etc, "hostname"), []byte(h.Name+"\n"), 0o644); err != nil {
		return err
	}
	keyFile := filepath.Join(etc, "ssh", "tejun_host_ed25519_key")
	if err := run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", h.Name, "-f", keyFile); err != nil {
		return err
	}
	pubText, err := os.ReadFile(keyFile + ".pub")
	if err != nil {
		return err
	}
	if h.HostKey, _, _, _, err = ssh.ParseAuthorizedKey(pubText); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(etc, "ssh", "tejun_authorized_keys"), authorizedKey, 0o644); err != nil {
		return err
	}
	return nil
}

// preparePackages copies what apt-get and dpkg need to install: the whole
// dpkg database and the apt lists, with empty caches.
func (h *Host) preparePackages() error {
	lib := filepath.Join(h.Root, "var", "lib")
	if err := os.RemoveAll(filepath.Join(lib, "dpkg")); err != nil {
		return err
	}
	for _, d := range []string{"/var/lib/dpkg", "/var/lib/apt"} {
		if err := run("cp", "-a", d, lib+"/"); err != nil {
			return err
		}
	}
	for _, d := range []string{"var/cache/apt/archives/partial", "var/log/apt"} {
		if err := os.MkdirAll(filepath.Join(h.Root, d), 0o755); err != nil {
			return err
		}
	}
	return nil
}

func appendFile(path, text string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.WriteString(text)
	return err
}

func freePort(addr string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(addr, "0"))
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (h *Host) sshdConfig() string {
	return fmt.Sprintf(`ListenAddress %s
HostKey /etc/ssh/tejun_host_ed25519_key
AuthorizedKeysFile /etc/ssh/tejun_authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile none
Subsystem sftp /usr/lib/openssh/sftp-server
MaxSessions %d
MaxStartups 200:30:400
LogLevel ERROR
`, h.Addr(), h.maxSessions) + h.sshd
}

// start runs sshd in a new mount namespace, chrooted into the host's root.
// The namespace gets /usr as an overlay, a /dev of its own (a tmpfs with
// its own nodes of the few devices a login uses, its own devpts) and a
// fresh /proc; everything else the host writes stays under Root. The
// machine's /dev is not shared: a test step that replaces, chmods or
// removes a device node (a hostile path such as /dev/zero) changes only
// the host's own node.
func (h *Host) start() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.Port == 0 {
		// A port free on the test machine's loopback is free in a fresh
		// namespace too, and a gateway is published on the same one.
		p, err := freePort(h.Address)
		if err != nil {
			return err
		}
		h.Port = p
	}
	if err := os.WriteFile(filepath.Join(h.Root, "etc", "ssh", "tejun_sshd_config"), []byte(h.sshdConfig()), 0o644); err != nil {
		return err
	}
	script := `set -e
r="$1"
mount -t overlay overlay -o lowerdir=/usr,upperdir="$r/usr-upper",workdir="$r/usr-work" "$r/usr"
mount --bind "$r/usr-local" "$r/usr/local"
mount -t tmpfs -o mode=0755,size=1m tmpfs "$r/dev"
mknod -m 666 "$r/dev/null" c 1 3; mknod -m 666 "$r/dev/zero" c 1 5; mknod -m 666 "$r/dev/full" c 1 7
mknod -m 666 "$r/dev/random" c 1 8; mknod -m 666 "$r/dev/urandom" c 1 9; mknod -m 666 "$r/dev/tty" c 5 0
mkdir -p "$r/dev/pts" "$r/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$r/dev/pts"
ln -s pts/ptmx "$r/dev/ptmx"
mount -t tmpfs -o mode=1777,size=16m tmpfs "$r/dev/shm"
ln -s /proc/self/fd "$r/dev/fd"; ln -s /proc/self/fd/0 "$r/dev/stdin"; ln -s /proc/self/fd/1 "$r/dev/stdout"; ln -s /proc/self/fd/2 "$r/dev/stderr"
mount -t proc proc "$r/proc"
exec chroot "$r" /usr/sbin/sshd -D -e -f /etc/ssh/tejun_sshd_config`
	h.log.Reset()
	argv := []string{"unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", script, "sh", h.Root}
	if h.netns != nil {
		argv = append([]string{"ip", "netns", "exec", h.netns.name}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = h.log, h.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return err
	}
	h.cmd = cmd
	exited := make(chan struct{})
	h.exited = exited
	go func() { cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("sshd exited at start")
		default:
		}
		dial := func() (net.Conn, error) { return net.DialTimeout("tcp", h.Addr(), 200*time.Millisecond) }
		if h.netns != nil {
			dial = func() (net.Conn, error) { return h.netns.dial(h.Addr()) }
		}
		if c, err := dial(); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("sshd did not listen on %s within 10s", h.Addr())
}

// Stop kills sshd and everything running in the host's namespace (the
// sessions it started, daemons they left behind).
func (h *Host) Stop() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cmd == nil || h.cmd.Process == nil {
		return
	}
	ns, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/mnt", h.cmd.Process.Pid))
	_ = syscall.Kill(-h.cmd.Process.Pid, syscall.SIGKILL)
	if ns != "" {
		killNamespace(ns)
	}
	select {
	case <-h.exited:
	case <-time.After(10 * time.Second):
	}
	h.cmd = nil
}

// Restart starts sshd again on the same address, port and host key, as
// after a reboot of the host.
func (h *Host) Restart() error {
	h.Stop()
	return h.start()
}

// Freeze stops every process of the host (SIGSTOP), as a hung machine or a
// dead network looks from outside: connections stay open, nothing answers.
// Thaw resumes them.
func (h *Host) Freeze() { h.signalAll(syscall.SIGSTOP) }

// Thaw resumes a frozen host.
func (h *Host) Thaw() { h.signalAll(syscall.SIGCONT) }

func (h *Host) signalAll(sig syscall.Signal) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cmd == nil || h.cmd.Process == nil {
		return
	}
	ns, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/mnt", h.cmd.Process.Pid))
	self, _ := os.Readlink("/proc/self/ns/mnt")
	if ns == "" || ns == self {
		return
	}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			if l, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/mnt", pid)); l == ns {
				_ = syscall.Kill(pid, sig)
			}
		}
	}
}

func killNamespace(ns string) {
	self, _ := os.Readlink("/proc/self/ns/mnt")
	if ns == self {
		return
	}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if l, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/mnt", pid)); l == ns {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// Log is what sshd printed, for a failing test's message.
func (h *Host) Log() string { return h.log.String() }

// logBuffer is sshd's output, written by exec's copier while tests read it.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.Reset()
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
