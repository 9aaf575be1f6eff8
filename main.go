// Command tejun runs HA build procedures over SSH. All of it lives in
// runbook/cli; main only connects it to the process.
package main

import (
	"context"
	"embed"
	"os"
	"os/signal"
	"syscall"

	"tejun/runbook/cli"
)

// The bundled runbooks make "tejun dry-run" work from the binary alone.
//
//go:embed examples
var bundled embed.FS

func main() {
	// SIGTERM is an interrupt too: a service manager or CI stopping tejun
	// gets the same bounded stop as Ctrl-C. The app decides what a first
	// and a second one do.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	// SIGPIPE is caught, not left to kill tejun mid-run: a closed
	// standard output (tejun run ... | head) stops the run cleanly. Being
	// caught, not ignored, it is still default in the commands tejun starts.
	pipes := make(chan os.Signal, 8)
	signal.Notify(pipes, syscall.SIGPIPE)
	code := cli.New(os.Stdin, os.Stdout, os.Stderr, cli.WithBundled(bundled), cli.WithSignals(sigs),
		cli.WithBrokenPipe(pipes, os.Stdout)).Run(context.Background(), os.Args)
	os.Exit(code)
}
