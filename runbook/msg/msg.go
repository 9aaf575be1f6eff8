// Package msg is the table of what the executor and the CLI say in their
// own words (why a step was skipped, stopped or not checked), in Japanese
// and English, so that a Japanese plan or run does not show English
// reasons, and a new message cannot exist in one language only
// (TestTable).
//
// The executor records its messages in English (En): they are what the
// JSON events, the audit record and JUnit carry, stable for a consumer
// that matches them whatever --lang a run had. What a person reads (the
// terminal, the plan, the report) goes through Translate, which finds the
// message an English text was made from and says it in the reader's
// language, its arguments translated in turn (a timeout says which
// timeout in a message of its own). A text no message made (a kind's
// reason, a host's output) is left as it is.
package msg

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// ID names a message.
type ID string

const (
	NotStartedLocked       ID = "not-started-locked"
	CleanupNotReached      ID = "cleanup-not-reached"
	Interrupted            ID = "interrupted"
	InterruptedCommand     ID = "interrupted-command"
	UpstreamFailedOn       ID = "upstream-failed-on"
	UpstreamFailed         ID = "upstream-failed"
	StoppedMaxFail         ID = "stopped-max-fail"
	StoppedFailFast        ID = "stopped-fail-fast"
	NotInLimit             ID = "not-in-limit"
	ManualAnswered         ID = "manual-answered"
	TimedOut               ID = "timed-out"
	StepTimeout            ID = "step-timeout"
	FlagTimeout            ID = "flag-timeout"
	DefaultTimeout         ID = "default-timeout"
	AssumedDone            ID = "assumed-done"
	DoneWhen               ID = "done-when"
	ResumedDone            ID = "resumed-done"
	DependsOnEarlier       ID = "depends-on-earlier"
	NotReached             ID = "not-reached"
	NotConfirmedNoTerminal ID = "not-confirmed-no-terminal"
	NotConfirmed           ID = "not-confirmed"
	CannotCheckYet         ID = "cannot-check-yet"
	WouldFail              ID = "would-fail"
	StillUndecided         ID = "still-undecided"
	Hosts                  ID = "hosts"
	OneHost                ID = "one-host"

	// The CLI's summary of skipped steps.
	SkippedLine     ID = "skipped-line"
	SkippedAfterOn  ID = "skipped-after-on"
	SkippedAfter    ID = "skipped-after"
	SkippedBecause  ID = "skipped-because"
	Steps           ID = "steps"
	OneStep         ID = "one-step"
	ReportSkipCount ID = "report-skip-count"

	// The questions before a destructive step.
	ConfirmOne   ID = "confirm-one"
	ConfirmGroup ID = "confirm-group"
)

// texts are the messages: {1}, {2}… are the arguments, in either order;
// {1#} is one that is a number. A Japanese text uses only arguments its
// English one has (Translate finds them in the English).
//
// cli marks what the CLI says itself, in the reader's language: never
// recorded, so never translated back from English.
var texts = map[ID]struct {
	ja, en string
	cli    bool
}{
	NotStartedLocked:       {"未実施: 別の実行がホストのロックを保持しています", "not started: another run holds a host's lock", false},
	CleanupNotReached:      {"後片付け: この実行は {1} に接続していません", "clean-up: the run did not reach {1}", false},
	Interrupted:            {"中断されました", "interrupted", false},
	InterruptedCommand:     {"中断されました: 実行中のコマンドに停止を指示しました", "interrupted: the running command was told to stop", false},
	UpstreamFailedOn:       {"前の手順 {1} が {2} で失敗しました", "upstream step {1} failed on {2}", false},
	UpstreamFailed:         {"前の手順 {1} が失敗しました", "upstream step {1} failed", false},
	StoppedMaxFail:         {"停止: {1}で失敗し、max_fail = {2} の許容を超えました", "stopped: {1} failed, more than max_fail = {2} allows", false},
	StoppedFailFast:        {"停止: --fail-fast の指定があり、{1} で失敗しました", "stopped: --fail-fast, and {1} failed", false},
	NotInLimit:             {"この手順のホストは --limit {1} に含まれていません", "no host of this step is in --limit {1}", false},
	ManualAnswered:         {"手作業の手順（全ホストで一つの作業）: {1} で回答済み", "manual step, one piece of work for all its hosts: answered on {1}", false},
	TimedOut:               {"{1} でタイムアウトしました（{2}）: {3}", "timed out after {1} ({2}): {3}", false},
	StepTimeout:            {"手順の timeout", "the step's timeout", false},
	FlagTimeout:            {"--step-timeout", "--step-timeout", false},
	DefaultTimeout:         {"既定の手順タイムアウト。手順の timeout か --step-timeout で変えられます", "the default step timeout; set timeout on the step, or --step-timeout", false},
	AssumedDone:            {"完了済みとして扱います（--assume-done）", "assumed done (--assume-done)", false},
	DoneWhen:               {"{1} が完了しているため作業不要（done_when）: {2}", "done when {1}: {2}", false},
	ResumedDone:            {"実行 {1} で完了済み（--resume）", "finished in run {1} (--resume)", false},
	DependsOnEarlier:       {"前の手順が作るものによります", "depends on what an earlier step will produce", false},
	NotReached:             {"到達していません: {1}", "not reached: {1}", false},
	NotConfirmedNoTerminal: {"破壊的な手順が確認されていません: 端末ではありません。無人で実行するには --yes を指定してください", "destructive step not confirmed: not on a terminal; pass --yes to run it unattended", false},
	NotConfirmed:           {"オペレーターが確認しませんでした", "not confirmed by the operator", false},
	CannotCheckYet:         {"前の手順を実行するまで確認できません: {1}", "cannot check before earlier steps run: {1}", false},
	WouldFail:              {"失敗する見込みです: {1}", "would fail: {1}", false},
	StillUndecided:         {"{1#} 回確認しても判定できません: {2}", "still undecided after {1#} checks: {2}", false},
	Hosts:                  {"{1#} 台のホスト", "{1#} hosts", false},
	OneHost:                {"{1#} 台のホスト", "{1#} host", false},

	SkippedLine:     {"skipped: {1}{2}: {3}", "skipped: {1} {2}: {3}", true}, // the status word of the lines above
	SkippedAfterOn:  {"（{1} {2} が {3} で失敗したため）", "after {1} {2} failed on {3}", true},
	SkippedAfter:    {"（{1} {2} が失敗したため）", "after {1} {2} failed", true},
	SkippedBecause:  {"（{1}）", "({1})", true},
	Steps:           {"{1#} 件", "{1#} steps", true},
	OneStep:         {"{1#} 件", "{1#} step", true},
	ReportSkipCount: {"skipped（未実施）: {1#} 件（前の手順の失敗・拒否による）", "skipped: {1#} (after a failure or a refusal)", true},

	ConfirmOne:   {"{3} の {1} {2}: {4}。実行しますか？", "{1} {2} on {3}: {4}. Run it?", true},
	ConfirmGroup: {"{1} の {2} {3}（{4}）、続いて {5}。実行しますか？", "On {1}: {2} {3} ({4}), then {5}. Run them?", true},
}

var placeholder = regexp.MustCompile(`\{(\d)(#?)\}`)

// En is the message in English, as the executor records it.
func En(id ID, args ...any) string { return In("en", id, args...) }

// In is the message in lang (ja, or en for any other).
func In(lang string, id ID, args ...any) string {
	t, ok := texts[id]
	if !ok {
		panic("msg: no message " + string(id))
	}
	s := t.en
	if lang == "ja" {
		s = t.ja
	}
	return placeholder.ReplaceAllStringFunc(s, func(p string) string {
		i := int(p[1] - '1')
		if i < len(args) {
			return fmt.Sprint(args[i])
		}
		return p
	})
}

// Count is n things as each language counts them: "2 hosts", "2 台のホスト".
func Count(lang string, n int, one, many ID) string {
	if n == 1 {
		return In(lang, one, n)
	}
	return In(lang, many, n)
}

// pattern is an English text as a regular expression: its arguments
// captured, in the order they appear.
type pattern struct {
	id    ID
	re    *regexp.Regexp
	order []int // argument number of each capture
}

var (
	patternsOnce sync.Once
	patterns     []pattern
)

func compile() {
	for id, t := range texts {
		if t.cli {
			continue
		}
		var re strings.Builder
		var order []int
		re.WriteString("^")
		last := 0
		for _, m := range placeholder.FindAllStringSubmatchIndex(t.en, -1) {
			re.WriteString(regexp.QuoteMeta(t.en[last:m[0]]))
			n, _ := strconv.Atoi(t.en[m[2]:m[3]])
			order = append(order, n)
			if m[5] > m[4] {
				re.WriteString(`(\d+)`)
			} else {
				re.WriteString(`([\s\S]+?)`)
			}
			last = m[1]
		}
		re.WriteString(regexp.QuoteMeta(t.en[last:]) + "$")
		patterns = append(patterns, pattern{id: id, re: regexp.MustCompile(re.String()), order: order})
	}
	// The longest literal text first: "interrupted: the running command
	// was told to stop" is not "interrupted" with more after it.
	literal := func(p pattern) int { return len(placeholder.ReplaceAllString(texts[p.id].en, "")) }
	sort.Slice(patterns, func(i, j int) bool {
		if li, lj := literal(patterns[i]), literal(patterns[j]); li != lj {
			return li > lj
		}
		return patterns[i].id < patterns[j].id
	})
}

// Translate says an English text made by En in lang; anything else comes
// back as it was.
func Translate(lang, text string) string {
	if lang == "en" || text == "" {
		return text
	}
	patternsOnce.Do(compile)
	for _, p := range patterns {
		m := p.re.FindStringSubmatch(text)
		if m == nil {
			continue
		}
		args := make([]any, 9)
		for i, n := range p.order {
			args[n-1] = Translate(lang, m[i+1])
		}
		return In(lang, p.id, args...)
	}
	return text
}
