package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"tejun/runbook"
	"tejun/runbook/render"
	"tejun/runbook/run"
)

// testHuman is a live display on buf with a clock the test moves.
func testHuman(buf *bytes.Buffer, live bool, width, height int) (*human, *time.Time) {
	clock := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	h := newHuman(buf, &runbook.Binding{Runbook: &runbook.Runbook{}}, "en", true, false)
	h.now = func() time.Time { return clock }
	if live {
		h.live = &liveBlock{w: buf, size: func() (int, int) { return width, height }}
	}
	return h, &clock
}

func step(id string, n int) *runbook.Step {
	return &runbook.Step{ID: id, Section: &runbook.Section{Number: 3}, Number: n}
}

// The live lines are erased and drawn again in place; finished lines go
// above them and stay.
func TestLiveRedrawsInPlace(t *testing.T) {
	var buf bytes.Buffer
	h, clock := testHuman(&buf, true, 140, 30)
	restore, send := step("restore", 1), step("send", 2)
	h.Started(restore, "db-01")
	h.Started(send, "db-02")
	*clock = clock.Add(65 * time.Second)
	h.Progress(send, "db-02", 0, 4<<30)
	*clock = clock.Add(10 * time.Second)
	h.Progress(send, "db-02", 1<<30, 4<<30)
	buf.Reset()
	h.tick()
	want := "\r\x1b[2A\x1b[J" +
		"⠴ 3-1   restore                      db-01      1m15s   \n" +
		"⠴ 3-2   send                         db-02      1m15s    [██░░░░░░░░]  25% 1.0 GiB/4.0 GiB 102.4 MiB/s ETA 30s\n"
	if got := buf.String(); got != want {
		t.Errorf("redraw:\n got %q\nwant %q", got, want)
	}
	buf.Reset()
	h.Finished(run.Event{Step: restore, Host: "db-01", Status: run.Changed, Duration: 75 * time.Second})
	want = "\r\x1b[2A\x1b[J" +
		"3-1   restore                      db-01      changed   75.00s\n" +
		"⠴ 3-2   send                         db-02      1m15s    [██░░░░░░░░]  25% 1.0 GiB/4.0 GiB 102.4 MiB/s ETA 30s\n"
	if got := buf.String(); got != want {
		t.Errorf("finished:\n got %q\nwant %q", got, want)
	}
	buf.Reset()
	h.finish()
	if got := buf.String(); got != "\r\x1b[1A\x1b[J" {
		t.Errorf("finish leaves %q", got)
	}
}

// Lines never wrap (the erase would miss their second row) and never
// outnumber the terminal's rows (it could not reach their top).
func TestLiveFitsTheTerminal(t *testing.T) {
	var buf bytes.Buffer
	h, _ := testHuman(&buf, true, 40, 6)
	for i := 1; i <= 9; i++ {
		h.Started(step(strings.Repeat("long-step-name-", 3), i), "host")
	}
	buf.Reset()
	h.tick()
	lines := strings.Split(strings.TrimSuffix(strings.TrimPrefix(buf.String(), "\r\x1b[4A\x1b[J"), "\n"), "\n")
	if len(lines) != 4 || lines[3] != "  … and 6 more running" {
		t.Fatalf("got %q", lines)
	}
	for _, l := range lines {
		if w := len([]rune(l)); w > 39 {
			t.Errorf("line of %d columns on a 40-column terminal: %q", w, l)
		}
	}
}

// While a question is up nothing is drawn; what happened meanwhile comes
// after the answer, then the live lines again.
func TestLiveHoldsForAPrompt(t *testing.T) {
	var buf bytes.Buffer
	h, _ := testHuman(&buf, true, 100, 30)
	wipe := step("wipe", 1)
	h.Started(wipe, "n1")
	h.Started(wipe, "n2")
	buf.Reset()
	release := h.hold()
	if got := buf.String(); got != "\r\x1b[2A\x1b[J" {
		t.Errorf("hold: %q", got)
	}
	buf.Reset()
	h.tick()
	h.Log(wipe, "n2", "$ find /standby")
	h.Finished(run.Event{Step: wipe, Host: "n2", Status: run.OK})
	if buf.Len() != 0 {
		t.Errorf("drawn during a prompt: %q", buf.String())
	}
	release()
	got := buf.String()
	if !strings.HasPrefix(got, "      wipe n2 | $ find /standby\n3-1   wipe") || !strings.HasSuffix(got, "n1         0.0s    \n") {
		t.Errorf("after the answer: %q", got)
	}
}

// Off a terminal: a stamped line per start, per finish, and each minute a
// step keeps running, with its transfer's progress.
func TestPlainLines(t *testing.T) {
	var buf bytes.Buffer
	h, clock := testHuman(&buf, false, 0, 0)
	ckp := step("send-checkpoint", 4)
	h.Started(ckp, "db-02")
	*clock = clock.Add(30 * time.Second)
	h.Progress(ckp, "db-02", 1, 3<<30)
	*clock = clock.Add(30 * time.Second)
	h.Progress(ckp, "db-02", 1<<30, 3<<30)
	h.tick()
	h.tick()
	h.Finished(run.Event{Step: ckp, Host: "db-02", Status: run.Changed, Duration: 90 * time.Second})
	want := "2026-12-01T09:00:00Z 3-4   send-checkpoint              db-02      started\n" +
		"2026-12-01T09:01:00Z 3-4   send-checkpoint              db-02      running  1m00s [███░░░░░░░]  33% 1.0 GiB/3.0 GiB 34.1 MiB/s ETA 1m00s\n" +
		"2026-12-01T09:01:00Z 3-4   send-checkpoint              db-02      changed   90.00s\n"
	if got := buf.String(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestSizesAndDurations(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{bytesText(0), "0 B"}, {bytesText(1023), "1023 B"}, {bytesText(1536), "1.5 KiB"}, {bytesText(5 << 40), "5.0 TiB"},
		{elapsed(4200 * time.Millisecond), "4.2s"}, {elapsed(187 * time.Second), "3m07s"}, {elapsed(3723 * time.Second), "1h02m03s"},
		{progressText(&task{total: -1}, time.Now()), ""},
		{progressText(&task{done: 2048, total: -1}, time.Now()), "2.0 KiB"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

// The run's reporters pass progress on to the display: the executor sees
// only the fan-out.
var _ run.Progresser = reporters{}

func TestProgressReachesTheDisplay(t *testing.T) {
	var buf bytes.Buffer
	h, clock := testHuman(&buf, true, 140, 30)
	up := step("upload", 1)
	h.Started(up, "n1")
	reporters{&eventLog{w: &bytes.Buffer{}}, h}.Progress(up, "n1", 0, 1000)
	*clock = clock.Add(time.Second)
	reporters{h}.Progress(up, "n1", 1000, 1000)
	// Hashing and renaming after the last byte do not slow the rate.
	*clock = clock.Add(9 * time.Second)
	buf.Reset()
	h.tick()
	if got := buf.String(); !strings.HasSuffix(got, "10.0s    [██████████] 100% 1000 B/1000 B 1000 B/s\n") {
		t.Errorf("got %q", got)
	}
}

// Before the first step, while the hosts are reached and locked, the
// screen says so rather than stay blank.
func TestLiveConnecting(t *testing.T) {
	var buf bytes.Buffer
	h, clock := testHuman(&buf, true, 140, 30)
	h.begun = *clock // as start does, without its ticker racing the test's clock
	*clock = clock.Add(2500 * time.Millisecond)
	h.mu.Lock()
	buf.Reset()
	h.live.redraw(h.liveLines())
	h.mu.Unlock()
	if got := buf.String(); got != "⠹ connecting to the hosts and taking their run locks 2.5s\n" {
		t.Errorf("got %q", got)
	}
	h.Started(step("first", 1), "n1")
	h.mu.Lock()
	defer h.mu.Unlock()
	if l := h.liveLines(); len(l) != 1 || strings.Contains(l[0], "connecting") {
		t.Errorf("still connecting once a step runs: %q", l)
	}
}

// Plain lines wait for a question's answer too, with the times they
// happened at.
func TestPlainHoldsForAPrompt(t *testing.T) {
	var buf bytes.Buffer
	h, clock := testHuman(&buf, false, 0, 0)
	wipe := step("wipe", 1)
	release := h.hold()
	h.Started(wipe, "n2")
	*clock = clock.Add(5 * time.Second)
	if buf.Len() != 0 {
		t.Errorf("written during a prompt: %q", buf.String())
	}
	release()
	if got := buf.String(); got != "2026-12-01T09:00:00Z 3-1   wipe                         n2         started\n" {
		t.Errorf("after the answer: %q", got)
	}
}

// A terminal narrowed under the live lines rewraps them: the erase goes
// up every row they take now, and the redraw cuts each line to the new
// width by display width, a Japanese character counting two columns.
func TestLiveNarrowedTerminal(t *testing.T) {
	var buf bytes.Buffer
	width := 100
	b := &liveBlock{w: &buf, size: func() (int, int) { return width, 30 }}
	b.redraw([]string{strings.Repeat("x", 90), "short"})
	width = 40
	buf.Reset()
	b.redraw([]string{"復元中の手順" + strings.Repeat("あ", 30)})
	got := buf.String()
	// 90 columns are 3 rows of 40 now, "short" one: 4 rows up.
	if !strings.HasPrefix(got, "\r\x1b[4A\x1b[J") {
		t.Fatalf("erase after narrowing: %q", got)
	}
	line := strings.TrimSuffix(strings.TrimPrefix(got, "\r\x1b[4A\x1b[J"), "\n")
	if w := render.Width(line); w > 39 || !strings.HasSuffix(line, "…") {
		t.Errorf("a line of %d columns on a 40-column terminal: %q", w, line)
	}
	// Unchanged width: one row a line.
	buf.Reset()
	b.redraw(nil)
	if got := buf.String(); got != "\r\x1b[1A\x1b[J" {
		t.Errorf("erase at the same width: %q", got)
	}
}

// A live line is one row whatever the inventory's names hold: a newline or
// a tab (which mask.Visible leaves) would make it two rows, or wider than
// the terminal, and the erase would leave a row behind each redraw.
func TestLiveLineIsOneRow(t *testing.T) {
	var buf bytes.Buffer
	h, _ := testHuman(&buf, true, 40, 30)
	h.Started(step("s", 1), "db\n01")
	h.Started(step("t", 2), "db\t\t\t\t\t\t02")
	buf.Reset()
	h.tick()
	rows := strings.Split(strings.TrimSuffix(strings.TrimPrefix(buf.String(), "\r\x1b[2A\x1b[J"), "\n"), "\n")
	if len(rows) != 2 {
		t.Fatalf("2 live lines drew %d rows: %q", len(rows), buf.String())
	}
	for _, r := range rows {
		if strings.ContainsRune(r, '\t') || len([]rune(r)) > 39 {
			t.Errorf("row %q may be wider than the 40-column terminal", r)
		}
	}
}

// Once the run is over the live lines are gone for good: a message written
// after (a late interrupt's notice) or a late line does not draw them back
// under the summary, where nothing would erase them.
func TestNoLiveLinesAfterTheRun(t *testing.T) {
	var buf, errBuf bytes.Buffer
	h, _ := testHuman(&buf, true, 100, 30)
	h.begun = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC) // no step started: "connecting"
	h.Started(step("left", 1), "n1")                       // and one whose end never came
	h.finish()
	buf.Reset()
	h.writer(&errBuf).Write([]byte("tejun: interrupted\n"))
	h.Log(step("late", 2), "n1", "late line")
	if strings.Contains(buf.String(), "left") || strings.Contains(buf.String(), "\x1b[") || errBuf.String() != "tejun: interrupted\n" {
		t.Errorf("after the run: screen %q, stderr %q", buf.String(), errBuf.String())
	}
	if !strings.Contains(buf.String(), "late line") {
		t.Errorf("a line after the run was lost: %q", buf.String())
	}
}

// A reason of several lines (a file's diff, whose old lines are the
// host's) keeps its lines under the reason, and off a terminal each of
// them starts with the time like every other line: none can pass for a
// step's line of its own.
func TestMultiLineReasonStaysUnderIt(t *testing.T) {
	var buf bytes.Buffer
	first := "3-1   conf                         h1         changed    0.00s  "
	under := strings.Repeat(" ", len(first))
	h, _ := testHuman(&buf, false, 0, 0)
	h.Finished(run.Event{Step: step("conf", 1), Host: "h1", Status: run.Changed, Reason: "/f differs:\n-3-2   other  h1  ok\n+b"})
	want := "2026-12-01T09:00:00Z " + first + "/f differs:\n" +
		"2026-12-01T09:00:00Z " + under + "-3-2   other  h1  ok\n" +
		"2026-12-01T09:00:00Z " + under + "+b\n"
	if got := buf.String(); got != want {
		t.Errorf("plain:\n%s\nwant:\n%s", got, want)
	}
	buf.Reset()
	h, _ = testHuman(&buf, true, 200, 30)
	h.Finished(run.Event{Step: step("conf", 1), Host: "h1", Status: run.Changed, Reason: "/f differs:\n+b"})
	want = first + "/f differs:\n" + under + "+b\n"
	if got := buf.String(); got != want {
		t.Errorf("live:\n%q\nwant:\n%q", got, want)
	}
}

// Two questions may be up at once (a key's passphrase and a step's
// confirmation each hold the screen): the screen stays held until both are
// answered, and nothing printed meanwhile is lost.
func TestNestedHolds(t *testing.T) {
	for _, live := range []bool{true, false} {
		var buf bytes.Buffer
		h, _ := testHuman(&buf, live, 100, 30)
		s := step("wipe", 1)
		h.Started(s, "n1")
		first := h.hold()
		h.Log(s, "n1", "during the first")
		second := h.hold()
		h.Log(s, "n1", "during both")
		buf.Reset()
		first()
		if buf.Len() != 0 {
			t.Errorf("live %v: drawn while a question is still up: %q", live, buf.String())
		}
		h.Log(s, "n1", "during the second")
		second()
		got := buf.String()
		for _, want := range []string{"during the first", "during both", "during the second"} {
			if !strings.Contains(got, want) {
				t.Errorf("live %v: %q lost: %q", live, want, got)
			}
		}
	}
}
