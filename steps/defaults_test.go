package steps

import (
	"reflect"
	"testing"
	"time"
)

// TestDefaultTags: the default a field's tag states (tejun kinds shows
// it) is the one the kind really uses when the field is empty.
func TestDefaultTags(t *testing.T) {
	tag := func(v any, field string) string {
		f, _ := reflect.TypeOf(v).Elem().FieldByName(field)
		return f.Tag.Get("default")
	}
	if got, want := (&LogMatch{}).file(), tag(&LogMatch{}, "Path"); got != want {
		t.Errorf("log_match path: uses %q, tag says %q", got, want)
	}
	if got, want := (&Mount{}).fstab(), tag(&Mount{}, "Fstab"); got != want {
		t.Errorf("mount fstab: uses %q, tag says %q", got, want)
	}
	if got, want := (&SecretEnvFile{}).mode(), tag(&SecretEnvFile{}, "Mode"); got != want {
		t.Errorf("secret_env_file mode: uses %q, tag says %q", got, want)
	}
	if d, _ := time.ParseDuration(tag(&Reboot{}, "Wait")); (&Reboot{}).wait() != d {
		t.Errorf("reboot wait: uses %s, tag says %q", (&Reboot{}).wait(), tag(&Reboot{}, "Wait"))
	}
}
