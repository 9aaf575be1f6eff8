package host

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"tejun/transport"
	"tejun/transport/local"
	"tejun/transport/transporttest"
)

// A line with no end is kept to maxLogLine bytes and the rest said to be
// dropped, never split into lines whose ends escape the mask.
func TestLongLineBounded(t *testing.T) {
	var got []string
	l := &lineLog{emit: func(s string) { got = append(got, s) }}
	l.Write([]byte(strings.Repeat("x", maxLogLine-10)))
	l.Write([]byte(strings.Repeat("y", 30) + "\nnext\r\n"))
	l.close()
	if len(got) != 2 || len(got[0]) < maxLogLine || !strings.HasSuffix(got[0], "[… 20 more bytes of this line not shown]") || got[1] != "next" {
		t.Errorf("got %d lines: %.80q… %q", len(got), got[0], got[1:])
	}
}

// A progress meter redraws its line with a bare carriage return (rsync
// --progress, curl, pv): each redraw is a line of its own in the -v log as
// it comes, not a single line of ^M-joined updates shown when the command
// ends and cut at maxLogLine. CRLF is one line end, even split across two
// writes, and the empty "lines" between redraws are not logged.
func TestCarriageReturnEndsALine(t *testing.T) {
	var got []string
	l := &lineLog{emit: func(s string) { got = append(got, s) }}
	l.Write([]byte("\r 10%\r 20%"))
	if len(got) != 1 || got[0] != " 10%" {
		t.Fatalf("the first redraw is not logged when it comes: %q", got)
	}
	l.Write([]byte("\r\r 30%\r"))
	l.Write([]byte("\ndone\r\n\nlast"))
	l.close()
	want := []string{" 10%", " 20%", " 30%", "done", "", "last"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q, want %q", got, want)
	}
}

type progressRecorder struct {
	mu   sync.Mutex
	seen [][2]int64
}

func (r *progressRecorder) Log(step, host, line string) {}
func (r *progressRecorder) Progress(step, host string, done, total int64) {
	r.mu.Lock()
	r.seen = append(r.seen, [2]int64{done, total})
	r.mu.Unlock()
}

// A transfer counts its bytes once though they are both read and written,
// under the size its source announced: the destination reads a pipe,
// which has none.
func TestTransferProgress(t *testing.T) {
	rec := &progressRecorder{}
	p := &progress{sink: rec, host: "h1"}
	p.total.Store(-1)
	path := filepath.Join(t.TempDir(), "ckp")
	os.WriteFile(path, []byte(strings.Repeat("z", 100000)), 0o644)
	from, to := progressFiles{local.Conn{}, p}, progressFiles{transporttest.New(), p}
	pr, pw := io.Pipe()
	go func() {
		_, err := from.ReadFile(context.Background(), path, pw, "")
		pw.CloseWithError(err)
	}()
	if _, err := to.WriteFile(context.Background(), "/dst", pr, transport.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, s := range rec.seen {
		if s[1] != 100000 && s[0] > 0 {
			t.Errorf("progress %v before the size was known", s)
		}
		if s[0] > 100000 {
			t.Errorf("progress %v counts bytes twice", s)
		}
	}
	if last := rec.seen[len(rec.seen)-1]; last != [2]int64{100000, 100000} {
		t.Errorf("last progress %v, want 100000 of 100000", last)
	}
}

// A long output keeps its first and last lines, says what it left out, and
// stays within OutputLimit; a short one is kept as it is.
func TestBoundedOutput(t *testing.T) {
	if got := bounded("a\nb\n", 0); got != "a\nb\n" {
		t.Errorf("short output changed: %q", got)
	}
	var b strings.Builder
	for i := 0; b.Len() < 3*OutputLimit; i++ {
		b.WriteString("line " + strings.Repeat("x", i%70) + "\n")
	}
	s := "first line\n" + b.String() + "last line\n"
	got := bounded(s, 0)
	if len(got) > OutputLimit+64 || !strings.HasPrefix(got, "first line\n") || !strings.HasSuffix(got, "\nlast line\n") {
		t.Fatalf("bounded kept %d bytes, head %.40q tail %q", len(got), got, got[len(got)-40:])
	}
	cut := len(s) - (len(got) - len("[... 00000 bytes not recorded ...]\n"))
	if !strings.Contains(got, "\n[... ") || !strings.Contains(got, " bytes not recorded ...]\nline ") || !strings.Contains(got, strconv.Itoa(cut)) {
		t.Errorf("no whole-line cut saying %d bytes were left out:\n%s", cut, got[OutputLimit/2-200:OutputLimit/2+200])
	}
}
