// Command tejun runs HA build procedures over SSH. All of it lives in
// runbook/app; main only connects it to the process.
package main

import (
	"context"
	"embed"
	"os"
	"os/signal"
	"syscall"

	"tejun/runbook/app"
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
	code := app.New(os.Stdin, os.Stdout, os.Stderr, app.WithBundled(bundled), app.WithSignals(sigs)).Run(context.Background(), os.Args)
	os.Exit(code)
}
