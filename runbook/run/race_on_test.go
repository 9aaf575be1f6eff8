//go:build race

package run

// raceEnabled: the race detector's instrumented build copies where a
// normal build does not, so allocation counts mean nothing under it.
const raceEnabled = true
