package steps

import "testing"

func TestOwnerModeNote(t *testing.T) {
	for _, c := range []struct{ lang, owner, group, mode, want string }{
		{"en", "", "", "0644 (rw-r--r--)", "Mode 0644 (rw-r--r--)"},
		{"en", "root", "wheel", "0600", "Owner root:wheel, mode 0600"},
		{"en", "root", "", "", "Owner root"},
		{"ja", "", "", "0644", "パーミッション 0644"},
		{"ja", "root", "", "0644", "所有者 root、パーミッション 0644"},
	} {
		if got := ownerModeNote(c.lang, c.owner, c.group, c.mode); got != c.want {
			t.Errorf("ownerModeNote(%q, %q, %q, %q) = %q, want %q", c.lang, c.owner, c.group, c.mode, got, c.want)
		}
	}
}
