package main

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// stepTexts splits a Japanese dry-run into its steps, keyed as
// commandsByStep keys them ("5-③"; the failover drills' ■ sections count
// from 1).
func stepTexts(out string) map[string]string {
	texts := map[string]string{}
	sec, step := 0, ""
	for _, l := range strings.Split(out, "\n") {
		switch {
		case sectionLine.MatchString(l) && (strings.Contains(l, "後片付け") || strings.Contains(l, "スプリットブレイン")):
			sec, step = 0, ""
		case sectionLine.MatchString(l) && !strings.Contains(l, "事前確認"):
			sec++
			step = ""
		case stepLine.MatchString(l):
			step = strconv.Itoa(sec) + "-" + stepLine.FindStringSubmatch(l)[1]
		case step != "":
			texts[step] += strings.TrimSpace(l) + "\n"
		}
	}
	return texts
}

// The dry-run shows what the manual shows around its commands: the
// example outputs (表示されるメッセージ例, 実行結果), the 解説 notes and the
// spec forms with their ● notes, each under the step the manual puts it
// in. Every example line is the manual's own (checked against the seed).
func TestDryRunShowsManualExamples(t *testing.T) {
	seed, err := os.ReadFile("../shared/seeds/000_0ef5138c4c53d4c3.txt")
	if err != nil {
		t.Logf("seed not beside the checkout (%v): lines are checked in the dry-run only", err)
	}
	// fromManual lines are in the seed verbatim; ours are tejun's wording
	// of the manual's form (its ● notes, the defaults the editor shows).
	type want struct {
		fromManual, ours []string
	}
	cases := map[string]map[string]want{
		"standby": {
			"1-②": {fromManual: []string{"ServerID: standby", "Description:", "Created by super."},
				ours: []string{"Type: server", "Services: standby  ● standard（既定値）を上書き",
					"Options: nomandatory  ● 変更しない（新規サーバはmandatoryにできません。後で変更します）",
					"ReplicatingFrom: master  ● 一行追記する（複製元のserver ID）", "DistributedConfig:  ● 以下の行を追記する"}},
			"2-②": {fromManual: []string{"User: service", "FullName: service"},
				// The default Email names the master's host: p4-1 in the
				// example inventory, master in the manual (below).
				ours: []string{"Type: service  ● 一行追記する", "Email: service@p4-1"}},
			"2-③": {fromManual: []string{"解説", "startup.1=journalcopy -i 1：起動時にjournalcopy(マスターサーバのjournalをスタンバイに移送)を実行",
				"startup.3=pull -u -i 1：アーカイブファイルを取得する"}},
			"2-④": {fromManual: []string{"write user * * //...", "list user * * -//spec/...", "super user super * //..."},
				ours: []string{"表示例：● の一行を追加する", "super user service * //...  ●"}},
			"5-②": {fromManual: []string{"実行結果：例", "-r--------. 1 perforce perforce 53 10月 10 16:48 /standby/.p4tickets"}},
			"5-③": {fromManual: []string{"表示されるメッセージ例", "Current replica journal state is: Journal 1, Sequence 8403.",
				"The replica server time is currently: 2019/10/18 14:01:42 +0900 JST"}},
			"6-①": {fromManual: []string{"実行結果", "master '2019/10/18 14:07:44' commit-server 1/  1/8773 wadL/1 18773",
				"standby '2019/10/18 14:07:43' standby 1/  1/8575 wAdl/4 18575"}},
			"6-②": {fromManual: []string{"解説", "pull -ljコマンド：レプリカとマスターにおけるカレントジャーナルの状態を表示するコマンドです",
				"p4 servers -J：ジャーナルコピーの進行状況を確認するコマンドです。"}},
			"6-③": {fromManual: []string{"Services: standby", "ReplicatingFrom: master"}, ours: []string{"Options: mandatory  ● nomandatoryからの書き換え"}},
			"6-④": {fromManual: []string{"実行結果：※末尾に「mandatory」と表示されます",
				"standby '2019/10/18 14:10:40' standby 1/9179 1/9179 wAdl/4 1 mandatory"}},
		},
		"failover": {
			"1-①": {fromManual: []string{"表示されるメッセージ", "After addressing any reported issues that might prevent failover, use --yes or -y to execute the failover."}},
			"1-②": {fromManual: []string{"Waiting for 'journalcopy' to complete its work ...", "Perforce Server re-starting..."}},
			"2-①": {fromManual: []string{"Checking if failover might be possible ..."}},
			"2-②": {fromManual: []string{"解説", "Empty identifier not allowed.", "Moving latest journalcopy'd journal into place as the active journal ..."}},
		},
	}
	if seed != nil && !strings.Contains(string(seed), "Email: service@master") {
		t.Error("the manual's default Email is not service@master")
	}
	for rb, steps := range cases {
		out, errOut, code := run(t, "dry-run", "examples/perforce-ha/"+rb+".toml")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		texts := stepTexts(out)
		for step, w := range steps {
			lines := strings.Split(texts[step], "\n")
			for _, l := range append(append([]string{}, w.fromManual...), w.ours...) {
				// A line of the manual's form may carry tejun's ● note.
				if !slices.ContainsFunc(lines, func(x string) bool { return x == l || strings.HasPrefix(x, l+"  ● ") }) {
					t.Errorf("%s %s: the dry-run lacks the line %q; it shows:\n%s", rb, step, l, texts[step])
				}
			}
			for _, l := range w.fromManual {
				if seed != nil && !strings.Contains(string(seed), l) {
					t.Errorf("%s %s: %q is not the manual's", rb, step, l)
				}
			}
		}

		// In English the headings are English, the outputs the same.
		en, _, _ := run(t, "dry-run", "examples/perforce-ha/"+rb+".toml", "--lang", "en")
		for _, ja := range []string{"表示されるメッセージ", "実行結果", "解説", "既定値", "一行追記"} {
			if strings.Contains(en, ja) {
				t.Errorf("%s --lang en: Japanese heading or note %q", rb, ja)
			}
		}
	}
	en, _, _ := run(t, "dry-run", "examples/perforce-ha/standby.toml", "--lang", "en")
	for _, l := range []string{"   Example output\n", "   Example result\n", "   Explanation\n", "   Result\n",
		"Services: standby  ● overrides standard (the default)", "Type: service  ● one line added",
		"Current master journal state is: Journal 1, Sequence 8403.", "Options: mandatory  ● changed from nomandatory"} {
		if !strings.Contains(en, l) {
			t.Errorf("standby --lang en lacks %q", l)
		}
	}
}
