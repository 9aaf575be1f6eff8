package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

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
