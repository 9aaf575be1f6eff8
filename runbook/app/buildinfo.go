package app

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"time"
)

// tejunVersion is the module version and commit this binary was built
// from, as Go stamped them: a report or a dry-run pasted into a ticket
// says which tejun produced it. "(devel)" when Go recorded neither.
var tejunVersion = sync.OnceValue(func() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(devel)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		v += " (commit " + rev
		if modified == "true" {
			v += ", modified"
		}
		v += ")"
	}
	return v
})

// WithClock dates what tejun prints for a person (the dry-run's header)
// by now instead of the system clock, so golden files stay fixed.
func WithClock(now func() time.Time) Option { return func(a *App) { a.now = now } }

// sourceSHA256 is the digest of a runbook or inventory as load read it:
// from disk, else (the bundled examples) from the binary. "" when neither
// can be read again.
func (a *App) sourceSHA256(path string) string {
	src, err := os.ReadFile(path)
	if err != nil && a.bundled != nil {
		src, err = fs.ReadFile(a.bundled, filepath.ToSlash(path))
	}
	if err != nil {
		return ""
	}
	h := sha256.Sum256(src)
	return hex.EncodeToString(h[:])
}
