package msg

import (
	"regexp"
	"testing"
)

// Every message is said in both languages, the Japanese with no argument
// the English lacks (Translate could not find it), and an English text
// made by En comes back from Translate as the Japanese one.
func TestTable(t *testing.T) {
	args := []any{"4-⑤ checkpoint", "standby", "3"}
	for id, tx := range texts {
		if tx.ja == "" || tx.en == "" {
			t.Errorf("%s: a language is missing", id)
			continue
		}
		if tx.ja == tx.en && id != FlagTimeout {
			t.Errorf("%s: the Japanese is the English", id)
		}
		en := map[string]bool{}
		for _, m := range placeholder.FindAllString(tx.en, -1) {
			en[m] = true
		}
		for _, m := range placeholder.FindAllString(tx.ja, -1) {
			if !en[m] {
				t.Errorf("%s: the Japanese has %s, the English not", id, m)
			}
		}
		a := args
		if regexp.MustCompile(`\{1#\}`).MatchString(tx.en) {
			a = []any{7, "standby", "3"}
		}
		if tx.cli {
			continue
		}
		if got, want := Translate("ja", En(id, a...)), In("ja", id, a...); got != want {
			t.Errorf("%s: Translate(%q) = %q, want %q", id, En(id, a...), got, want)
		}
	}
}

func TestTranslate(t *testing.T) {
	for _, c := range []struct{ en, ja string }{
		{"interrupted", "中断されました"},
		{"interrupted: the running command was told to stop", "中断されました: 実行中のコマンドに停止を指示しました"},
		// Arguments that are messages are said in Japanese too.
		{En(StoppedMaxFail, Count("en", 1, OneHost, Hosts), 0), "停止: 1 台のホストで失敗し、max_fail = 0 の許容を超えました"},
		{En(TimedOut, "2s", En(FlagTimeout), "exit status 1"), "2s でタイムアウトしました（--step-timeout）: exit status 1"},
		{En(WouldFail, "/srv/d does not exist"), "失敗する見込みです: /srv/d does not exist"},
		// A multi-line argument (a diff) is kept whole.
		{En(CannotCheckYet, "a\nb"), "前の手順を実行するまで確認できません: a\nb"},
		// Text no message made is left as it is.
		{"/srv/d exists", "/srv/d exists"},
		{"interrupted by the host", "interrupted by the host"},
	} {
		if got := Translate("ja", c.en); got != c.ja {
			t.Errorf("Translate(%q) = %q, want %q", c.en, got, c.ja)
		}
		if got := Translate("en", c.en); got != c.en {
			t.Errorf("Translate(en, %q) = %q", c.en, got)
		}
	}
}
