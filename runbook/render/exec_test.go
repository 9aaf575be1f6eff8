package render

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"

	"tejun/runbook/host"
	"tejun/runbook/mask"
	"tejun/runbook/runbooktest"
	"tejun/steps"
	"tejun/transport"
	"tejun/transport/ssh"
	"tejun/transport/transporttest"
)

// logged keeps the executor's -v lines ("$ " and the command as sent).
type logged struct {
	mu    sync.Mutex
	lines []string
}

func (l *logged) Log(_, _, line string) {
	l.mu.Lock()
	l.lines = append(l.lines, line)
	l.mu.Unlock()
}
func (l *logged) Progress(string, string, int64, int64) {}

// --show-exec lists what the executor sends, worked out by the same code
// (transport.Cmd.Sent): for every command of every step of the flagship
// runbooks, on a site whose hosts default to root and on one with no
// default, the line --show-exec prints is the one the executor's Env
// logs at -v, and, less the note of what it reads on stdin, the line the
// host received. A step on another host (op.Host) is sent through On, as
// its kind sends it.
func TestShowExecIsWhatTheExecutorSends(t *testing.T) {
	read := func(p string) string {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	checked, underRoot := 0, 0
	for _, rb := range []string{"standby", "failover"} {
		for _, inv := range []string{"../../testdata/other-inventory.toml", "../../examples/perforce-ha/inventory.toml"} {
			b := runbooktest.Bind(t, read("../../examples/perforce-ha/"+rb+".toml"), read(inv), runbooktest.Kinds()...)
			for id, ins := range b.Instances {
				for _, in := range ins {
					ep := execFor("en", b.Inventory, in)
					plan := in.Impl.Plan()
					for i, op := range append(append([]steps.Op{}, plan.Check...), plan.Apply...) {
						if op.Action != "" {
							continue
						}
						shown := ep.lines[i][1]
						if op.Host != "" {
							shown = strings.TrimPrefix(shown, "["+op.Host+"] ")
						}
						fake := transporttest.New().On(`.`, transporttest.Reply{})
						sink := &logged{}
						hs := &host.Hosts{Inventory: b.Inventory, Mask: mask.New(), Sink: sink,
							Pool: host.NewPool(host.PoolOptions{Inventory: b.Inventory, Dial: func(context.Context, ssh.Config) (transport.Conn, error) { return fake, nil }})}
						env := hs.Env(id, in.Host, in.Impl)
						if op.Host != "" {
							var err error
							if env, err = env.On(op.Host); err != nil {
								t.Fatalf("%s on %s: %s: %v", id, in.Host.Name, op.Host, err)
							}
						}
						if _, err := env.Run(context.Background(), op.Cmd, strings.NewReader("")); err != nil {
							t.Fatalf("%s on %s: %v", id, in.Host.Name, err)
						}
						got := fake.Received()
						want := shown
						if op.Cmd.Stdin != "" {
							want = strings.TrimSuffix(shown, "  < "+op.Cmd.Stdin)
						}
						if len(got) != 1 || got[0] != want {
							t.Errorf("%s on %s (%s): --show-exec shows\n  %s\nthe host received\n  %q", id, in.Host.Name, inv, shown, got)
						}
						if len(sink.lines) == 0 || sink.lines[0] != "$ "+shown {
							t.Errorf("%s on %s (%s): --show-exec shows\n  %s\n-v logs\n  %q", id, in.Host.Name, inv, shown, sink.lines)
						}
						checked++
						if strings.HasPrefix(want, "sudo -n -u root -- ") {
							underRoot++
						}
					}
				}
			}
		}
	}
	// The comparison means something only if it met both sides of Sent.
	t.Logf("%d commands, %d under the root default", checked, underRoot)
	if checked < 100 || underRoot == 0 || underRoot == checked {
		t.Errorf("compared %d commands, %d under the root default: the samples no longer cover both", checked, underRoot)
	}
}
