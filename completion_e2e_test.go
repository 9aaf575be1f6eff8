package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestBashCompletion sources tejun completion bash in a real bash and
// completes as a person at a prompt would: commands, a command's flags,
// the kinds after tejun kinds, and the shells after tejun completion.
func TestBashCompletion(t *testing.T) {
	bin := tejunBinary(t)
	script, err := exec.Command(bin, "completion", "bash").Output()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tejun.bash")
	os.WriteFile(path, script, 0o644)
	for line, want := range map[string][]string{
		"tejun dr":              {"dry-run"},
		"tejun pl":              {"plan"},
		"tejun run x.toml --li": {"--limit"},
		"tejun plan --deta":     {"--detailed-exitcode"},
		"tejun kinds p4.se":     {"p4.server", "p4.server_id", "p4.servers"},
		"tejun completion z":    {"zsh"},
	} {
		words := strings.Fields(line)
		var quoted []string
		for _, w := range words {
			quoted = append(quoted, "'"+w+"'")
		}
		sh := "source " + path + "; COMP_WORDS=(" + strings.Join(quoted, " ") + "); COMP_CWORD=" + itoa(len(words)-1) +
			"; _tejun; printf '%s\\n' \"${COMPREPLY[@]}\""
		cmd := exec.Command("bash", "--norc", "--noprofile", "-c", sh)
		cmd.Env = []string{"PATH=" + filepath.Dir(bin) + ":/usr/bin:/bin", "HOME=" + t.TempDir()}
		cmd.Dir = t.TempDir()
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%q: %v\n%s", line, err, out)
		}
		got := strings.Fields(string(out))
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%q completes to %q, want %q", line, got, want)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestFishCompletionAndMan: the fish script and the man page are
// generated from the same command tree; the page renders without a
// warning in groff.
func TestFishCompletionAndMan(t *testing.T) {
	fish, errOut, code := run(t, "completion", "fish")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"complete -c tejun", "'dry-run'", "'plan'", "detailed-exitcode", "limit"} {
		if !strings.Contains(fish, want) {
			t.Errorf("fish completion lacks %q", want)
		}
	}
	if _, _, code := run(t, "completion", "tcsh"); code != 2 {
		t.Errorf("completion tcsh: exit %d, want 2", code)
	}
	man, errOut, code := run(t, "man")
	if code != 0 || !strings.HasPrefix(man, ".nh\n.TH tejun 1") {
		t.Fatalf("man: exit %d %s\n%.200s", code, errOut, man)
	}
	if _, err := exec.LookPath("groff"); err != nil {
		t.Skip("no groff to render the page")
	}
	cmd := exec.Command("groff", "-man", "-Tutf8", "-ww")
	cmd.Stdin = strings.NewReader(man)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	page, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("groff: %v\n%s", err, stderr.String())
	}
	text := stripOverstrike(string(page))
	for _, want := range []string{"NAME", "SYNOPSIS", "COMMANDS", "dry-run", "--detailed-exitcode", "--limit"} {
		if !strings.Contains(text, want) {
			t.Errorf("the rendered page lacks %q", want)
		}
	}
}

// stripOverstrike removes groff's bold (c\bc) and underline (_\bc).
func stripOverstrike(s string) string {
	var b strings.Builder
	r := []rune(s)
	for i := 0; i < len(r); i++ {
		if i+1 < len(r) && r[i+1] == '\b' {
			i++
			continue
		}
		b.WriteRune(r[i])
	}
	return b.String()
}

// TestZshCompletion runs the zsh function with compadd and _files
// stubbed (they need an interactive completion system): it must offer
// what tejun itself says comes next.
func TestZshCompletion(t *testing.T) {
	if _, err := exec.LookPath("zsh"); err != nil {
		t.Skip("no zsh")
	}
	bin := tejunBinary(t)
	script, err := exec.Command(bin, "completion", "zsh").Output()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "_tejun")
	os.WriteFile(path, script, 0o644)
	for line, want := range map[string]string{
		"tejun run x.toml --li": "--limit",
		"tejun kinds p4.se":     "p4.servers",
		"tejun pl":              "plan",
	} {
		words := strings.Fields(line)
		sh := `compdef() {}; compadd() { shift; for v in "${(@P)1}"; do print -r -- "$v"; done }; _files() { print FILES }; source ` + path +
			`; words=(` + strings.Join(words, " ") + `); CURRENT=` + strconv.Itoa(len(words)) + `; _tejun`
		cmd := exec.Command("zsh", "-f", "-c", sh)
		cmd.Env = []string{"PATH=" + filepath.Dir(bin) + ":/usr/bin:/bin", "HOME=" + t.TempDir()}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%q: %v\n%s", line, err, out)
		}
		if !strings.Contains("\n"+string(out), "\n"+want+"\n") {
			t.Errorf("%q offers %q, not %q", line, out, want)
		}
	}
}
