package steps

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"tejun/transport"
)

// LogMatch waits until a log file (by default /var/log/messages, where the
// build guides tell the reader to look with vi) matches a pattern; (?s) lets
// it span lines. With since_start it reads only what was written after the step
// first looked, so an old line from an earlier test cannot satisfy it. It
// changes nothing.
type LogMatch struct {
	RunAs
	Path    string `toml:"path" default:"/var/log/messages" doc:"The log file on the host to read."`
	Pattern string `toml:"pattern" doc:"The regular expression the log must match; (?s) lets it span lines."`
	// SinceStart limits the search to lines written after the step began.
	SinceStart bool `toml:"since_start" doc:"Reads only what was written after the step first looked, so an old line cannot satisfy it."`

	offset int64 // the log's size when the step began
	began  bool
}

func (l *LogMatch) file() string {
	if l.Path == "" {
		return "/var/log/messages"
	}
	return l.Path
}

func (l *LogMatch) Validate() []Problem {
	var ps []Problem
	if l.Pattern == "" {
		ps = append(ps, Problem{"pattern", "log_match needs a pattern"})
	} else if _, err := regexp.Compile(l.Pattern); err != nil {
		ps = append(ps, Problem{"pattern", "pattern: " + err.Error()})
	}
	if l.Path != "" && !strings.HasPrefix(l.Path, "/") {
		ps = append(ps, Problem{"path", "path must be absolute"})
	}
	return ps
}

func (l *LogMatch) Waits() {}

func (l *LogMatch) size() transport.Cmd {
	return l.As(Parsed(transport.Cmd{Argv: []string{"stat", "-L", "-c", "%s", "--", l.file()}}))[0]
}

// read is the whole log: the same command every time, so plan mode's gate
// (a step may run only its planned checks) admits it; since_start cuts it
// here.
func (l *LogMatch) read() transport.Cmd {
	return l.As(Parsed(transport.Cmd{Argv: []string{"cat", "--", l.file()}}))[0]
}

func (l *LogMatch) Describe(lang string) Description {
	d := Description{Blocks: []Block{
		CommandBlock(lang, transport.Cmd{Argv: []string{"vi", l.file()}}),
		{Heading: T(lang, "確認する内容", "Expected"), Lines: ExpectedLines(lang, "ログ", l.Pattern)},
	}}
	if l.SinceStart {
		d.Notes = append(d.Notes, T(lang, "このステップの開始後に出力された行だけを見ます", "Only lines written after this step began count"))
	}
	return d
}

func (l *LogMatch) Plan() Plan {
	if l.SinceStart {
		return Plan{Check: Ops(l.size(), l.read())}
	}
	return Plan{Check: Ops(l.read())}
}

// Check fails closed: a log it cannot read is an error, not "no line".
func (l *LogMatch) Check(ctx context.Context, env Env) (Status, error) {
	from := int64(0)
	if l.SinceStart {
		out, err := env.Run(ctx, l.size(), nil)
		if err != nil {
			return Status{}, err
		}
		n, err := strconv.ParseInt(strings.TrimSpace(out), 10, 64)
		if err != nil {
			return Status{}, fmt.Errorf("size of %s: %q", l.file(), out)
		}
		if !l.began {
			l.offset, l.began = n, true
		}
		if n < l.offset {
			l.offset = 0 // rotated since: the new file is all after the start
		}
		from = l.offset
	}
	out, err := env.Run(ctx, l.read(), nil)
	if err != nil {
		return Status{}, err
	}
	if from > int64(len(out)) {
		from = 0 // rotated between the two reads
	}
	out = out[from:]
	// The whole text, so that one pattern can span the lines of one event
	// (Down, RETRY_OVER:EXIT, FATAL).
	if m := regexp.MustCompile(l.Pattern).FindString(out); m != "" {
		first, _, _ := strings.Cut(m, "\n")
		return Done("%s: %s", l.file(), strings.TrimSpace(first)), nil
	}
	return NotDone("no line of %s matches %s yet", l.file(), l.Pattern), nil
}

// Apply has nothing to change: the executor only waits on Check.
func (l *LogMatch) Apply(ctx context.Context, env Env) error { return nil }
