package cli

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// langFlag has no default value so that an unset --lang can follow the
// locale; lang decides.
func langFlag(what string) *cli.StringFlag {
	return &cli.StringFlag{Name: "lang", Usage: what + ": ja or en (default: from LC_ALL, LC_MESSAGES or LANG; ja when they name no language)"}
}

// lang is the language to write in: --lang when given, else the locale of
// messages as POSIX resolves it (LC_ALL, then LC_MESSAGES, then LANG; the
// first that is set wins). ja_JP.UTF-8 is Japanese and en_US.UTF-8 (or
// any other language) English. An unset, C or POSIX locale names no
// language — it is what cron, CI containers and ssh sessions without
// AcceptEnv have — so it keeps tejun's default, Japanese: the manuals
// tejun reproduces are Japanese, and a script that never set --lang
// keeps printing what it printed before.
func (a *App) lang(c *cli.Context) (string, error) {
	if c.IsSet("lang") {
		l := c.String("lang")
		return l, oneOf("lang", l, "ja", "en")
	}
	return localeLang(a.getenv), nil
}

func localeLang(getenv func(string) string) string {
	for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		v := getenv(k)
		if v == "" {
			continue
		}
		name, _, _ := strings.Cut(v, ".") // ja_JP.UTF-8, C.UTF-8
		name, _, _ = strings.Cut(name, "@")
		switch {
		case name == "C" || name == "POSIX":
			return "ja"
		case name == "ja" || strings.HasPrefix(name, "ja_"):
			return "ja"
		}
		return "en"
	}
	return "ja"
}
