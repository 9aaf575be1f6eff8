package testbed

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// HostSpec describes one host of a bed.
type HostSpec struct {
	Name string
	// Packages gives the host the machine's whole package database and apt
	// lists, so apt-get install works there (the /usr overlay takes the
	// files). It costs some 40 MB a host, so only hosts that install ask.
	Packages bool
	// Private hosts live in a network namespace of the bed's own: nothing
	// outside it can reach them. Gateway hosts live there too but are
	// also published on the test machine's loopback, so a private host is
	// reachable only through a gateway, as through a bastion.
	Private, Gateway bool
	// SSHD is added to the host's sshd_config (Ciphers, TrustedUserCAKeys...).
	SSHD string
	// MaxSessions, when set, is the sshd's MaxSessions (default 200): a
	// stock sshd allows 10 sessions on one connection.
	MaxSessions int
}

// network is the bed's private network namespace.
type network struct {
	name string
	path string
}

func newNetwork(t testing.TB) *network {
	var b [4]byte
	_, _ = rand.Read(b[:])
	n := &network{name: "tejun-" + hex.EncodeToString(b[:])}
	n.path = "/run/netns/" + n.name
	if err := run("ip", "netns", "add", n.name); err != nil {
		t.Skipf("cannot create a network namespace (the jump-host test needs iproute2 and root): %v", err)
	}
	t.Cleanup(func() { _ = run("ip", "netns", "del", n.name) })
	if err := run("ip", "netns", "exec", n.name, "ip", "link", "set", "lo", "up"); err != nil {
		t.Fatal(err)
	}
	return n
}

// dial connects to addr from inside the namespace: the socket is made on
// an OS thread moved into the namespace and then moved back. Threads are
// not thrown away, because sshd's Pdeathsig is tied to the thread that
// started it.
func (n *network) dial(addr string) (net.Conn, error) {
	runtime.LockOSThread()
	home, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
	if err != nil {
		runtime.UnlockOSThread()
		return nil, err
	}
	defer home.Close()
	target, err := os.Open(n.path)
	if err != nil {
		runtime.UnlockOSThread()
		return nil, err
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("setns: %w", err)
	}
	c, dialErr := net.Dial("tcp", addr)
	if err := unix.Setns(int(home.Fd()), unix.CLONE_NEWNET); err != nil {
		// Stuck in the namespace: leave the thread locked so it dies with
		// this goroutine rather than serve others.
		return c, dialErr
	}
	runtime.UnlockOSThread()
	return c, dialErr
}

// publish forwards addr on the test machine's loopback to the same address
// inside the namespace.
func (n *network) publish(t testing.TB, addr string) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("publish %s: %v", addr, err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				in, err := n.dial(addr)
				if err != nil {
					return
				}
				defer in.Close()
				go func() { io.Copy(in, c); in.(*net.TCPConn).CloseWrite() }()
				io.Copy(c, in)
			}()
		}
	}()
}
