package tomlsrc

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestPrescanDepth(t *testing.T) {
	deep := map[string]string{
		"inline tables": "x = 1\nv = " + strings.Repeat("{a=", 40) + "1" + strings.Repeat("}", 40),
		"arrays":        "x = 1\nv = " + strings.Repeat("[", 40) + "1" + strings.Repeat("]", 40),
		"dotted key":    "x = 1\n" + strings.Repeat("a.", 40) + "b = 1",
		"header":        "x = 1\n[" + strings.Repeat("a.", 40) + "b]",
		"mixed":         "[" + strings.Repeat("a.", 12) + "b]\n" + strings.Repeat("c.", 12) + "d = " + strings.Repeat("{e=", 12) + "1" + strings.Repeat("}", 12),
	}
	for name, src := range deep {
		err := Prescan(context.Background(), "f.toml", []byte(src))
		var ps Problems
		if !errors.As(err, &ps) || ps[0].Line != 2 || !strings.Contains(ps[0].Msg, "nested more than 32") {
			t.Errorf("%s: err = %v, want a nesting problem at f.toml:2", name, err)
		}
	}
	fine := []string{
		// Brackets in strings and comments are text.
		`v = "` + strings.Repeat("[{", 100) + `"` + " # " + strings.Repeat("[", 100) + "\n" +
			"w = '''\n" + strings.Repeat("{", 100) + "\n'''\n" + `u = """` + strings.Repeat(`\"[`, 100) + `"""`,
		// Many siblings are not depth.
		"v = [" + strings.Repeat("[1], ", 500) + "]\nw = {" + strings.Repeat("a.b = 1, ", 1) + "c = {}, d = [{}, {e = 1}]}",
		"[a.b.c]\nd.e.f = [[1, 2], [3]]\n[[g.h]]\ni = 1.5\n",
	}
	for _, src := range fine {
		if err := Prescan(context.Background(), "f.toml", []byte(src)); err != nil {
			t.Errorf("%q: %v", src, err)
		}
	}
	// Every bundled example and test input passes.
	files, _ := filepath.Glob("../../examples/*/*.toml")
	more, _ := filepath.Glob("../../testdata/*/*.toml")
	for _, f := range append(files, more...) {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := Prescan(context.Background(), f, src); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// A pathological input costs little: measured by bytes allocated, which
// does not depend on the machine's speed.
func TestParsePathologicalIsCheap(t *testing.T) {
	inputs := map[string]string{
		"inline tables": "v = " + strings.Repeat("{a=", 8000) + "1" + strings.Repeat("}", 8000),
		"dotted key":    strings.Repeat("a.", 8000) + "b = 1",
	}
	for name, src := range inputs {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, err := Parse("f.toml", []byte(src))
		runtime.ReadMemStats(&after)
		if err == nil {
			t.Errorf("%s: parsed without complaint", name)
		}
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
			t.Errorf("%s: parsing %d bytes allocated %d MB", name, len(src), grew>>20)
		}
	}
}

func TestPrescanHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Prescan(ctx, "f.toml", []byte("v = 1\n")); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestReadFileRefusesNonRegularAndLarge(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.toml")
	if err := os.WriteFile(big, make([]byte, MaxFileSize+1), 0o600); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		fifo: "not a regular file (a FIFO)", "/dev/zero": "a character device", dir: "a directory",
		big: "larger than 4 MiB", filepath.Join(dir, "none"): "no such file",
	} {
		// A FIFO with no writer would block a plain open forever; the
		// test finishing is part of what it checks.
		_, err := ReadFile(context.Background(), path)
		var ps Problems
		if !errors.As(err, &ps) || ps[0].File != path || !strings.Contains(ps[0].Msg, want) {
			t.Errorf("%s: err = %v, want %q", path, err, want)
		}
	}
	ok := filepath.Join(dir, "ok.toml")
	if err := os.WriteFile(ok, []byte("a = 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if src, err := ReadFile(context.Background(), ok); err != nil || string(src) != "a = 1\n" {
		t.Errorf("ok.toml: %q, %v", src, err)
	}
}

// FuzzPrescan: whatever the input, the pre-scan answers without panicking,
// and what it lets through to the decoder has no problem it should have
// caught (an input the decoder reads is at most MaxDepth deep).
func FuzzPrescan(f *testing.F) {
	for _, s := range []string{"a.b = {c = [1, {d = 2}]}", "[x.\"y.z\"]\nk = '''\n[[\n'''", `v = "\"{"`, "a = [[[", "{{{", "[a.b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		if err := Prescan(context.Background(), "f.toml", []byte(src)); err != nil {
			return
		}
		s, err := Parse("f.toml", []byte(src))
		if err != nil {
			return
		}
		if d := depth(s.Raw); d > MaxDepth+1 {
			t.Fatalf("decoded %d deep past the pre-scan: %q", d, src)
		}
	})
}

func depth(v any) int {
	d := 0
	switch v := v.(type) {
	case map[string]any:
		for _, e := range v {
			d = max(d, depth(e))
		}
		return d + 1
	case []any:
		for _, e := range v {
			d = max(d, depth(e))
		}
		return d + 1
	case []map[string]any:
		for _, e := range v {
			d = max(d, depth(e))
		}
		return d + 1
	}
	return 0
}

// TestReadFileDoesNotOpenAFIFO: opening a FIFO is itself an act (it
// releases a writer waiting for a reader, who then writes into a pipe no
// one reads), so a path that is not a regular file is refused before it is
// opened, symlinks followed.
func TestReadFileDoesNotOpenAFIFO(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.toml")
	if err := os.Symlink(fifo, link); err != nil {
		t.Fatal(err)
	}
	opened := make(chan struct{})
	go func() {
		// Blocks until some reader opens the FIFO.
		if f, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
			close(opened)
			f.Close()
		}
	}()
	time.Sleep(50 * time.Millisecond)
	for _, p := range []string{fifo, link} {
		_, err := ReadFile(context.Background(), p)
		if err == nil || !strings.Contains(err.Error(), "not a regular file (a FIFO)") {
			t.Errorf("%s: err = %v, want not a regular file", p, err)
		}
	}
	select {
	case <-opened:
		t.Fatal("ReadFile opened the FIFO: the waiting writer was let through")
	case <-time.After(200 * time.Millisecond):
	}
	// Release the writer goroutine.
	if f, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
		<-opened
		f.Close()
	}
	// A symlink to a regular file is read.
	ok := filepath.Join(dir, "ok.toml")
	if err := os.WriteFile(ok, []byte("a = 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	okLink := filepath.Join(dir, "ok-link.toml")
	if err := os.Symlink(ok, okLink); err != nil {
		t.Fatal(err)
	}
	if src, err := ReadFile(context.Background(), okLink); err != nil || string(src) != "a = 1\n" {
		t.Errorf("ok-link.toml: %q, %v", src, err)
	}
}
