package cli

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"
)

// The starter files are plain TOML with comments, checked by a test
// (tejun check passes on them), so a new site starts from something that
// works and explains itself.
//
//go:embed starter/runbook.toml starter/inventory.toml
var starter embed.FS

func (a *App) initCommand() *cli.Command {
	return &cli.Command{
		Name:      "init",
		Usage:     "write a commented starter runbook.toml and inventory.toml for a new site (never overwrites a file)",
		ArgsUsage: "[DIR]  (default: the current directory)",
		Action: func(c *cli.Context) error {
			if c.NArg() > 1 {
				return invalid(fmt.Errorf("one DIR, not %d arguments", c.NArg()))
			}
			dir := c.Args().First()
			if dir == "" {
				dir = "."
			}
			names := []string{"runbook.toml", "inventory.toml"}
			// Both are checked before either is written: a half-made
			// site would be worse than none.
			for _, n := range names {
				p := filepath.Join(dir, n)
				if _, err := os.Lstat(p); err == nil {
					return invalid(fmt.Errorf("%s already exists: tejun init never overwrites a file (move it away, or init another DIR)", p))
				} else if !errors.Is(err, fs.ErrNotExist) {
					return invalid(fmt.Errorf("%s: %v", p, err))
				}
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return invalid(err)
			}
			for _, n := range names {
				src, _ := starter.ReadFile("starter/" + n)
				p := filepath.Join(dir, n)
				// O_EXCL: a file that appeared since the check is not
				// overwritten either.
				f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
				if err != nil {
					return invalid(fmt.Errorf("%s: %v", p, err))
				}
				_, err = f.Write(src)
				if cerr := f.Close(); err == nil {
					err = cerr
				}
				if err != nil {
					return fmt.Errorf("%s: %w", p, err)
				}
				fmt.Fprintf(a.stdout, "wrote %s\n", p)
			}
			rb := filepath.Join(dir, "runbook.toml")
			fmt.Fprintf(a.stdout, "\nNext: put your hosts in %s, then\n  tejun check %s\n  tejun dry-run %s\n  tejun hosts -i %s\n",
				filepath.Join(dir, "inventory.toml"), rb, rb, filepath.Join(dir, "inventory.toml"))
			return nil
		},
	}
}
