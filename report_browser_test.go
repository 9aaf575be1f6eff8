package main

import (
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestReportHTMLInBrowser opens the HTML report in a real headless
// Chromium (Debian's chromium package; .ci/run installs it with a Japanese
// font): the page must render (a screenshot that is not blank) and its DOM
// must hold the steps' texts and the commands' real output, with nothing
// fetched from elsewhere.
func TestReportHTMLInBrowser(t *testing.T) {
	browser, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (apt-get install chromium): the HTML report is not checked in a browser")
	}
	if testing.Short() {
		t.Skip("-short: no browser")
	}
	rec, _ := recordedRun(t)
	page, errOut, code := run(t, "report", rec, "--format", "html")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	// Self-contained: nothing for the browser to fetch, nothing to run.
	if m := regexp.MustCompile(`(?i)<script|<link|<img|<iframe|\ssrc=|\shref="[^#]|url\(|@import|https?://`).FindString(page); m != "" {
		t.Errorf("the page refers to something outside it: %q", m)
	}
	// The summary's links lead to the steps.
	links := regexp.MustCompile(`href="#([^"]+)"`).FindAllStringSubmatch(page, -1)
	if len(links) < 20 {
		t.Errorf("the summary links %d steps", len(links))
	}
	for _, l := range links {
		if !strings.Contains(page, `id="`+l[1]+`"`) {
			t.Errorf("the summary links #%s, which is not on the page", l[1])
		}
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "report.html")
	if err := os.WriteFile(file, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	chromium := func(args ...string) []byte {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, browser, append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
			"--no-first-run", "--user-data-dir=" + filepath.Join(dir, "profile"), "--window-size=1200,1800"}, args...)...)
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("chromium %s: %v", strings.Join(args, " "), err)
		}
		return out
	}

	dom := string(chromium("--dump-dom", "file://"+file))
	for _, want := range []string{
		"HA(高可用性)環境構築：スタンバイサーバの構築", "実行記録",
		"■ 事前確認【マスターサーバで作業します】",
		"① マスターサーバとスタンバイサーバの条件が揃っていることを確認します",
		`p4コマンドで"standby"というスタンバイサーバのサーバ仕様を作成します`,
		"実行結果（master）", "Server standby saved.", "changed（実施）", "ok（作業済み・変更なし）",
		"c39a56c8f49f7dcbcb9a4803138ad61dbd14118b323ed2382018622bb6aa085a",
	} {
		if !strings.Contains(dom, want) {
			t.Errorf("the rendered DOM lacks %q", want)
		}
	}

	shot := filepath.Join(dir, "report.png")
	chromium("--screenshot="+shot, "file://"+file)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if keep := os.Getenv("TEJUN_KEEP_SCREENSHOT"); keep != "" {
		data, _ := os.ReadFile(shot)
		os.WriteFile(keep, data, 0o644)
	}
	inked, colors := ink(img)
	b := img.Bounds()
	if b.Dx() < 1000 || inked < b.Dx()*b.Dy()/50 || colors < 8 {
		t.Errorf("the screenshot looks blank: %dx%d, %d of its pixels not white, %d colors", b.Dx(), b.Dy(), inked, colors)
	}
}

// ink counts the pixels that are not white and the distinct colors.
func ink(img image.Image) (int, int) {
	n := 0
	colors := map[[3]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r < 0xf000 || g < 0xf000 || bl < 0xf000 {
				n++
			}
			if len(colors) < 1000 {
				colors[[3]uint32{r >> 12, g >> 12, bl >> 12}] = true
			}
		}
	}
	return n, len(colors)
}
