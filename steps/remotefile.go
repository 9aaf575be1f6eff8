package steps

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"tejun/transport"
)

// MaxRead is the largest file a file or line step reads to compare. The
// whole file is held in memory (and diffed), so a value in an inventory
// that names /dev/zero or a 400 MB log must fail with a clear message, not
// take the machine running tejun down with it.
const MaxRead = 64 << 20

// readScript looks at the file first and reads it only when it is a
// regular file no larger than MaxRead ($2): cat on a FIFO waits forever,
// and on /dev/zero never ends. It prints one header line, then the content:
//
//	missing                    nothing at the path
//	symlink                    a symbolic link, and follow ($1) is off
//	other RAWMODE              not a regular file (stat %f, hex)
//	file SIZE USER GROUP MODE  then at most MaxRead+1 bytes of it
//
// With follow the path is first resolved with readlink -f, so the check
// reads the object a follow write writes. The path is $3, never part of
// the script. Outputs are numbers and names, not %F's words, which are
// translated.
const readScript = `LC_ALL=C; export LC_ALL; p=$3
if [ "$1" = 1 ]; then p=$(readlink -f -- "$p" && echo x) || exit 3; p=${p%?x}; fi
if [ -L "$p" ]; then echo symlink
elif [ ! -e "$p" ]; then echo missing
elif [ ! -f "$p" ]; then echo "other $(stat -c %f -- "$p")"
else s=$(stat -c "%s %U %G %a" -- "$p") || exit 4; echo "file $s"; [ "${s%% *}" -gt "$2" ] || exec head -c "$(($2 + 1))" -- "$p"; fi`

// followNote tells the reader of the procedure that a symlink's target is
// what changes.
func followNote(lang string) string {
	return T(lang, "シンボリックリンクの場合はリンク先のファイルを編集します", "If the path is a symlink, the file it points to is edited")
}

// remoteFile is what readScript found.
type remoteFile struct {
	Exists             bool
	Size               int64
	Owner, Group, Mode string
	Content            string
}

// readCmd is the one command a file or line check runs: a fixed script,
// the path as its own argument.
func readCmd(p string, follow bool, as string) transport.Cmd {
	return readScriptCmd(p, follow, as, MaxRead)
}

// lookCmd is readCmd that reads no content (the limit is -1): what a
// write runs first, so it refuses what the check refuses.
func lookCmd(p string, follow bool, as string) transport.Cmd {
	return readScriptCmd(p, follow, as, -1)
}

func readScriptCmd(p string, follow bool, as string, limit int) transport.Cmd {
	f := "0"
	if follow {
		f = "1"
	}
	return transport.Cmd{Argv: []string{"sh", "-c", readScript, "tejun-read", f, strconv.Itoa(limit), p}, User: as}
}

// readRemote runs readCmd and refuses anything but a missing or regular
// file within MaxRead.
func readRemote(ctx context.Context, env Env, p string, follow bool, as string) (remoteFile, error) {
	return inspect(ctx, env, readCmd(p, follow, as), p, true)
}

// lookRemote is readRemote without the content.
func lookRemote(ctx context.Context, env Env, p string, follow bool, as string) (remoteFile, error) {
	return inspect(ctx, env, lookCmd(p, follow, as), p, false)
}

func inspect(ctx context.Context, env Env, cmd transport.Cmd, p string, content bool) (remoteFile, error) {
	out, err := env.Run(ctx, cmd, nil)
	if err != nil {
		return remoteFile{}, fmt.Errorf("reading %s: %w", p, err)
	}
	head, body, _ := strings.Cut(out, "\n")
	f := strings.Fields(head)
	switch {
	case head == "missing":
		return remoteFile{}, nil
	case head == "symlink":
		return remoteFile{}, fmt.Errorf("%s is a symlink; set follow = true to edit its target", p)
	case len(f) == 2 && f[0] == "other":
		return remoteFile{}, fmt.Errorf("%s is %s, not a regular file: refusing to read or replace it", p, fileType(f[1]))
	case len(f) != 5 || f[0] != "file":
		return remoteFile{}, fmt.Errorf("reading %s: unexpected answer %q", p, head)
	}
	size, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return remoteFile{}, fmt.Errorf("reading %s: size %q", p, f[1])
	}
	if !content {
		return remoteFile{Exists: true, Size: size, Owner: f[2], Group: f[3], Mode: f[4]}, nil
	}
	if size > MaxRead || len(body) > MaxRead {
		return remoteFile{}, fmt.Errorf("%s is %d bytes, more than the %d MiB a file or line step reads", p, max(size, int64(len(body))), MaxRead>>20)
	}
	if int64(len(body)) != size {
		return remoteFile{}, fmt.Errorf("%s changed while it was read (%d bytes, then %d)", p, size, len(body))
	}
	return remoteFile{Exists: true, Size: size, Owner: f[2], Group: f[3], Mode: f[4], Content: body}, nil
}

// fileType names the type in stat's raw %f mode.
func fileType(rawHex string) string {
	m, err := strconv.ParseUint(rawHex, 16, 32)
	if err != nil {
		return "of an unknown type"
	}
	switch m & sIFMT {
	case sIFDIR:
		return "a directory"
	case 0o010000:
		return "a FIFO"
	case 0o020000, 0o060000:
		return "a device"
	case 0o140000:
		return "a socket"
	}
	return "of an unknown type"
}
