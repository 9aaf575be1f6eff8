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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := app.New(os.Stdin, os.Stdout, os.Stderr, app.WithBundled(bundled)).Run(ctx, os.Args)
	stop()
	os.Exit(code)
}
