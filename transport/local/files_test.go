package local_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"tejun/transport"
	"tejun/transport/internal/writepath/writepathtest"
	"tejun/transport/local"
)

func TestLocalWriteSymlinks(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("planting links owned by another user needs root")
	}
	root := t.TempDir()
	must(t, os.Chmod(root, 0o755))
	writepathtest.PlantLinks(t, root)
	var c transport.Files = local.Conn{}
	for _, tc := range writepathtest.SymlinkCases {
		_, err := c.WriteFile(context.Background(), root+tc.Dst, strings.NewReader("new\n"), transport.WriteOptions{Follow: tc.Follow})
		if tc.WantErr == "" && err != nil || tc.WantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.WantErr)) {
			t.Errorf("%s: err = %v, want %q", tc.Name, err, tc.WantErr)
		}
		writepathtest.CheckLinks(t, root, tc)
	}
	for _, mode := range []uint32{0o4755, 0o2755} {
		p := fmt.Sprintf("%s/srv/tool-%o", root, mode)
		if _, err := c.WriteFile(context.Background(), p, strings.NewReader("#!/bin/sh\n"), transport.WriteOptions{Mode: os.FileMode(mode), Owner: "nobody"}); err != nil {
			t.Fatal(err)
		}
		var st syscall.Stat_t
		must(t, syscall.Stat(p, &st))
		if st.Mode&0o7777 != mode || st.Uid == 0 {
			t.Errorf("%s: mode %o uid %d, want %o and nobody's uid", p, st.Mode&0o7777, st.Uid, mode)
		}
	}
}

// The local transport cleans up after earlier runs by the same rules.
func TestLocalWriteCleansStaleTemps(t *testing.T) {
	dir := t.TempDir()
	old := time.Now().Add(-2 * time.Hour)
	ours := filepath.Join(dir, ".tejun-0123456789ab.tmp")
	other := filepath.Join(dir, ".tejun-backup.tmp")
	for _, p := range []string{ours, other} {
		must(t, os.WriteFile(p, []byte("left"), 0o600))
		must(t, os.Chtimes(p, old, old))
	}
	if _, err := (local.Conn{}).WriteFile(context.Background(), filepath.Join(dir, "conf"), strings.NewReader("x"), transport.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(ours); err == nil {
		t.Errorf("stale %s was not removed", ours)
	}
	if _, err := os.Lstat(other); err != nil {
		t.Errorf("%s is not ours and was removed: %v", other, err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
