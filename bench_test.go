package main

// Benchmarks against the peers, side by side in one run on the sshd
// test-bed, so the machine's noise hits both. Run (as root):
//
//	go test -run XXX -bench . -benchtime 3x .
//
// Results and ratios are in README.md. Comparisons whose peer is missing
// (ssh, scp, ansible-playbook) are skipped.

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"tejun/runbook/runbooktest"
	"tejun/transport"
	"tejun/transport/ssh"
	"tejun/transport/testbed"
)

func sshArgs(b *testbed.Bed, h *testbed.Host, extra ...string) []string {
	return append([]string{"-i", b.KeyFile, "-o", "UserKnownHostsFile=" + b.KnownHosts, "-o", "StrictHostKeyChecking=yes",
		"-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-p", fmt.Sprint(h.Port)}, extra...)
}

func mustRun(b *testing.B, name string, args ...string) {
	b.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		b.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

func needBin(b *testing.B, names ...string) {
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			b.Skipf("%s not installed", n)
		}
	}
}

// tejunRun runs the CLI and fails the benchmark on a non-zero exit.
func tejunRun(b *testing.B, args ...string) {
	b.Helper()
	out, errOut, code := runIn(context.Background(), b.TempDir(), args...)
	if code != 0 {
		b.Fatalf("tejun %v: exit %d\n%s%s", args, code, out, errOut)
	}
}

func benchInventory(b *testing.B, bed *testbed.Bed) string {
	var s strings.Builder
	fmt.Fprintf(&s, "[defaults]\nuser = \"root\"\nidentity_file = %q\nknown_hosts = %q\n", bed.KeyFile, bed.KnownHosts)
	for _, h := range bed.Hosts {
		fmt.Fprintf(&s, "[hosts.%s]\naddress = %q\nport = %d\nroles = [\"nodes\"]\n", h.Name, h.Address, h.Port)
	}
	p := runbooktest.Write(b, "", "inventory.toml", s.String())
	return p
}

// stepsRunbook is a runbook of n steps of one kind on role nodes.
func stepsRunbook(b *testing.B, n int, step func(i int) string) string {
	var s strings.Builder
	s.WriteString("[runbook]\nname = \"bench\"\n[[section]]\nid = \"s\"\non = \"nodes\"\ntitle.en = \"s\"\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&s, "[[section.step]]\nid = \"s%d\"\ntitle.en = \"s%d\"\n%s\n", i, i, step(i))
	}
	p := runbooktest.Write(b, "", "runbook.toml", s.String())
	return p
}

// BenchmarkCommand: every variant runs /bin/true, a real program (the
// shell's builtin true would spare the raw session an exec).
func BenchmarkCommand(b *testing.B) {
	bed := testbed.Start(b, "n1")
	h := bed.Hosts[0]
	ctx := context.Background()
	// Every variant logs in as root, as the step benchmark's inventory does.
	conn, err := ssh.Dial(ctx, ssh.Config{Name: "n1", Address: h.Address, Port: h.Port, User: "root",
		IdentityFiles: []string{bed.KeyFile}, KnownHosts: []string{bed.KnownHosts}, AgentSocket: "/nonexistent"})
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	key, _ := os.ReadFile(bed.KeyFile)
	signer, _ := gossh.ParsePrivateKey(key)
	raw, err := gossh.Dial("tcp", h.Addr(), &gossh.ClientConfig{User: "root", Auth: []gossh.AuthMethod{gossh.PublicKeys(signer)},
		HostKeyCallback: gossh.FixedHostKey(h.HostKey)})
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()

	b.Run("xcrypto-session", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			s, err := raw.NewSession()
			if err != nil {
				b.Fatal(err)
			}
			if err := s.Run("/bin/true"); err != nil {
				b.Fatal(err)
			}
			s.Close()
		}
	})
	b.Run("tejun-conn", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if err := conn.Run(ctx, transport.Cmd{Argv: []string{"/bin/true"}}, transport.Stdio{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	// A step's marginal cost: a 101-step run minus a 1-step run, so the
	// run's fixed cost (loading, dialing) is not spread over the steps.
	b.Run("tejun-command-step", func(b *testing.B) {
		inv := benchInventory(b, bed)
		step := func(int) string { return "kind = \"command\"\nargv = [\"/bin/true\"]" }
		one, many := stepsRunbook(b, 1, step), stepsRunbook(b, 101, step)
		var marginal time.Duration
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			t0 := time.Now()
			tejunRun(b, "run", one, "-i", inv)
			t1 := time.Now()
			tejunRun(b, "run", many, "-i", inv)
			marginal += time.Since(t1) - t1.Sub(t0)
		}
		b.ReportMetric(float64(marginal.Nanoseconds())/float64(b.N)/100, "ns/step")
	})
	b.Run("openssh-controlmaster", func(b *testing.B) {
		needBin(b, "ssh")
		cp := filepath.Join("/tmp", fmt.Sprintf("tj-cm-%d", os.Getpid()))
		args := sshArgs(bed, h, "-o", "ControlMaster=auto", "-o", "ControlPath="+cp, "-o", "ControlPersist=60", "root@"+h.Address, "/bin/true")
		mustRun(b, "ssh", args...) // the master
		defer exec.Command("ssh", append(sshArgs(bed, h, "-o", "ControlPath="+cp, "-O", "exit"), "root@"+h.Address)...).Run()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			mustRun(b, "ssh", args...)
		}
	})
}

// ansibleSetup writes an inventory, config and playbook for the same hosts.
func ansibleSetup(b *testing.B, bed *testbed.Bed, tasks string) (env []string, playbook string) {
	dir := b.TempDir()
	var inv strings.Builder
	inv.WriteString("[nodes]\n")
	for _, h := range bed.Hosts {
		fmt.Fprintf(&inv, "%s ansible_host=%s ansible_port=%d ansible_user=root ansible_ssh_private_key_file=%s\n", h.Name, h.Address, h.Port, bed.KeyFile)
	}
	os.WriteFile(filepath.Join(dir, "hosts"), []byte(inv.String()), 0o644)
	cfg := fmt.Sprintf(`[defaults]
inventory = %s/hosts
host_key_checking = True
interpreter_python = /usr/bin/python3
forks = 10
[ssh_connection]
pipelining = True
control_path_dir = /tmp/tj-ans-%d
ssh_args = -o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=%s -o IdentitiesOnly=yes
`, dir, os.Getpid(), bed.KnownHosts)
	os.WriteFile(filepath.Join(dir, "ansible.cfg"), []byte(cfg), 0o644)
	playbook = filepath.Join(dir, "play.yml")
	os.WriteFile(playbook, []byte("- hosts: nodes\n  gather_facts: false\n  tasks:\n"+tasks), 0o644)
	return append(os.Environ(), "ANSIBLE_CONFIG="+filepath.Join(dir, "ansible.cfg"), "ANSIBLE_NOCOLOR=1"), playbook
}

func ansible(b *testing.B, env []string, playbook string) {
	b.Helper()
	cmd := exec.Command("ansible-playbook", playbook)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("ansible-playbook: %v\n%s", err, out)
	}
}

func BenchmarkRunbook50x2(b *testing.B) {
	bed := testbed.Start(b, "n1", "n2")
	inv := benchInventory(b, bed)
	commands := stepsRunbook(b, 50, func(int) string { return "kind = \"command\"\nargv = [\"true\"]" })
	dirs := stepsRunbook(b, 50, func(i int) string {
		return fmt.Sprintf("kind = \"directory\"\npath = \"/srv/d%d\"\nmode = \"0755\"", i)
	})
	var cmdTasks, dirTasks strings.Builder
	for i := 0; i < 50; i++ {
		cmdTasks.WriteString("    - command: \"true\"\n")
		fmt.Fprintf(&dirTasks, "    - file: {path: /srv/a%d, state: directory, mode: \"0755\"}\n", i)
	}
	tejunRun(b, "run", dirs, "-i", inv) // so later runs find every directory in place

	b.Run("tejun-commands", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			tejunRun(b, "run", commands, "-i", inv)
		}
	})
	b.Run("tejun-already-done", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			tejunRun(b, "run", dirs, "-i", inv)
		}
	})
	b.Run("ansible-commands", func(b *testing.B) {
		needBin(b, "ansible-playbook")
		env, pb := ansibleSetup(b, bed, cmdTasks.String())
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			ansible(b, env, pb)
		}
	})
	b.Run("ansible-already-done", func(b *testing.B) {
		needBin(b, "ansible-playbook")
		env, pb := ansibleSetup(b, bed, dirTasks.String())
		ansible(b, env, pb)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			ansible(b, env, pb)
		}
	})
}

func bigFile(b *testing.B, size int64) string {
	p := filepath.Join(os.TempDir(), fmt.Sprintf("tejun-bench-%d.bin", size))
	if fi, err := os.Stat(p); err == nil && fi.Size() == size {
		return p
	}
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if _, err := io.CopyN(f, rand.Reader, size); err != nil {
		b.Fatal(err)
	}
	return p
}

const gib = 1 << 30

func BenchmarkUpload1GiB(b *testing.B) {
	bed := testbed.Start(b, "n1")
	h := bed.Hosts[0]
	src := bigFile(b, gib)
	ctx := context.Background()
	b.Run("tejun-sftp", func(b *testing.B) {
		b.SetBytes(gib)
		conn, err := ssh.Dial(ctx, ssh.Config{Name: "n1", Address: h.Address, Port: h.Port, User: "root",
			IdentityFiles: []string{bed.KeyFile}, KnownHosts: []string{bed.KnownHosts}, AgentSocket: "/nonexistent"})
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close()
		for i := 0; i < b.N; i++ {
			f, _ := os.Open(src)
			if _, err := conn.WriteFile(ctx, "/tmp/big", f, transport.WriteOptions{Mode: 0o644}); err != nil {
				b.Fatal(err)
			}
			f.Close()
		}
	})
	b.Run("scp-aes128-gcm", func(b *testing.B) {
		needBin(b, "scp")
		b.SetBytes(gib)
		for i := 0; i < b.N; i++ {
			mustRun(b, "scp", scpArgs(bed, h, src, "root@"+h.Address+":/tmp/big-scp")...)
			mustRun(b, "ssh", append(sshArgs(bed, h), "root@"+h.Address, "sha256sum", "/tmp/big-scp")...)
		}
	})
}

// scpArgs: scp spells the port -P, not -p.
func scpArgs(bed *testbed.Bed, h *testbed.Host, from, to string, extra ...string) []string {
	a := sshArgs(bed, h)
	for i := range a {
		if a[i] == "-p" {
			a[i] = "-P"
		}
	}
	return append(append(append(a, "-c", "aes128-gcm@openssh.com"), extra...), from, to)
}

func BenchmarkTransfer1GiB(b *testing.B) {
	bed := testbed.Start(b, "n1", "n2")
	n1, n2 := bed.Host("n1"), bed.Host("n2")
	src := bigFile(b, gib)
	in, _ := os.Open(src)
	outf, _ := os.Create(n1.Path("/tmp/big"))
	io.Copy(outf, in)
	in.Close()
	outf.Close()
	inv := benchInventory(b, bed)
	rb := runbooktest.Write(b, "", "runbook.toml", `
[runbook]
name = "t"
[[section]]
id = "s"
on = "n1"
title.en = "s"
[[section.step]]
id = "send"
kind = "transfer"
title.en = "send"
src = "/tmp/big"
to = "n2"
dst = "/tmp/big"
`)
	b.Run("tejun-transfer", func(b *testing.B) {
		b.SetBytes(gib)
		for i := 0; i < b.N; i++ {
			os.Remove(n2.Path("/tmp/big"))
			tejunRun(b, "run", rb, "-i", inv)
		}
	})
	b.Run("scp-3", func(b *testing.B) {
		needBin(b, "scp")
		b.SetBytes(gib)
		// scp -3 takes one set of options for both ends; the hosts differ
		// only in port, so give each its own Host entry.
		cfg := filepath.Join(b.TempDir(), "ssh_config")
		os.WriteFile(cfg, []byte(fmt.Sprintf("Host n1\n HostName %s\n Port %d\nHost n2\n HostName %s\n Port %d\nHost *\n User root\n IdentityFile %s\n IdentitiesOnly yes\n UserKnownHostsFile %s\n StrictHostKeyChecking yes\n BatchMode yes\n",
			n1.Address, n1.Port, n2.Address, n2.Port, bed.KeyFile, bed.KnownHosts)), 0o644)
		for i := 0; i < b.N; i++ {
			os.Remove(n2.Path("/tmp/big"))
			mustRun(b, "scp", "-F", cfg, "-3", "-c", "aes128-gcm@openssh.com", "n1:/tmp/big", "n2:/tmp/big")
			mustRun(b, "ssh", "-F", cfg, "n1", "sha256sum", "/tmp/big")
			mustRun(b, "ssh", "-F", cfg, "n2", "sha256sum", "/tmp/big")
		}
	})
}

func BenchmarkFanout(b *testing.B) {
	names := make([]string, 50)
	for i := range names {
		names[i] = fmt.Sprintf("h%02d", i+1)
	}
	bed := testbed.Start(b, names...)
	inv := benchInventory(b, bed)
	one := runbooktest.Write(b, "", "runbook.toml", "[runbook]\nname = \"f\"\n[[section]]\nid = \"s\"\non = \"h01\"\ntitle.en = \"s\"\n[[section.step]]\nid = \"c\"\nkind = \"command\"\ntitle.en = \"c\"\nargv = [\"true\"]\n")
	all := strings.Replace(string(mustRead(b, one)), `on = "h01"`, `on = "nodes"`, 1)
	allPath := runbooktest.Write(b, "", "runbook.toml", all)
	// tejun's own CPU per run: on this one machine the 50 sshd hosts share
	// tejun's two cores, so wall time also measures their handshakes.
	cpu := func() time.Duration {
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	b.Run("1-host", func(b *testing.B) {
		c0 := cpu()
		for i := 0; i < b.N; i++ {
			tejunRun(b, "run", one, "-i", inv)
		}
		b.ReportMetric(float64((cpu()-c0).Milliseconds())/float64(b.N), "tejun-cpu-ms/op")
	})
	b.Run("50-hosts-forks-50", func(b *testing.B) {
		c0 := cpu()
		for i := 0; i < b.N; i++ {
			tejunRun(b, "run", allPath, "-i", inv, "--forks", "50")
		}
		b.ReportMetric(float64((cpu()-c0).Milliseconds())/float64(b.N), "tejun-cpu-ms/op")
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		b.ReportMetric(float64(ru.Maxrss)/1024, "peak-MiB")
	})
}

func mustRead(b *testing.B, p string) []byte {
	d, err := os.ReadFile(p)
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// BenchmarkDial is the connect path: TCP, handshake, host-key check and
// public-key login, then close.
func BenchmarkDial(b *testing.B) {
	bed := testbed.Start(b, "n1")
	h := bed.Hosts[0]
	cfg := ssh.Config{Name: "n1", Address: h.Address, Port: h.Port, User: "root",
		IdentityFiles: []string{bed.KeyFile}, KnownHosts: []string{bed.KnownHosts}, AgentSocket: "/nonexistent"}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		conn, err := ssh.Dial(context.Background(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		conn.Close()
	}
}
