package host

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"sync"
	"sync/atomic"

	"tejun/transport"
)

// maxLogLine bounds one streamed line: a command printing megabytes with
// no newline must not hold them all in memory for the -v log. The rest of
// such a line is dropped (and said so), never cut into several lines,
// whose short ends could escape the mask.
const maxLogLine = 64 << 10

// lineLog hands a command's output to the -v log line by line as it
// arrives, so an operator watching a twenty-minute restore sees it
// progress rather than all at once at the end. A bare carriage return
// ends a line too: a progress meter redraws its line with one, and each
// redraw is shown when it comes rather than ^M-joined at the end.
type lineLog struct {
	mu      sync.Mutex
	buf     []byte
	dropped int
	// cr is a carriage return that ended the last write: a newline that
	// starts the next one makes it a CRLF, already logged.
	cr   bool
	emit func(line string)
}

func (l *lineLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(p)
	if l.cr && len(p) > 0 && p[0] == '\n' {
		p = p[1:]
	}
	l.cr = false
	for len(p) > 0 {
		i := bytes.IndexAny(p, "\r\n")
		chunk := p
		if i >= 0 {
			chunk = p[:i]
		}
		if room := maxLogLine - len(l.buf); room < len(chunk) {
			l.dropped += len(chunk) - max(room, 0)
			chunk = chunk[:max(room, 0)]
		}
		l.buf = append(l.buf, chunk...)
		if i < 0 {
			break
		}
		end := p[i]
		p = p[i+1:]
		switch {
		case end == '\r' && len(p) > 0 && p[0] == '\n': // CRLF
			p = p[1:]
		case end == '\r':
			l.cr = len(p) == 0
			if len(l.buf) == 0 && l.dropped == 0 {
				continue // between two redraws
			}
		}
		l.flushLocked()
	}
	return n, nil
}

func (l *lineLog) flushLocked() {
	line := string(l.buf)
	if l.dropped > 0 {
		line += fmt.Sprintf(" [… %d more bytes of this line not shown]", l.dropped)
	}
	l.buf, l.dropped = l.buf[:0], 0
	l.emit(line)
}

// close logs a last line that had no newline.
func (l *lineLog) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 || l.dropped > 0 {
		l.flushLocked()
	}
}

// keptEdge is how much of each end of a stream keptOutput holds: the
// half the audit record keeps (OutputLimit/2), and as much again beyond
// it, so the output is masked before it is cut there (bounded), and a
// secret across that cut is still whole; only the far end of that slack,
// which bounded drops, was cut raw.
const keptEdge = OutputLimit/2 + OutputLimit

// keptOutput holds the head and the tail of a stream that only the audit
// record reads (stderr), and counts what it dropped between them: a tool
// printing gigabytes of it must not be held in memory for a record that
// keeps 32 KiB.
type keptOutput struct {
	mu         sync.Mutex
	head, tail []byte
	dropped    int
}

func (k *keptOutput) Write(p []byte) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	n := len(p)
	if room := keptEdge - len(k.head); room > 0 {
		c := min(room, len(p))
		k.head = append(k.head, p[:c]...)
		p = p[c:]
	}
	k.tail = append(k.tail, p...)
	if over := len(k.tail) - keptEdge; over > 0 {
		k.dropped += over
		k.tail = append(k.tail[:0], k.tail[over:]...)
	}
	return n, nil
}

// kept returns what was held, and how many bytes were dropped between
// its head and its tail.
func (k *keptOutput) kept() (string, int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return string(k.head) + string(k.tail), k.dropped
}

// progress counts the bytes of one step's file transfers on one host.
// A transfer both reads (from its source) and writes (to its
// destination) the same bytes, so the larger count is how far it is.
type progress struct {
	sink         Sink
	step         string
	host         string
	total        atomic.Int64
	read, writen atomic.Int64
}

func (p *progress) report() {
	p.sink.Progress(p.step, p.host, max(p.read.Load(), p.writen.Load()), p.total.Load())
}

// progressFiles counts what a step's Files move, for the reporter.
type progressFiles struct {
	transport.Files
	p *progress
}

func (f progressFiles) WriteFile(ctx context.Context, path string, r io.Reader, o transport.WriteOptions) (string, error) {
	if n := sizeOf(r); n >= 0 && f.p.total.Load() < 0 {
		f.p.total.Store(n)
	}
	f.p.report()
	return f.Files.WriteFile(ctx, path, &countingReader{r: r, p: f.p}, o)
}

func (f progressFiles) ReadFile(ctx context.Context, path string, w io.Writer, as string) (string, error) {
	return f.Files.ReadFile(ctx, path, &countingWriter{w: w, p: f.p}, as)
}

// sizeOf is what r will yield, when r knows it: an upload's local file,
// a rendered file's content; -1 otherwise (a pipe from another host).
func sizeOf(r io.Reader) int64 {
	switch v := r.(type) {
	case interface{ Stat() (fs.FileInfo, error) }:
		if fi, err := v.Stat(); err == nil && fi.Mode().IsRegular() {
			return fi.Size()
		}
	case interface{ Len() int }:
		return int64(v.Len())
	}
	return -1
}

type countingReader struct {
	r io.Reader
	p *progress
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	if n > 0 {
		c.p.writen.Add(int64(n))
		c.p.report()
	}
	return n, err
}

type countingWriter struct {
	w io.Writer
	p *progress
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	if n > 0 {
		c.p.read.Add(int64(n))
		c.p.report()
	}
	return n, err
}

// SetSize takes the source's size from ReadFile (transport.Sizer).
func (c *countingWriter) SetSize(n int64) {
	c.p.total.Store(n)
	c.p.report()
}
