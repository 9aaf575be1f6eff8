package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"

	"tejun/inventory"
	"tejun/runbook"
	"tejun/runbook/report"
)

func (a *App) reportCommand() *cli.Command {
	return &cli.Command{
		Name:  "report",
		Usage: "print a past run as the manual filled in: each step's status, the commands run and their output (secrets masked)",
		ArgsUsage: "[RUN]  (a run id or an audit record's path; default: the last run, from " +
			"$XDG_STATE_HOME/tejun/runs)",
		Flags: []cli.Flag{
			langFlag("language of the report"),
			&cli.StringFlag{Name: "format", Value: "text", Usage: "text, markdown (GFM) or html (one self-contained page)"},
			&cli.StringFlag{Name: "runbook", Usage: "read the runbook from this `FILE` instead of the path the record names (it must be the same file: SHA-256 checked)"},
			&cli.StringFlag{Name: "inventory", Aliases: []string{"i"}, Usage: "read the inventory from this `FILE` instead of the path the record names (SHA-256 checked)"},
		},
		Action: a.report,
	}
}

func (a *App) report(c *cli.Context) error {
	lang, err := a.lang(c)
	if err != nil {
		return err
	}
	if err := oneOf("format", c.String("format"), "text", "markdown", "html"); err != nil {
		return err
	}
	if c.NArg() > 1 {
		return invalid(fmt.Errorf("one RUN, not %d arguments", c.NArg()))
	}
	path, err := a.findRecord(c.Args().First())
	if err != nil {
		return invalid(err)
	}
	f, err := os.Open(path)
	if err != nil {
		return invalid(fmt.Errorf("audit record: %v", err))
	}
	defer f.Close()
	if err := trustedRecord(f, path); err != nil {
		return invalid(err)
	}
	rec, err := report.Read(f)
	if err != nil {
		return invalid(fmt.Errorf("%s: %v", path, err))
	}
	rec.Running = !rec.Ended && recordInUse(f)
	b, err := a.loadRecorded(c, rec)
	if err != nil {
		return err
	}
	return report.Write(a.stdout, rec, b, report.Options{
		Lang: lang, Format: c.String("format"), RecordPath: path,
		Color: c.String("format") == "text" && a.colorFor(a.stdout),
	})
}

// findRecord resolves RUN: a path to a record, a run id (or the start of
// one) in the runs directory, or, when empty, the newest record there.
func (a *App) findRecord(run string) (string, error) {
	if run != "" && (strings.ContainsRune(run, os.PathSeparator) || strings.HasSuffix(run, ".jsonl")) {
		return run, nil
	}
	dir, err := auditDir(a.getenv)
	if err != nil {
		return "", err
	}
	all, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	sort.Strings(all) // names start with the run's UTC start time
	if run == "" {
		if len(all) == 0 {
			return "", fmt.Errorf("no runs recorded in %s yet; pass RUN as a record's path", dir)
		}
		return all[len(all)-1], nil
	}
	var match []string
	for _, m := range all {
		if strings.HasPrefix(filepath.Base(m), run) {
			match = append(match, m)
		}
	}
	switch len(match) {
	case 0:
		if _, err := os.Stat(run); err == nil {
			return run, nil
		}
		return "", fmt.Errorf("no run %q in %s", run, dir)
	case 1:
		return match[0], nil
	}
	return "", fmt.Errorf("run %q names %d records in %s; give more of the id", run, len(match), dir)
}

// loadRecorded binds the runbook and inventory the run used. Their SHA-256
// must be the record's: a report of the run laid over a changed procedure
// would show the reviewer steps and commands that were never run.
func (a *App) loadRecorded(c *cli.Context, rec *report.Record) (*runbook.Binding, error) {
	rbPath, invPath := rec.Runbook, rec.Inventory
	if p := c.String("runbook"); p != "" {
		rbPath = p
	}
	if p := c.String("inventory"); p != "" {
		invPath = p
	}
	if rbPath == "" || invPath == "" {
		return nil, invalid(errors.New("the record names no runbook or inventory (its run_start is incomplete)"))
	}
	rbSrc, err := a.readFile(c.Context, rbPath, false)
	if err != nil {
		return nil, invalid(fmt.Errorf("the run's runbook: %w", err))
	}
	invSrc, err := a.readFile(c.Context, invPath, false)
	if err != nil {
		return nil, invalid(fmt.Errorf("the run's inventory: %w", err))
	}
	for _, f := range []struct{ what, path, want, flag string }{
		{"runbook", rbPath, rec.RunbookSHA256, "--runbook"},
		{"inventory", invPath, rec.InvSHA256, "-i"},
	} {
		src := rbSrc
		if f.what == "inventory" {
			src = invSrc
		}
		if got := fileSHA256(f.path, src); got != f.want {
			return nil, invalid(fmt.Errorf("the %s %s changed since run %s (SHA-256 %s, recorded %s): the report would show another procedure; pass %s with the file as it was",
				f.what, f.path, rec.RunID, short(got), short(f.want), f.flag))
		}
	}
	rb, err := runbook.Parse(rbPath, rbSrc, registry())
	if err != nil {
		return nil, invalid(err)
	}
	inv, err := inventory.Parse(invPath, invSrc)
	if err != nil {
		return nil, invalid(err)
	}
	// The roles the way round the run had them (--swap-roles): the
	// procedure's "on master" is the host the run called master.
	if sw := rec.SwappedRoles; sw != "" {
		a, b, _ := strings.Cut(sw, ",")
		if err := inv.SwapRoles(strings.TrimSpace(a), strings.TrimSpace(b)); err != nil {
			return nil, invalid(fmt.Errorf("the run's --swap-roles %s: %v", sw, err))
		}
	}
	b, err := runbook.Bind(rb, inv)
	if err != nil {
		return nil, invalid(err)
	}
	return b, nil
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12] + "…"
	}
	if sha == "" {
		return "(none)"
	}
	return sha
}

// trustedRecord refuses a record another user could have written (it, or
// the directory it is in, writable by others): the report would show a
// reviewer whatever they wrote. Another owner is fine: a reviewer reads
// the operator's record. The open file is checked, so what is read is
// what was checked, symlink or not.
func trustedRecord(f *os.File, path string) error {
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("audit record: %v", err)
	}
	if !fi.Mode().IsRegular() {
		return nil // a pipe (tejun report <(ssh jump cat …)): no file to change
	}
	if othersCanWrite(fi) {
		return fmt.Errorf("bad permissions on %s: writable by others (mode %04o): anyone could have changed what this report would show; chmod go-w %s", path, fi.Mode().Perm(), path)
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return fmt.Errorf("audit record: %v", err)
	}
	return privatePath(filepath.Dir(real), true, false)
}
