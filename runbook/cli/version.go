package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/urfave/cli/v2"
)

// Version says which tejun this is: the module version and, when the
// binary was built from a checkout, the commit it was built from. A CI job
// pins it in its log and an audit record carries it, so that a run can be
// traced back to the code that ran it; it comes from the build itself
// (debug.ReadBuildInfo), so no release step can forget to set it.
func Version() string { return versionOf(debug.ReadBuildInfo()) }

func versionOf(bi *debug.BuildInfo, ok bool) string {
	if !ok || bi == nil {
		return "(unknown)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, at string
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev == "" {
		// go build -buildvcs=false, or built outside a checkout: say so
		// rather than print an empty commit.
		return v + " (commit unknown)"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	detail := "commit " + rev
	if at != "" {
		detail += ", " + at
	}
	if modified {
		detail += ", with uncommitted changes"
	}
	return v + " (" + detail + ")"
}

// fullVersion is what tejun version and tejun --version print after
// "tejun version ": the Go release too, since a bug report needs it.
func fullVersion() string {
	return fmt.Sprintf("%s %s %s/%s", Version(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

func (a *App) versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print tejun's version, the commit it was built from, and the Go release",
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return invalid(fmt.Errorf("version takes no arguments"))
			}
			fmt.Fprintf(a.stdout, "tejun version %s\n", fullVersion())
			return nil
		},
	}
}
