package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"tejun/inventory"
	"tejun/runbook/host"
	"tejun/runbook/mask"
	"tejun/transport"
	"tejun/transport/ssh"
)

func (a *App) hostsCommand() *cli.Command {
	return &cli.Command{
		Name:  "hosts",
		Usage: "check that every host of an inventory answers over SSH and can sudo, in parallel",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "inventory", Aliases: []string{"i"}, Usage: "inventory `FILE` (required)"},
			&cli.BoolFlag{Name: "show-config", Usage: "connect to nothing: print how each host would be reached (user, address, port, jump, identity...), as ssh -G does"},
		},
		Action: func(c *cli.Context) error {
			path := c.String("inventory")
			if path == "" {
				// A usage error like any other (exit 2), not urfave's
				// required-flag error, which would exit 1 as a failure.
				return invalid(errors.New("missing -i FILE: hosts needs the inventory whose hosts it checks; see tejun hosts --help"))
			}
			if c.Args().Present() {
				return invalid(fmt.Errorf("hosts takes no arguments, got %q; the inventory is -i FILE", c.Args().First()))
			}
			src, err := a.readFile(c.Context, path, false)
			if err != nil {
				return invalid(err)
			}
			inv, err := inventory.Parse(path, src)
			if err != nil {
				return invalid(err)
			}
			userCfg := a.userConfig(c)
			if c.Bool("show-config") {
				return a.showConfig(inv, userCfg)
			}
			rows := make([][]string, len(inv.Hosts))
			var wg sync.WaitGroup
			for i, h := range inv.Hosts {
				wg.Add(1)
				go func(i int, h *inventory.Host) {
					defer wg.Done()
					rows[i] = probe(c.Context, inv, h, userCfg)
				}(i, h)
			}
			wg.Wait()
			for _, r := range rows {
				for j := range r {
					r[j] = mask.Visible(r[j]) // inventory values and what hosts answered
				}
			}
			width := []int{4, 7, 3, 4}
			for _, r := range rows {
				for j := range width {
					width[j] = max(width[j], len(r[j]))
				}
			}
			fmt.Fprintf(a.stdout, "%-*s  %-*s  %-*s  %-*s  %s\n", width[0], "HOST", width[1], "ADDRESS", width[2], "SSH", width[3], "SUDO", "TIME")
			down := 0
			for _, r := range rows {
				fmt.Fprintf(a.stdout, "%-*s  %-*s  %-*s  %-*s  %s\n", width[0], r[0], width[1], r[1], width[2], r[2], width[3], r[3], r[4])
				if r[2] != "ok" {
					down++
				}
			}
			if down > 0 {
				return &exitError{ExitUnreachable, fmt.Errorf("%s of %d did not answer", count(down, "host"), len(rows))}
			}
			return nil
		},
	}
}

// showConfig prints each host's resolved settings, one "key value" line
// each as ssh -G does, under a "host NAME" line. A host that cannot be
// resolved is reported and makes the exit code invalid.
func (a *App) showConfig(inv *inventory.Inventory, userCfg *ssh.UserConfig) error {
	bad := 0
	for i, h := range inv.Hosts {
		if i > 0 {
			fmt.Fprintln(a.stdout)
		}
		fmt.Fprintf(a.stdout, "host %s\n", h.Name)
		if h.SSH.Connection == "local" {
			fmt.Fprintln(a.stdout, "connection local")
			continue
		}
		cfg, err := host.Resolve(inv, h, userCfg)
		if err != nil {
			fmt.Fprintf(a.stdout, "error %s\n", firstLine(err.Error()))
			bad++
			continue
		}
		for _, l := range cfg.Describe() {
			fmt.Fprintln(a.stdout, l)
		}
	}
	if bad > 0 {
		return invalid(fmt.Errorf("%s of %d could not be resolved", count(bad, "host"), len(inv.Hosts)))
	}
	return nil
}

// probe connects to one host and asks whether sudo -n works for the user
// the host's commands run as (root, when none is set).
func probe(ctx context.Context, inv *inventory.Inventory, h *inventory.Host, userCfg *ssh.UserConfig) []string {
	row := []string{h.Name, fmt.Sprintf("%s:%d", h.Address, h.SSH.Port), "", "", ""}
	start := time.Now()
	var conn transport.Conn
	var err error
	if h.SSH.Connection == "local" {
		conn, err = host.Dial(ctx, inv, h, userCfg)
	} else {
		// The address shown is the one ssh_config resolves to.
		var cfg ssh.Config
		if cfg, err = host.Resolve(inv, h, userCfg); err == nil {
			row[1] = net.JoinHostPort(cfg.Address, strconv.Itoa(cfg.Port))
			conn, err = ssh.Dial(ctx, cfg)
		}
	}
	if err != nil {
		row[2] = "failed: " + firstLine(err.Error())
		return row
	}
	defer conn.Close()
	who, err := transport.Output(ctx, conn, transport.Cmd{Argv: []string{"id", "-un"}, CLocale: true}, nil)
	if err != nil {
		row[2] = "failed: " + firstLine(err.Error())
		return row
	}
	row[2] = "ok"
	become := h.SSH.Become
	if become == "" {
		become = "root"
	}
	switch {
	case strings.TrimSpace(who) == become:
		row[3] = "not needed (" + become + ")"
	default:
		err := conn.Run(ctx, transport.Cmd{Argv: []string{"true"}, User: become}, transport.Stdio{})
		var se *transport.SudoError
		switch {
		case err == nil:
			row[3] = "ok (" + become + ")"
		case errors.As(err, &se):
			row[3] = "no: needs a password"
		default:
			row[3] = "no: " + firstLine(err.Error())
		}
	}
	row[4] = time.Since(start).Round(time.Millisecond).String()
	return row
}

func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}
