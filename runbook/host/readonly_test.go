package host

import (
	"context"
	"errors"
	"testing"

	"tejun/inventory"
	"tejun/runbook/mask"
	"tejun/steps"
	"tejun/transport"
	"tejun/transport/ssh"
	"tejun/transport/transporttest"
)

// chooser plans one check whose checkpoint number the host picks (declared)
// and one that shows the same placeholder without declaring it.
type chooser struct{}

func (chooser) Describe(string) steps.Description { return steps.Description{} }
func (chooser) Plan() steps.Plan {
	ckp := steps.Chosen{Word: "ckp.N", Pattern: `ckp\.[0-9]+`}
	return steps.Plan{
		Check: []steps.Op{
			{Cmd: transport.Cmd{Argv: []string{"test", "-f", "/p4/seed.ckp.N"}}, Chosen: []steps.Chosen{ckp}},
			{Cmd: transport.Cmd{Argv: []string{"ls", "/other/seed.ckp.N"}}},
		},
		Apply: []steps.Op{{Cmd: transport.Cmd{Argv: []string{"rm", "/p4/seed.ckp.N"}}, Chosen: []steps.Chosen{ckp}}},
	}
}

type quiet struct{}

func (quiet) Log(string, string, string)            {}
func (quiet) Progress(string, string, int64, int64) {}

// The plan gate admits a declared placeholder's pattern in the op that
// declares it and nowhere else: not in another check showing the same
// word, not in the apply commands, not a near miss of the pattern.
func TestGateAdmitsDeclaredPlaceholderOnly(t *testing.T) {
	inv, err := inventory.Parse("inv.toml", []byte("[hosts.h1]\n"))
	if err != nil {
		t.Fatal(err)
	}
	fake := transporttest.New().On(`.`, transporttest.Reply{})
	hs := &Hosts{Inventory: inv, Mask: mask.New(), Sink: quiet{},
		Pool: NewPool(PoolOptions{Inventory: inv, Dial: func(context.Context, ssh.Config) (transport.Conn, error) { return fake, nil }})}
	env := hs.CheckEnv("s", inv.Host("h1"), chooser{})
	for _, c := range []struct {
		argv []string
		ok   bool
	}{
		{[]string{"test", "-f", "/p4/seed.ckp.12"}, true},
		{[]string{"test", "-f", "/p4/seed.ckp.N"}, false}, // the placeholder is not a number the server picks
		{[]string{"test", "-f", "/p4/seed.ckp.12x"}, false},
		{[]string{"test", "-f", "/p4/seed.ckp.12", "/etc/shadow"}, false},
		{[]string{"ls", "/other/seed.ckp.N"}, true}, // shown as it is, sent as it is
		{[]string{"ls", "/other/seed.ckp.12"}, false},
		{[]string{"rm", "/p4/seed.ckp.12"}, false}, // an apply command, whatever it declares
	} {
		_, err := env.Run(context.Background(), transport.Cmd{Argv: c.argv}, nil)
		var refused *ErrNotACheck
		if c.ok && err != nil {
			t.Errorf("%q refused: %v", c.argv, err)
		}
		if !c.ok && !errors.As(err, &refused) {
			t.Errorf("%q: %v, want the gate's refusal", c.argv, err)
		}
	}
	fake.AssertNotReceived(t, `^rm `)
	fake.AssertNotReceived(t, `^ls /other/seed\.ckp\.12$`)
}
