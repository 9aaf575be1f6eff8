package cli

import "testing"

func TestLocaleLang(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{nil, "ja"},
		{map[string]string{"LANG": "ja_JP.UTF-8"}, "ja"},
		{map[string]string{"LANG": "en_US.UTF-8"}, "en"},
		{map[string]string{"LANG": "de_DE@euro"}, "en"},
		{map[string]string{"LANG": "C.UTF-8"}, "ja"},
		{map[string]string{"LANG": "POSIX"}, "ja"},
		{map[string]string{"LANG": "ja_JP.UTF-8", "LC_MESSAGES": "en_GB.UTF-8"}, "en"},
		{map[string]string{"LANG": "en_US.UTF-8", "LC_MESSAGES": "ja_JP.eucJP", "LC_ALL": ""}, "ja"},
		{map[string]string{"LANG": "en_US.UTF-8", "LC_MESSAGES": "en_US.UTF-8", "LC_ALL": "ja_JP.UTF-8"}, "ja"},
		{map[string]string{"LANG": "ja_JP.UTF-8", "LC_ALL": "C"}, "ja"},
		{map[string]string{"LANG": "ja", "LC_ALL": "en"}, "en"},
	} {
		if got := localeLang(func(k string) string { return c.env[k] }); got != c.want {
			t.Errorf("%v: %s, want %s", c.env, got, c.want)
		}
	}
}
