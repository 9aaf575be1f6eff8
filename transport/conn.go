package transport

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"strings"
)

// Conn is a connection to one host. Run is the one method everything else is
// built on, as in k0sproject/rig: the SSH and local connections implement
// it, and tests substitute a fake.
type Conn interface {
	// Run executes cmd, streaming stdin to it and its output to the
	// writers. A command that exits non-zero returns *ExitError holding
	// its full stderr; a cancelled ctx stops the command.
	Run(ctx context.Context, cmd Cmd, stdio Stdio) error
	Close() error
}

// Stdio is where a command's standard streams go; nil means none.
type Stdio struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// Files is implemented by connections that move files themselves (SFTP,
// the local file system) rather than through shell commands.
type Files interface {
	// WriteFile stores r at path atomically: written to a temporary file
	// in the same directory, synced, then renamed over path, so a reader
	// never sees half a file. The temporary file is 0600 from its first
	// byte and gets its owner, then its final mode, only before the
	// rename, so nobody reads content meant to be private. A symlink at
	// path is refused unless opts.Follow; symlinks on the way that another
	// user could have planted always are. It returns the SHA-256 of what
	// was written.
	WriteFile(ctx context.Context, path string, r io.Reader, opts WriteOptions) (string, error)
	// ReadFile streams path to w and returns its SHA-256. A w that is a
	// Sizer is told the file's size before the first byte, so a progress
	// display can show how much is left.
	ReadFile(ctx context.Context, path string, w io.Writer, as string) (string, error)
}

// Sizer is a ReadFile destination that wants the size of what is coming.
// A pipe to another host's WriteFile has no size of its own: the source's
// size is what tells the operator how long a checkpoint transfer takes.
type Sizer interface {
	SetSize(n int64)
}

// TellSize passes a file's size to w if it wants it: every Files
// implementation's ReadFile calls it before the first byte.
func TellSize(w io.Writer, stat func() (fs.FileInfo, error)) {
	if s, ok := w.(Sizer); ok {
		if fi, err := stat(); err == nil && fi.Mode().IsRegular() {
			s.SetSize(fi.Size())
		}
	}
}

// WriteOptions say how a written file ends up.
type WriteOptions struct {
	// Mode is the file's final mode; 0 keeps a replaced file's mode and
	// gives a new file 0644.
	Mode  fs.FileMode
	Owner string // user name; "" keeps the connection user's
	Group string
	// As writes as this user (through sudo) where the login user may not.
	As string
	// Follow writes through a symlink at path to its target instead of refusing it.
	Follow bool
}

// Output runs cmd and returns its standard output; stderr is kept in the
// error when the command fails.
func Output(ctx context.Context, c Conn, cmd Cmd, stdin io.Reader) (string, error) {
	var out bytes.Buffer
	err := c.Run(ctx, cmd, Stdio{Stdin: stdin, Stdout: &out})
	return out.String(), err
}

// Tail keeps the last bytes written to it: enough stderr to explain a
// failure without holding a runaway command's whole output. Every Conn
// implementation keeps a command's stderr in one, so ExitError.Stderr has
// the same bound whichever transport ran the command.
type Tail struct {
	buf []byte
	max int
}

// NewStderrTail keeps the last 64 KiB, the bound of ExitError.Stderr.
func NewStderrTail() *Tail { return &Tail{max: stderrKept} }

func (t *Tail) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

func (t *Tail) String() string { return strings.TrimRight(string(t.buf), "\n") }

const stderrKept = 64 << 10
