package ssh_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"tejun/transport"
	"tejun/transport/ssh"
	"tejun/transport/testbed"
)

// jaSudo stands in for sudo on a host whose locale is Japanese: its own
// messages come translated as sudo's ja.po has them ("a password is
// required" is "パスワードが必要です"), unless the C locale is asked for.
// gettext picks the language from LC_ALL, then LC_MESSAGES, then LANG.
const jaSudo = `#!/bin/bash
case "${LC_ALL:-${LC_MESSAGES:-$LANG}}" in
""|C|C.*|POSIX) exec /usr/bin/sudo "$@" ;;
esac
exec /usr/bin/sudo "$@" 2> >(sed -u -e 's/a password is required/パスワードが必要です/' -e 's/is not in the sudoers file/は sudoers ファイル内にありません/' >&2)
`

// greet prints Japanese unless its locale is C: a program whose output a
// parser written for English would misread on such a host.
const greet = `#!/bin/sh
case "${LC_ALL:-${LC_MESSAGES:-$LANG}}" in
""|C|C.*|POSIX) echo "hello LC_ALL=${LC_ALL-unset}" ;;
*) echo "こんにちは LC_ALL=${LC_ALL-unset} LANG=${LANG-unset}" ;;
esac
`

// TestJapaneseLocaleHost runs commands on a host whose sessions get
// LANG=ja_JP.UTF-8 (as from /etc/locale.conf): commands whose output
// tejun reads answer in the C locale, through sudo too; sudo's refusal is
// recognised although that host's sudo speaks Japanese; and a command
// whose output tejun does not read keeps the host's locale.
func TestJapaneseLocaleHost(t *testing.T) {
	b := testbed.StartHosts(t, testbed.HostSpec{Name: "ja", SSHD: "SetEnv LANG=ja_JP.UTF-8\n"})
	h := b.Hosts[0]
	for name, text := range map[string]string{"sudo": jaSudo, "greet": greet} {
		if err := os.WriteFile(h.Path("/usr/local/bin/"+name), []byte(text), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	root, ops := dial(t, b, h, "root"), dial(t, b, h, "ops")

	// The stand-ins are what the host runs, and they do speak Japanese.
	if out, err := transport.Output(ctx, root, transport.Cmd{Argv: []string{"greet"}}, nil); err != nil || !strings.HasPrefix(out, "こんにちは") {
		t.Fatalf("the host does not answer in Japanese: %q %v", out, err)
	}
	for _, c := range []struct {
		conn  *ssh.Conn
		login string
		user  string
	}{{root, "root", ""}, {root, "root", "perforce"}, {ops, "ops", "perforce"}} {
		out, err := transport.Output(ctx, c.conn, transport.Cmd{Argv: []string{"greet"}, User: c.user, CLocale: true}, nil)
		if err != nil || strings.TrimSpace(out) != "hello LC_ALL=C" {
			t.Errorf("%s as %q, CLocale: %q %v; want hello LC_ALL=C", c.login, c.user, out, err)
		}
	}
	// Not asked for: sudo's own C locale does not reach the command.
	out, err := transport.Output(ctx, ops, transport.Cmd{Argv: []string{"greet"}, User: "perforce"}, nil)
	if err != nil || strings.TrimSpace(out) != "こんにちは LC_ALL=unset LANG=ja_JP.UTF-8" {
		t.Errorf("ops as perforce without CLocale: %q %v; want the host's locale untouched", out, err)
	}

	nosudo := dial(t, b, h, "nosudo")
	_, err = transport.Output(ctx, nosudo, transport.Cmd{Argv: []string{"id"}, User: "perforce"}, nil)
	var se *transport.SudoError
	if !errors.As(err, &se) || se.User != "perforce" {
		t.Fatalf("a Japanese sudo's refusal was not recognised: %v", err)
	}
	if strings.Contains(se.Error(), "パスワード") {
		t.Errorf("sudo spoke Japanese after all: %v", se)
	}
}
