package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"tejun/inventory"
	"tejun/inventory/tomlsrc"
	"tejun/runbook"
	"tejun/steps"
	"tejun/steps/p4"
)

// DefaultRunbook is what dry-run shows with no argument: the bundled
// flagship, so a fresh install can show what tejun does without servers.
const DefaultRunbook = "examples/perforce-ha/standby.toml"

func registry() *steps.Registry {
	return steps.NewRegistry(append(steps.Generic(), p4.Kinds()...)...)
}

// loaded is a runbook bound to its inventory, with the paths as given.
type loaded struct {
	binding       *runbook.Binding
	runbookPath   string
	inventoryPath string
	// The digests of the bytes parsed: what the run's record vouches
	// for, and --resume compares, is what was loaded, not the files as
	// they are later (edited during a secret's prompt).
	runbookSHA256, inventorySHA256 string
}

var inventoryFlag = &cli.StringFlag{
	Name: "inventory", Aliases: []string{"i"},
	Usage: "inventory `FILE` (default: the runbook's runbook.inventory)",
}

// swapRolesFlag rebuilds an HA pair the other way round with the same
// inventory (failback): the two roles' hosts are exchanged for this
// command.
var swapRolesFlag = &cli.StringFlag{
	Name:  "swap-roles",
	Usage: "`ROLE,ROLE`: exchange the hosts of two roles for this command (failback: --swap-roles master,standby)",
}

// readFile reads a path from disk, or from the bundled runbooks when the
// default runbook is used and no such file is on disk. What it returns has
// passed the size and nesting pre-scan, so decoding it is cheap; ctx is
// honoured so that an interrupt while loading is not ignored.
func (a *App) readFile(ctx context.Context, path string, bundled bool) ([]byte, error) {
	var src []byte
	var err error
	if bundled && a.bundled != nil {
		src, err = fs.ReadFile(a.bundled, filepath.ToSlash(path))
		if err != nil {
			return nil, tomlsrc.Problems{{File: path, Msg: readError(err)}}
		}
	} else if src, err = tomlsrc.ReadFile(ctx, path); err != nil {
		return nil, err
	}
	if err := tomlsrc.Prescan(ctx, path, src); err != nil {
		return nil, err
	}
	return src, nil
}

// interrupted is the error for a load stopped by a signal.
func interrupted() error {
	return &exitError{ExitInterrupted, errors.New("interrupted while loading; nothing was run")}
}

// runbookArg returns the runbook path and whether it comes from the binary.
func (a *App) runbookArg(c *cli.Context) (string, bool, error) {
	switch c.NArg() {
	case 0:
		// The bundled runbooks carry the manual's example addresses:
		// fine to print, never to contact. Only a command that contacts
		// no host falls back on them.
		if c.Command.Name == "plan" || c.Command.Name == "run" && !c.Bool("dry-run") {
			return "", false, invalid(fmt.Errorf("missing RUNBOOK: %s needs a runbook file (the bundled examples serve tejun dry-run only, which contacts no host)", c.Command.Name))
		}
		if a.bundled == nil {
			return "", false, invalid(errors.New("missing RUNBOOK argument"))
		}
		if _, err := os.Stat(DefaultRunbook); err == nil {
			return DefaultRunbook, false, nil
		}
		return DefaultRunbook, true, nil
	case 1:
		return c.Args().First(), false, nil
	}
	return "", false, invalid(fmt.Errorf("one RUNBOOK, not %d arguments", c.NArg()))
}

// loadRunbook reads and checks the runbook alone.
func (a *App) loadRunbook(c *cli.Context) (*runbook.Runbook, string, bool, error) {
	rb, path, bundled, _, err := a.loadRunbookSource(c)
	return rb, path, bundled, err
}

// loadRunbookSource is loadRunbook, with the bytes parsed.
func (a *App) loadRunbookSource(c *cli.Context) (*runbook.Runbook, string, bool, []byte, error) {
	path, bundled, err := a.runbookArg(c)
	if err != nil {
		return nil, "", false, nil, err
	}
	src, err := a.readFile(c.Context, path, bundled)
	if err != nil {
		if c.Context.Err() != nil {
			return nil, path, bundled, nil, interrupted()
		}
		return nil, path, bundled, nil, invalid(err)
	}
	rb, err := runbook.Parse(path, src, registry())
	if err != nil {
		return rb, path, bundled, src, invalid(err)
	}
	return rb, path, bundled, src, nil
}

// load reads the runbook and its inventory and binds them, reporting the
// problems of both files and of binding together.
func (a *App) load(c *cli.Context) (*loaded, error) {
	rb, path, bundled, rbSrc, err := a.loadRunbookSource(c)
	var ps tomlsrc.Problems
	if err != nil && !errors.As(err, &ps) {
		return nil, err
	}
	if c.Context.Err() != nil {
		return nil, interrupted()
	}
	invPath := c.String("inventory")
	invBundled := bundled && invPath == ""
	if invPath == "" && rb != nil {
		invPath = rb.Inventory
	}
	if invPath == "" {
		if rb != nil {
			ps = append(ps, tomlsrc.Problem{File: path, Msg: "no inventory: pass -i FILE or set runbook.inventory"})
		}
		return nil, invalid(ps.Err())
	}
	var inv *inventory.Inventory
	src, err := a.readFile(c.Context, invPath, invBundled)
	if c.Context.Err() != nil {
		return nil, interrupted()
	}
	if err != nil {
		if err := collect(&ps, err); err != nil {
			return nil, err
		}
	} else {
		inv, err = inventory.Parse(invPath, src)
		if err := collect(&ps, err); err != nil {
			return nil, err
		}
		if sw := c.String("swap-roles"); sw != "" && inv != nil && err == nil {
			a, b, _ := strings.Cut(sw, ",")
			if err := inv.SwapRoles(strings.TrimSpace(a), strings.TrimSpace(b)); err != nil {
				return nil, invalid(err)
			}
		}
	}
	if rb == nil || inv == nil {
		return nil, invalid(ps.Err())
	}
	if c.Context.Err() != nil {
		return nil, interrupted()
	}
	b, err := runbook.Bind(rb, inv)
	if err := collect(&ps, err); err != nil {
		return nil, err
	}
	if len(ps) > 0 {
		return nil, invalid(ps.Err())
	}
	return &loaded{binding: b, runbookPath: path, inventoryPath: invPath,
		runbookSHA256: sha256Hex(rbSrc), inventorySHA256: sha256Hex(src)}, nil
}

// collect adds err's problems to ps; any other error is returned.
func collect(ps *tomlsrc.Problems, err error) error {
	if err == nil {
		return nil
	}
	var more tomlsrc.Problems
	if !errors.As(err, &more) {
		return invalid(err)
	}
	*ps = append(*ps, more...)
	return nil
}

func readError(err error) string {
	if errors.Is(err, fs.ErrNotExist) {
		return "no such file"
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
