package ssh

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"sync"
	"time"

	"tejun/transport"
)

// proxyConn is a ProxyCommand's stdin and stdout as one connection, as
// ssh uses them: the command runs in /bin/sh and ends with the connection.
type proxyConn struct {
	cmd    *exec.Cmd
	r, w   *os.File // our ends: read its stdout, write its stdin
	addr   proxyAddr
	stderr *transport.Tail
	once   sync.Once
}

type proxyAddr string

func (a proxyAddr) Network() string { return "proxycommand" }
func (a proxyAddr) String() string  { return string(a) }

func proxyCommand(command, addr string) (net.Conn, error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, err
	}
	cmd := exec.Command("/bin/sh", "-c", "exec "+command)
	errTail := transport.NewStderrTail()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, errTail
	if err := cmd.Start(); err != nil {
		for _, f := range []*os.File{inR, inW, outR, outW} {
			f.Close()
		}
		return nil, fmt.Errorf("ProxyCommand: %w", err)
	}
	inR.Close()
	outW.Close()
	return &proxyConn{cmd: cmd, r: outR, w: inW, addr: proxyAddr(addr), stderr: errTail}, nil
}

func (c *proxyConn) Read(b []byte) (int, error)  { return c.r.Read(b) }
func (c *proxyConn) Write(b []byte) (int, error) { return c.w.Write(b) }

// Close ends the command too: a proxy left running would hold the remote
// end open.
func (c *proxyConn) Close() error {
	c.once.Do(func() {
		c.w.Close()
		c.r.Close()
		_ = c.cmd.Process.Kill()
		_ = c.cmd.Wait()
	})
	return nil
}

func (c *proxyConn) LocalAddr() net.Addr  { return proxyAddr("-") }
func (c *proxyConn) RemoteAddr() net.Addr { return c.addr }
func (c *proxyConn) SetDeadline(t time.Time) error {
	_ = c.r.SetDeadline(t)
	return c.w.SetDeadline(t)
}
func (c *proxyConn) SetReadDeadline(t time.Time) error  { return c.r.SetReadDeadline(t) }
func (c *proxyConn) SetWriteDeadline(t time.Time) error { return c.w.SetWriteDeadline(t) }
