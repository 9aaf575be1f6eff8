// Command p4sim stands in for Perforce's p4, p4d and p4dctl on test hosts
// (installed under all three names; it acts by the name it is run as). It
// implements what the HA manual uses, with the documented output formats,
// keeps its state under P4ROOT, runs a real daemon per server on its
// address and port, replicates with lag, and refuses what real Perforce
// refuses. It stands in for proprietary binaries only: the tests around it
// use real sshd, users, files and sudo.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	var code int
	switch filepath.Base(os.Args[0]) {
	case "p4d":
		code = p4d(os.Args[1:])
	case "p4dctl":
		code = p4dctl(os.Args[1:])
	default:
		code = p4(os.Args[1:])
	}
	os.Exit(code)
}

func die(format string, args ...any) int {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	return 1
}

// ---- p4 ----

func p4(args []string) int {
	req := &Request{User: os.Getenv("P4USER"), Port: os.Getenv("P4PORT")}
	if req.User == "" {
		if u, err := user.Current(); err == nil {
			req.User = u.Username
		}
	}
	if req.Port == "" {
		req.Port = "perforce:1666"
	}
	tickets, trust := os.Getenv("P4TICKETS"), os.Getenv("P4TRUST")
	req.Charset = os.Getenv("P4CHARSET")
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		opt := args[0]
		args = args[1:]
		val := func() string {
			if len(args) == 0 {
				return ""
			}
			v := args[0]
			args = args[1:]
			return v
		}
		switch opt {
		case "-u":
			req.User = val()
		case "-p":
			req.Port = val()
		case "-E":
			k, v, _ := strings.Cut(val(), "=")
			switch k {
			case "P4TICKETS":
				tickets = v
			case "P4TRUST":
				trust = v
			}
		case "-C":
			req.Charset = val()
		case "-ztag":
			req.Tag = true
		case "-z":
			req.Tag = val() == "tag"
		case "-s", "-q":
		default:
			return die("Invalid option: %s.", opt)
		}
	}
	if len(args) == 0 {
		return die("Usage: p4 [options] command [arg ...]")
	}
	req.Cmd, req.Args = args[0], args[1:]
	if req.Cmd == "trust" {
		// A client command: it works on the trust file (trust.go).
		return trustCmd(req.Port, trust, req.Args)
	}
	if _, ssl := sslPort(req.Port); ssl {
		refusal, err := checkTrust(req.Port, trust)
		if err != nil {
			return connectFailed(req.Port)
		}
		if refusal != "" {
			return die("%s", refusal)
		}
	}
	if t, err := readTicket(tickets, req.Port, req.User); err == nil {
		req.Ticket = t
	}
	if needsStdin(req) {
		in, _ := readAll(bufio.NewReader(os.Stdin))
		req.Stdin = in
	}
	resp, err := call(req.Port, req)
	if err != nil {
		return die("Perforce client error:\n\tConnect to server failed; check $P4PORT.\n\tTCP connect to %s failed.\n\tconnect: %s: Connection refused", req.Port, req.Port)
	}
	fmt.Print(resp.Out)
	if resp.Code == 0 && req.Cmd == "logout" {
		// The client forgets the ticket it held for this server and user.
		removeTicket(tickets, req.Port, req.User)
	}
	if t, ok := strings.CutPrefix(resp.Err, "TICKET "); ok && resp.Code == 0 {
		if err := writeTicket(tickets, req.Port, req.User, t); err != nil {
			return die("Unable to write ticket file: %v", err)
		}
		resp.Err = ""
	}
	if resp.Err != "" {
		fmt.Fprintln(os.Stderr, resp.Err)
	}
	return resp.Code
}

func needsStdin(r *Request) bool {
	switch r.Cmd {
	case "passwd":
		return true
	case "login":
		return len(r.Args) == 0 || r.Args[0] == "-p" || r.Args[0] == "-a"
	case "server", "user", "group", "protect":
		return len(r.Args) > 0 && r.Args[0] == "-i"
	}
	return false
}

func readAll(r *bufio.Reader) (string, error) {
	b, err := io.ReadAll(r)
	return string(b), err
}

// writeTicket stores a ticket as the p4 client does: one line per server
// and user, in a file only its owner may read.
func writeTicket(path, port, user, ticket string) error {
	if path == "" {
		home, _ := os.UserHomeDir()
		path = filepath.Join(home, ".p4tickets")
	}
	var keep []string
	if data, err := os.ReadFile(path); err == nil {
		for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			if l != "" && !strings.HasPrefix(l, port+"="+user+":") {
				keep = append(keep, l)
			}
		}
	}
	keep = append(keep, port+"="+user+":"+ticket)
	return os.WriteFile(path, []byte(strings.Join(keep, "\n")+"\n"), 0o600)
}

func removeTicket(path, port, user string) {
	if path == "" {
		home, _ := os.UserHomeDir()
		path = filepath.Join(home, ".p4tickets")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return
	}
	var keep []string
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if l != "" && !strings.HasPrefix(l, port+"="+user+":") {
			keep = append(keep, l)
		}
	}
	out := ""
	if len(keep) > 0 {
		out = strings.Join(keep, "\n") + "\n"
	}
	os.WriteFile(path, []byte(out), 0o600)
}

// ---- p4d ----

func p4d(args []string) int {
	root, port, xd, jr := os.Getenv("P4ROOT"), os.Getenv("P4PORT"), "", ""
	showID, xi := false, false
	// -c is p4d's "command" option: "-cset [server#]var=value", "-cunset
	// [server#]var" and "-cshow", written as one word with its argument
	// ("-cset edge1#P4TARGET=host:port", as the HA manual quotes it) or
	// as separate words.
	cmd, cmdArg := "", ""
	for i := 0; i < len(args); i++ {
		next := func() string {
			if i+1 < len(args) {
				i++
				return args[i]
			}
			return ""
		}
		switch args[i] {
		case "-r":
			root = next()
		case "-p":
			port = next()
		case "-xD":
			if i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
				xd = next()
			} else {
				showID = true
			}
		case "-jr":
			jr = next()
		case "-xi":
			xi = true
		case "-cshow":
			cmd = "show"
		case "-cset", "-cunset":
			cmd, cmdArg = strings.TrimPrefix(args[i], "-c"), next()
		case "-Gf":
			// The fingerprint of the server's key (trust.go).
			fmt.Printf("Fingerprint: %s\n", fingerprintOf(root))
			return 0
		case "-V":
			fmt.Println("Perforce - The Fast Software Configuration Management System.\nRev. " + version + ".")
			return 0
		case "-d", "-q":
		default:
			if c, rest, ok := strings.Cut(strings.TrimPrefix(args[i], "-c"), " "); strings.HasPrefix(args[i], "-c") && ok && (c == "set" || c == "unset") {
				cmd, cmdArg = c, rest
				continue
			}
			return die("Usage: p4d [ -r root ] [ -p port ] [ -xD [serverID] ] [ -jr checkpoint ]\nInvalid option: %s", args[i])
		}
	}
	if root == "" {
		return die("P4ROOT not set.")
	}
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		return die("Perforce server error:\n\tServer root '%s' does not exist.", root)
	}
	switch {
	case cmd == "show":
		return cshow(root)
	case cmd != "":
		return cset(root, cmdArg, cmd == "unset")
	case xi:
		// p4d -xi switches a (stopped) server to unicode mode, for good.
		db, err := loadDB(root)
		if err != nil {
			return die("%v", err)
		}
		db.Unicode = true
		if err := db.save(root); err != nil {
			return die("%v", err)
		}
		fmt.Println("Server switched to Unicode mode.")
		return 0
	case showID:
		id := readServerID(root)
		if id == "" {
			return die("Server ID is not set.")
		}
		fmt.Printf("Server ID: %s\n", id)
		return 0
	case xd != "":
		if err := os.WriteFile(filepath.Join(root, "server.id"), []byte(xd+"\n"), 0o600); err != nil {
			return die("Perforce server error:\n\tUnable to write server.id: %v", err)
		}
		fmt.Printf("Server ID set to '%s'.\n", xd)
		return 0
	case jr != "":
		return restore(root, jr)
	}
	if port == "" {
		port = "1666"
	}
	if err := runDaemon(root, port); err != nil {
		return die("%v", err)
	}
	return 0
}

// restore replays a checkpoint into an empty root; a root with database
// files is refused, as p4d refuses to replay over existing tables.
func restore(root, file string) int {
	if !filepath.IsAbs(file) {
		file = filepath.Join(root, file)
	}
	if hasDB(root) {
		return die("Perforce server error:\n\tJournal file '%s' replay failed.\n\tDatabase files (db.*) already exist in %s; remove them before restoring a checkpoint.", file, root)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return die("Perforce server error:\n\topen for read: %s: %v", file, err)
	}
	body, ok := strings.CutPrefix(string(data), "@tejun-p4sim-checkpoint@\n")
	if !ok {
		return die("Perforce server error:\n\t%s is not a checkpoint.", file)
	}
	db := freshDB()
	if err := jsonUnmarshal(body, db); err != nil {
		return die("Perforce server error:\n\tbad checkpoint %s: %v", file, err)
	}
	db.AppliedConfig = copyMap(db.Config) // the replica starts from the master's configurables
	if err := db.save(root); err != nil {
		return die("Perforce server error:\n\t%v", err)
	}
	fmt.Printf("Recovering from %s...\n", file)
	return 0
}

// ---- p4dctl ----

type instance struct {
	name, owner, root, port string
}

func p4dctl(args []string) int {
	if len(args) != 2 {
		return die("Usage: p4dctl [ start | stop | status ] name")
	}
	inst, err := readConf(args[1])
	if err != nil {
		return die("%v", err)
	}
	pidFile := "/run/p4dctl-" + inst.name + ".pid"
	running := func() int {
		b, err := os.ReadFile(pidFile)
		if err != nil {
			return 0
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		if pid > 0 && syscall.Kill(pid, 0) == nil {
			return pid
		}
		return 0
	}
	switch args[0] {
	case "status":
		// p4dctl status follows the LSB status convention: exit 0 only when
		// the service runs. Public scripts rely on it ("p4dctl status $NAME ||
		// p4dctl start $NAME" in a Git Fusion container entrypoint; Puppet
		// modules use it as the service's status command), and others warn
		// that its "not running" text also contains "running".
		if pid := running(); pid > 0 {
			fmt.Printf("p4d '%s' is running with pid %d.\n", inst.name, pid)
			return 0
		}
		fmt.Printf("p4d '%s' is not running.\n", inst.name)
		return 1
	case "stop":
		pid := running()
		if pid == 0 {
			fmt.Printf("p4d '%s' is not running.\n", inst.name)
			return 0
		}
		syscall.Kill(pid, syscall.SIGTERM)
		for i := 0; i < 100 && syscall.Kill(pid, 0) == nil; i++ {
			time.Sleep(50 * time.Millisecond)
		}
		os.Remove(pidFile)
		fmt.Printf("Stopping p4d '%s'...\n", inst.name)
		return 0
	case "start":
		if pid := running(); pid > 0 {
			fmt.Printf("p4d '%s' is already running with pid %d.\n", inst.name, pid)
			return 0
		}
		u, err := user.Lookup(inst.owner)
		if err != nil {
			return die("p4dctl: unknown owner %s", inst.owner)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		self, _ := os.Executable()
		logf, _ := os.OpenFile(filepath.Join(os.TempDir(), "p4d-"+inst.name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		cmd := exec.Command(filepath.Join(filepath.Dir(self), "p4d"), "-r", inst.root, "-p", inst.port)
		cmd.Stdout, cmd.Stderr = logf, logf
		cmd.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + u.HomeDir}
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
		if err := cmd.Start(); err != nil {
			return die("p4dctl: %v", err)
		}
		os.WriteFile(pidFile, []byte(strconv.Itoa(cmd.Process.Pid)), 0o644)
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		for i := 0; i < 100; i++ {
			select {
			case <-exited:
				os.Remove(pidFile)
				log, _ := os.ReadFile(logf.Name())
				return die("p4dctl: p4d '%s' failed to start:\n%s", inst.name, lastLines(string(log), 3))
			default:
			}
			if _, err := call(inst.port, &Request{Cmd: "ping"}); err == nil {
				fmt.Printf("Starting p4d '%s'...\n", inst.name)
				return 0
			}
			time.Sleep(50 * time.Millisecond)
		}
		return die("p4dctl: p4d '%s' did not start listening on %s", inst.name, inst.port)
	}
	return die("Usage: p4dctl [ start | stop | status ] name")
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

// readConf reads /etc/perforce/p4dctl.conf.d/NAME.conf in p4dctl's format:
//
//	p4d NAME
//	{
//	    Owner = perforce
//	    Environment
//	    {
//	        P4ROOT = /standby
//	        P4PORT = 127.0.0.12:1666
//	    }
//	}
func readConf(name string) (*instance, error) {
	data, err := os.ReadFile("/etc/perforce/p4dctl.conf.d/" + name + ".conf")
	if err != nil {
		return nil, fmt.Errorf("p4dctl: no server '%s' configured: %v", name, err)
	}
	inst := &instance{name: name}
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "Owner":
			inst.owner = strings.TrimSpace(v)
		case "P4ROOT":
			inst.root = strings.TrimSpace(v)
		case "P4PORT":
			inst.port = strings.TrimSpace(v)
		}
	}
	if inst.owner == "" || inst.root == "" || inst.port == "" {
		return nil, fmt.Errorf("p4dctl: %s.conf needs Owner, P4ROOT and P4PORT", name)
	}
	return inst, nil
}
