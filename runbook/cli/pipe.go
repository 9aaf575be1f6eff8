package cli

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// WithBrokenPipe makes the app notice that its standard output has no
// reader any more ("tejun run ... | head"). Go would otherwise kill the
// process at the first write to it, with the hosts still locked and the
// audit record unfinished. sigpipe carries the process's SIGPIPEs (a
// broken network connection raises them too, so each is checked against
// out); the first one that finds out broken stops the command as a first
// interrupt does: no new steps, running commands told to stop, locks
// released, the record closed. Later ones are ignored, since every further
// line written raises another.
func WithBrokenPipe(sigpipe <-chan os.Signal, out *os.File) Option {
	return func(a *App) { a.sigpipe, a.pipeOut = sigpipe, out }
}

// watchPipe forwards one interrupt to interrupts when out is found broken.
func (a *App) watchPipe(interrupts chan<- os.Signal, stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		case sig := <-a.sigpipe:
			if !writeEndBroken(a.pipeOut) {
				continue
			}
			fmt.Fprintln(a.stderr, "tejun: standard output was closed (its reader exited): stopping as on an interrupt")
			select {
			case interrupts <- sig:
			default:
			}
			for {
				select {
				case <-a.sigpipe:
				case <-stop:
					return
				}
			}
		}
	}
}

// writeEndBroken says whether f is the write end of a pipe or socket
// whose reader is gone: poll reports POLLERR (POLLHUP for a socket) on it.
func writeEndBroken(f *os.File) bool {
	if f == nil {
		return false
	}
	fds := []unix.PollFd{{Fd: int32(f.Fd())}}
	n, err := unix.Poll(fds, 0)
	return err == nil && n > 0 && fds[0].Revents&(unix.POLLERR|unix.POLLHUP) != 0
}
