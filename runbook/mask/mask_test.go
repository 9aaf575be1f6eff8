package mask

import (
	"strings"
	"testing"
)

func TestMultiLineSecretEchoedLineByLine(t *testing.T) {
	secret := "line-one-of-it\nabcd\nzz\nlast line here"
	m := New(secret)
	// A host that prefixes each line, and an error message that joins
	// lines with " / ", both break the secret apart.
	for _, out := range []string{
		"remote: line-one-of-it\nremote: abcd\nremote: last line here\n",
		"exit status 1: line-one-of-it / abcd / zz / last line here",
		"prefix" + secret + "suffix",
	} {
		got := m.Replace(out)
		for _, piece := range []string{"line-one", "abcd", "last line", "of-it"} {
			if strings.Contains(got, piece) {
				t.Errorf("%q: %q survives in %q", out, piece, got)
			}
		}
	}
	if got := m.Replace("prefix" + secret + "suffix"); got != "prefix"+Hidden+"suffix" {
		t.Errorf("whole secret: %q", got)
	}
}

func TestCutSecret(t *testing.T) {
	secret := strings.Repeat("0123456789abcdef", 100<<10/16) // 100 KB
	m := New(secret)
	// The 64 KiB stderr tail keeps the secret's end only, starting mid-way.
	tail := secret[len(secret)-(64<<10)+5:] + "\nerror: done"
	if got := m.Replace(tail); got != Hidden+"\nerror: done" {
		t.Errorf("cut tail: %.80q", got)
	}
	// A head cut short, and a fragment of 8 bytes on its own.
	if got := m.Replace("start " + secret[:37]); got != "start "+Hidden {
		t.Errorf("cut head: %q", got)
	}
	if got := m.Replace("x 9abcdef0 y"); got != "x "+Hidden+" y" {
		t.Errorf("8-byte fragment: %q", got)
	}
	// Seven bytes is not a fragment: too common to hide.
	if got := m.Replace("x 9abcdef y"); got != "x 9abcdef y" {
		t.Errorf("7 bytes hidden: %q", got)
	}
}

func TestShortSecretAndAdd(t *testing.T) {
	m := New("pw1")
	if got := m.Replace("login pw1 ok"); got != "login "+Hidden+" ok" {
		t.Errorf("short secret: %q", got)
	}
	m.Add("TICKET0123456789ABCDEF")
	if got := m.Replace("ticket TICKET0123456789ABCDEF"); got != "ticket "+Hidden {
		t.Errorf("added secret: %q", got)
	}
	var none *Masker
	if none.Replace("a") != "a" || New().Replace("abc") != "abc" {
		t.Error("an empty masker changed text")
	}
}

// FuzzNoWindowSurvives: whatever the secret and wherever it sits in the
// output (whole, cut at either end, lines rejoined), no Window bytes of it
// survive masking. Secrets holding '*' are left out: Hidden itself would
// then be a piece of the secret.
func FuzzNoWindowSurvives(f *testing.F) {
	f.Add("correct horse battery staple", "before ", " after", uint16(3), uint16(5))
	f.Add("a\nbbbbbbbbbbbb\nc", "", "x", uint16(0), uint16(0))
	f.Add("short", "x", "y", uint16(1), uint16(0))
	f.Add("aaaaaaaaaaaaaaaaaaaaaaaaaa", "aaaa", "aaa", uint16(9), uint16(2))
	f.Fuzz(func(t *testing.T, secret, before, after string, cutHead, cutTail uint16) {
		if secret == "" || strings.Contains(secret, "*") {
			return
		}
		m := New(secret)
		shown := secret
		if h := int(cutHead); h < len(shown) {
			shown = shown[h:]
		}
		if c := int(cutTail); c < len(shown) {
			shown = shown[:len(shown)-c]
		}
		for _, out := range []string{
			before + shown + after,
			before + strings.ReplaceAll(shown, "\n", " / ") + after,
		} {
			got := m.Replace(out)
			// Every piece of the output left unmasked is free of secret
			// windows, even those that came from before or after.
			for _, kept := range strings.Split(got, Hidden) {
				for i := 0; i+Window <= len(secret); i++ {
					w := secret[i : i+Window]
					if strings.Contains(kept, w) {
						t.Fatalf("secret %q, output %q: %q survives in %q", secret, out, w, got)
					}
				}
			}
			if len(secret) < Window && strings.Contains(out, secret) && strings.Contains(got, secret) {
				t.Fatalf("short secret %q survives in %q", secret, got)
			}
		}
	})
}

func TestVisible(t *testing.T) {
	for in, want := range map[string]string{
		"plain\ttext\n":                      "plain\ttext\n",
		"\x1b[2Jcleared":                     "^[[2Jcleared",
		"\x1b]52;c;ZXZpbA==\x07":             "^[]52;c;ZXZpbA==^G",
		"ok\rFAILED":                         "ok^MFAILED",
		"crlf\r\nline":                       "crlf\nline",
		"c1 \u009b31m":                       `c1 \u009b31m`,
		"raw \x9b31m":                        `raw \x9b31m`,
		"bidi \u202eevil":                    `bidi \u202eevil`,
		"alm \u061cmark":                     `alm \u061cmark`,
		"one\u2028line\u2029para":            `one\u2028line\u2029para`,
		"日本語 fine":                           "日本語 fine",
		"del\x7f":                            "del^?",
		"\x00nul":                            "^@nul",
		"keep \u00e9 and \ufffd as they are": "keep \u00e9 and \ufffd as they are",
	} {
		if got := Visible(in); got != want {
			t.Errorf("Visible(%q) = %q, want %q", in, got, want)
		}
	}
}
