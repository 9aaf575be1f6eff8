package main

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Request and Response are the simulator's wire format between p4 and p4d.
type Request struct {
	User   string
	Ticket string
	Cmd    string
	Args   []string
	Stdin  string
	Tag    bool
	Port   string // the address the client used, for ticket lookups
	// Charset is the client's P4CHARSET (-C), "" when unset.
	Charset string
	// SSL: the client's P4PORT names the ssl protocol (trust.go).
	SSL bool
}

type Response struct {
	Out, Err string
	Code     int
}

type daemon struct {
	mu       sync.Mutex
	root     string
	port     string
	db       *DB
	id       string
	started  time.Time
	stop     chan struct{}
	listener net.Listener
	// restart is set by a failover -y: once its answer is sent the server
	// restarts as the new master ("Restarting this server ...",
	// "Perforce Server re-starting..." in its output; the admin guide's
	// failed-over trigger fires "when the master restarts after a
	// successful failover"), refusing connections for a moment.
	restart bool
	// savedMod is the mtime of this server's own last database write: a
	// different one means p4d -cset changed db.config meanwhile.
	savedMod time.Time
	// noJournalcopy: the server's startup.N configurables, read when it
	// started, name other threads but no journalcopy, so it copies
	// nothing from its master (startupThreads).
	noJournalcopy bool
}

const version = "P4D/LINUX26X86_64/2019.1/1796703 (2019/05/01)"

func readServerID(root string) string {
	b, _ := os.ReadFile(filepath.Join(root, "server.id"))
	return strings.TrimSpace(string(b))
}

func runDaemon(root, port string) error {
	db, err := loadDB(root)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(root, "server.locks"), 0o700); err != nil {
		return fmt.Errorf("Unable to create server.locks: %v", err)
	}
	d := &daemon{root: root, port: port, db: db, id: readServerID(root), started: time.Now(), stop: make(chan struct{})}
	if d.isReplica() {
		d.initReplica()
	}
	d.noJournalcopy = !startupThreads(d.db.configFor(d.id))
	if err := d.save(); err != nil {
		return fmt.Errorf("Perforce server error: %v", err)
	}
	addr := dialAddr(port)
	if !strings.Contains(port, ":") {
		addr = ":" + port
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("Listen %s failed: %v", port, err)
	}
	d.listener = l
	stopped := make(chan struct{})
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		select {
		case <-sigs:
		case <-d.stop:
		}
		d.mu.Lock()
		close(stopped)
		d.listener.Close()
		d.mu.Unlock()
	}()
	go d.replicate()
	for {
		d.mu.Lock()
		l := d.listener
		d.mu.Unlock()
		c, err := l.Accept()
		if err != nil {
			d.mu.Lock()
			d.save()
			again := d.restart
			d.restart = false
			d.mu.Unlock()
			if again {
				if err := d.relisten(addr, stopped); err == nil {
					continue
				}
			}
			return nil
		}
		go d.serve(c)
	}
}

// relisten is the restart after a failover: the port refuses connections
// for a moment, then the same server answers as the new master.
func (d *daemon) relisten(addr string, stopped chan struct{}) error {
	select {
	case <-stopped:
		return net.ErrClosed
	case <-time.After(500 * time.Millisecond):
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	select {
	case <-stopped:
		l.Close()
		return net.ErrClosed
	default:
	}
	d.listener = l
	return nil
}

// initReplica starts a replica's state: a fresh one (a restored checkpoint)
// has copied and applied what the checkpoint holds; either way the master
// is not heard from yet, whatever the last run knew of it.
func (d *daemon) initReplica() {
	if d.db.Replica == nil {
		d.db.Replica = &ReplicaState{Journal: d.db.Journal, Sequence: d.db.Sequence, CopiedJournal: d.db.Journal, CopiedSequence: d.db.Sequence}
	}
	if d.db.Replica.CopiedJournal == 0 && d.db.Replica.CopiedSequence == 0 {
		d.db.Replica.CopiedJournal, d.db.Replica.CopiedSequence = d.db.Replica.Journal, d.db.Replica.Sequence
	}
	d.db.Replica.MasterJournal, d.db.Replica.MasterSequence = 0, -1
}

func (d *daemon) serve(c net.Conn) {
	defer c.Close()
	var req Request
	if err := json.NewDecoder(bufio.NewReader(c)).Decode(&req); err != nil {
		return
	}
	d.mu.Lock()
	d.reloadConfig()
	resp := d.handle(&req)
	d.mu.Unlock()
	json.NewEncoder(c).Encode(resp)
	d.mu.Lock()
	if d.restart {
		d.listener.Close() // Accept returns, and the loop listens again
	}
	d.mu.Unlock()
}

func ok(format string, args ...any) Response { return Response{Out: fmt.Sprintf(format, args...)} }
func fail(format string, args ...any) Response {
	return Response{Err: fmt.Sprintf(format, args...), Code: 1}
}

func (d *daemon) services() string {
	if s := d.db.Servers[d.id]; s != nil && s.Services != "" {
		return s.Services
	}
	return "standard"
}

func (d *daemon) isReplica() bool {
	s := d.services()
	return s == "standby" || s == "forwarding-standby" || strings.Contains(s, "replica")
}

// authorised: a user with a password needs a valid ticket; super rights
// come from the protections table (an empty table makes everyone super).
func (d *daemon) authorised(req *Request) *Response {
	u := d.db.Users[req.User]
	if u != nil && u.Password != "" && d.db.ticketUser(req.Ticket) != req.User {
		r := d.ticketRefusal(req)
		return &r
	}
	return nil
}

// ticketRefusal is what p4d answers a user with a password whose ticket
// does not let it in: a ticket of theirs that has timed out gets
// MsgServer::LoginExpired, "Your session has expired, please login
// again.", anything else MsgServer's "Perforce password (P4PASSWD)
// invalid or unset." (the texts of P4API's msgserver.cc, both E_FAILED).
func (d *daemon) ticketRefusal(req *Request) Response {
	if owner, expired := d.db.ticketOwner(req.Ticket); expired && owner == req.User {
		return fail("Your session has expired, please login again.")
	}
	return fail("Perforce password (P4PASSWD) invalid or unset.")
}

func (d *daemon) isSuper(user string) bool {
	if len(d.db.Protections) == 0 {
		return true
	}
	for _, line := range d.db.Protections {
		f := strings.Fields(line)
		if len(f) >= 5 && f[0] == "super" && f[1] == "user" && (f[2] == user || f[2] == "*") {
			return true
		}
	}
	return false
}

func (d *daemon) handle(req *Request) Response {
	if _, ssl := sslPort(d.port); ssl != req.SSL {
		if ssl {
			// A plain client at an ssl: server (the p4 client's own
			// message for it).
			return fail("Perforce client error:\n\tFailed client connect, server using SSL.\n\tClient must add SSL protocol prefix to P4PORT.")
		}
		return fail("Perforce client error:\n\tSSL connect to %s failed.\n\tRemove SSL protocol prefix from P4PORT or fix the TLS settings.", req.Port)
	}
	if req.Cmd == "ssl-key" {
		return ok("%s\n", fingerprintOf(d.root))
	}
	// A unicode server refuses a client without a charset, a non-unicode
	// one a client with one (P4 Command Reference, P4CHARSET); p4 info
	// answers either, and the servers' own traffic (rpl-fetch, shutdown
	// from a failover) is not a client's.
	if req.Cmd != "info" && req.Cmd != "rpl-fetch" && req.Cmd != "shutdown" {
		none := req.Charset == "" || req.Charset == "none"
		if d.db.Unicode && none {
			return fail("Unicode server permits only unicode enabled clients.")
		}
		if !d.db.Unicode && !none {
			return fail("Unicode clients require a unicode enabled server.")
		}
	}
	if req.Cmd == "login" {
		return d.login(req)
	}
	if req.Cmd == "logout" {
		return d.logout(req)
	}
	if req.Cmd == "info" {
		// p4 info needs no login: health checks run it unauthenticated
		// ("p4 -p $PORT -u healthcheck info -s" in public p4d container
		// entrypoints), and it is how a client learns the server is unicode.
		return d.info(req)
	}
	if r := d.authorised(req); r != nil {
		return *r
	}
	if d.db.Users[req.User] == nil && req.User != "" && !d.isReplica() {
		d.db.Users[req.User] = &User{User: req.User, Type: "standard", Email: req.User + "@" + d.hostname(), FullName: req.User}
		d.db.write("user " + req.User)
	}
	write := map[string]bool{"configure": true, "server": true, "user": true, "group": true, "passwd": true, "protect": true, "admin": true}
	reading := len(req.Args) > 0 && (req.Args[0] == "-o" || req.Cmd == "configure" && req.Args[0] == "show")
	if write[req.Cmd] && d.isReplica() && !reading && req.Cmd != "admin" {
		return fail("Replica does not support this command.")
	}
	adminOnly := map[string]bool{"configure": true, "server": true, "group": true, "protect": true, "admin": true, "servers": true, "pull": true, "failover": true, "passwd": true}
	if adminOnly[req.Cmd] && !d.isSuper(req.User) && !(req.Cmd == "passwd" && len(req.Args) == 0) {
		return fail("You don't have permission for this operation.")
	}
	before := d.db.Sequence
	resp := d.dispatch(req)
	if resp.Code == 0 && d.db.Sequence != before {
		if err := d.save(); err != nil {
			return fail("%v", err)
		}
	}
	return resp
}

func (d *daemon) hostname() string {
	h, _ := os.Hostname()
	return h
}

func (d *daemon) dispatch(req *Request) Response {
	a := req.Args
	switch req.Cmd {
	case "info":
		return d.info(req)
	case "server":
		return d.server(req)
	case "servers":
		if len(a) > 0 && a[0] == "-J" {
			return d.serversJ(req)
		}
		return d.servers(req)
	case "user":
		return d.user(req)
	case "users":
		return d.users(req)
	case "group":
		return d.group(req)
	case "passwd":
		return d.passwd(req)
	case "protect":
		if len(a) == 1 && a[0] == "-o" {
			return ok("%s", protectForm(d.db))
		}
		if len(a) == 1 && a[0] == "-i" {
			_, lists, err := parseSpec(req.Stdin)
			if err != nil {
				return fail("%v", err)
			}
			d.db.Protections = lists["Protections"]
			d.db.write("protect")
			return ok("Protections saved.\n")
		}
		return fail("Usage: protect [ -o | -i ]")
	case "counter":
		if len(a) == 1 && a[0] == "journal" {
			if req.Tag {
				return ok("... counter journal\n... value %d\n", d.db.Journal)
			}
			return ok("%d\n", d.db.Journal)
		}
		return fail("Usage: counter name")
	case "admin":
		if len(a) >= 1 && a[0] == "checkpoint" {
			return d.checkpoint(req)
		}
		return fail("Usage: admin checkpoint [ prefix ]")
	case "pull":
		return d.pullLJ(req)
	case "failover":
		return d.failover(req)
	case "configure":
		return d.configure(req)
	case "rpl-fetch":
		return d.rplFetch(req)
	case "shutdown":
		if !d.isSuper(req.User) {
			return fail("You don't have permission for this operation.")
		}
		defer close(d.stop)
		return ok("Perforce Server stopping...\n")
	}
	return fail("Unknown command.  Try 'p4 help' for info.")
}

func tagged(fields [][2]string) string {
	var b strings.Builder
	for _, f := range fields {
		if f[1] != "" {
			fmt.Fprintf(&b, "... %s %s\n", f[0], f[1])
		}
	}
	return b.String()
}

func (d *daemon) info(req *Request) Response {
	_, off := time.Now().Zone()
	cfg := d.db.configFor(d.id)
	monitor := ""
	if cfg["monitor"] != "" && cfg["monitor"] != "0" {
		monitor = "enabled"
	}
	unicode := ""
	if d.db.Unicode {
		unicode = "enabled"
	}
	fields := [][2]string{{"userName", req.User}, {"serverAddress", d.port}, {"serverRoot", d.root},
		{"serverDate", time.Now().Format("2006/01/02 15:04:05 -0700 MST")}, {"tzoffset", fmt.Sprint(off)},
		{"serverVersion", version}, {"ServerID", d.id}, {"serverServices", d.services()}, {"serverLicense", "none"},
		{"caseHandling", "sensitive"}, {"unicode", unicode}, {"monitor", monitor}}
	if req.Tag {
		return ok("%s", tagged(fields))
	}
	return ok("User name: %s\nServer address: %s\nServer root: %s\nServer version: %s\nServerID: %s\nServer services: %s\nCase Handling: sensitive\n",
		req.User, d.port, d.root, version, d.id, d.services())
}

func (d *daemon) server(req *Request) Response {
	a := req.Args
	switch {
	case len(a) == 2 && a[0] == "-o":
		s := d.db.Servers[a[1]]
		if s == nil {
			s = &Server{ServerID: a[1], Type: "server", Name: a[1], Services: "standard", Options: "nomandatory", Description: "Created by " + req.User + "."}
		}
		return ok("%s", serverForm(d.db, s))
	case len(a) == 1 && a[0] == "-i":
		vals, lists, err := parseSpec(req.Stdin)
		if err != nil {
			return fail("%v", err)
		}
		id := vals["ServerID"]
		if id == "" {
			return fail("Error in server specification.\nMissing required field 'ServerID'.")
		}
		old := d.db.Servers[id]
		s := &Server{ServerID: id, Type: vals["Type"], Name: vals["Name"], Address: vals["Address"], Services: vals["Services"],
			Options: vals["Options"], ReplicatingFrom: vals["ReplicatingFrom"], Description: strings.Join(lists["Description"], "\n")}
		if s.Options == "" {
			s.Options = "nomandatory"
		}
		if s.Options != "mandatory" && s.Options != "nomandatory" {
			return fail("Error in server specification.\nInvalid option '%s'.", s.Options)
		}
		if old == nil && s.Options == "mandatory" {
			return fail("Error in server specification.\nServer '%s' cannot be created with the 'mandatory' option; create it as 'nomandatory' and change it later.", id)
		}
		if s.Options == "mandatory" && s.Services != "standby" && s.Services != "forwarding-standby" {
			return fail("Error in server specification.\nOnly standby servers may be mandatory.")
		}
		before := configLines(d.db.Config, false)
		for k := range d.db.Config {
			if strings.HasPrefix(k, id+"#") {
				delete(d.db.Config, k)
			}
		}
		defer func() {
			if configLines(d.db.Config, false) != before {
				d.db.configChanged = true
			}
		}()
		for _, line := range lists["DistributedConfig"] {
			k, v, found := strings.Cut(line, "=")
			if !found {
				return fail("Error in server specification.\nBad DistributedConfig line '%s'.", line)
			}
			if !strings.Contains(k, "#") {
				k = id + "#" + k
			}
			d.db.Config[k] = v
		}
		// A spec whose fields stay but whose DistributedConfig lines change
		// is saved: those lines are the server's configurables.
		if old != nil && *old == *s && configLines(d.db.Config, false) == before {
			return ok("Server %s not changed.\n", id)
		}
		d.db.Servers[id] = s
		d.db.write("server " + id)
		return ok("Server %s saved.\n", id)
	}
	return fail("Usage: server [ -o | -i ] serverID")
}

func (d *daemon) servers(req *Request) Response {
	ids := d.serverIDs()
	var b strings.Builder
	for _, id := range ids {
		s := d.db.Servers[id]
		if req.Tag {
			b.WriteString(tagged([][2]string{{"ServerID", s.ServerID}, {"Type", s.Type}, {"Name", s.Name}, {"Address", s.Address},
				{"Services", s.Services}, {"Options", s.Options}, {"ReplicatingFrom", s.ReplicatingFrom}, {"Description", s.Description}}))
			b.WriteString("\n")
		} else {
			fmt.Fprintf(&b, "%s %s %s %s '%s'\n", s.ServerID, s.Type, s.Name, s.Services, s.Description)
		}
	}
	return ok("%s", b.String())
}

func (d *daemon) serverIDs() []string {
	ids := make([]string, 0, len(d.db.Servers))
	for id := range d.db.Servers {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// serversJ reports journal positions: the server's own, and what each
// replica last acknowledged.
func (d *daemon) serversJ(req *Request) Response {
	if d.isReplica() {
		return fail("Command only valid on the master server.")
	}
	var b strings.Builder
	now := time.Now().Format("2006/01/02 15:04:05")
	// The tagged names are db.jnlack's columns (persistedJnl, persistedPos,
	// appliedJnl, appliedPos, isAlive, serverOptions).
	line := func(id, services string, pj, ps, aj, as int, flags string, mandatory bool) {
		if req.Tag {
			opts := "nomandatory"
			if mandatory {
				opts = "mandatory"
			}
			b.WriteString(tagged([][2]string{{"serverID", id}, {"persistedJnl", fmt.Sprint(pj)}, {"persistedPos", fmt.Sprint(ps)},
				{"appliedJnl", fmt.Sprint(aj)}, {"appliedPos", fmt.Sprint(as)}, {"isAlive", "1"}, {"serverOptions", opts}, {"services", services}}))
			b.WriteString("\n")
			return
		}
		m := ""
		if mandatory {
			m = " mandatory"
		}
		fmt.Fprintf(&b, "%s '%s' %s %d/%d %d/%d %s %d%s\n", id, now, services, pj, ps, aj, as, flags, ps, m)
	}
	line(d.id, d.services(), d.db.Journal, d.db.Sequence, d.db.Journal, d.db.Sequence, "wadL/1", false)
	for _, id := range d.serverIDs() {
		ack := d.db.Acks[id]
		if id == d.id || ack == nil {
			continue
		}
		s := d.db.Servers[id]
		line(id, s.Services, ack.Journal, ack.Sequence, ack.AppliedJournal, ack.AppliedSequence, "wAdl/4", s.Options == "mandatory")
	}
	return ok("%s", b.String())
}

func (d *daemon) user(req *Request) Response {
	a := req.Args
	switch {
	case len(a) == 2 && a[0] == "-o":
		u := d.db.Users[a[1]]
		if u == nil {
			u = &User{User: a[1], Type: "standard", Email: a[1] + "@" + d.hostname(), FullName: a[1]}
		}
		return ok("%s", userForm(u))
	case len(a) == 2 && a[0] == "-i" && a[1] == "-f":
		vals, _, err := parseSpec(req.Stdin)
		if err != nil {
			return fail("%v", err)
		}
		name := vals["User"]
		if name == "" {
			return fail("Error in user specification.\nMissing required field 'User'.")
		}
		typ := vals["Type"]
		if typ == "" {
			typ = "standard"
		}
		old := d.db.Users[name]
		if old != nil && old.Type != typ {
			return fail("Error in user specification.\nThe user type can't be changed once the user has been created.")
		}
		u := &User{User: name, Type: typ, Email: vals["Email"], FullName: vals["FullName"]}
		if old != nil {
			u.Password = old.Password
			if *old == *u {
				return ok("User %s not changed.\n", name)
			}
		}
		d.db.Users[name] = u
		d.db.write("user " + name)
		return ok("User %s saved.\n", name)
	}
	return fail("Usage: user [ -o | -i -f ] user")
}

func (d *daemon) users(req *Request) Response {
	var b strings.Builder
	// p4 users lists service and operator users only with -a (P4 Command
	// Reference, p4 users: "-a Include service and operator users").
	names, all := req.Args, false
	if len(names) > 0 && names[0] == "-a" {
		names, all = names[1:], true
	}
	found := 0
	for _, n := range names {
		u := d.db.Users[n]
		if u == nil {
			continue
		}
		if !all && (u.Type == "service" || u.Type == "operator") {
			continue
		}
		found++
		// Tagged output reports "Password enabled" for a user with a
		// password and omits the field otherwise (p4 -ztag users, as shown
		// in public Perforce security write-ups).
		pw := ""
		if u.Password != "" {
			pw = "enabled"
		}
		if req.Tag {
			b.WriteString(tagged([][2]string{{"User", u.User}, {"Type", u.Type}, {"Email", u.Email}, {"FullName", u.FullName}, {"Password", pw}}) + "\n")
		} else {
			fmt.Fprintf(&b, "%s <%s> (%s)\n", u.User, u.Email, u.FullName)
		}
	}
	if found == 0 {
		return fail("%s - no such user(s).", strings.Join(names, " "))
	}
	return ok("%s", b.String())
}

func (d *daemon) passwd(req *Request) Response {
	target := req.User
	if len(req.Args) == 1 {
		target = req.Args[0]
	}
	u := d.db.Users[target]
	if u == nil {
		return fail("User %s doesn't exist.", target)
	}
	lines := strings.Split(req.Stdin, "\n")
	if len(lines) < 2 {
		return fail("Enter new password: Re-enter new password: Password not changed: empty input.")
	}
	if lines[0] != lines[1] {
		return fail("Enter new password: Re-enter new password: Passwords don't match.")
	}
	if len(lines[0]) < 8 {
		return fail("Enter new password: Re-enter new password: Password should be at least 8 characters in length.")
	}
	u.Password = hashPassword(lines[0])
	for t, owner := range d.db.Tickets {
		if owner == target {
			delete(d.db.Tickets, t)
		}
	}
	d.db.write("passwd " + target)
	return ok("Enter new password: \nRe-enter new password: \nPassword updated.\n")
}

func (d *daemon) login(req *Request) Response {
	a := req.Args
	u := d.db.Users[req.User]
	// A user without a password needs no login: p4 login, login -p and
	// login -s all answer "'login' not necessary, no password set for this
	// user." as information, with exit status 0 (P4Java's login tests and
	// git-p4's handling of it expect exactly this text), so success of a
	// login proves nothing about a password.
	if u == nil || u.Password == "" {
		return ok("'login' not necessary, no password set for this user.\n")
	}
	if len(a) == 1 && a[0] == "-s" {
		if d.db.ticketUser(req.Ticket) == req.User {
			// MsgServer::LoginGoodTill: "User %user% ticket expires in
			// %hours% hours %minutes% minutes."
			left := d.db.TicketExpiry[req.Ticket] - simNow().Unix()
			if _, ok := d.db.TicketExpiry[req.Ticket]; !ok {
				// A ticket of a group with Timeout unlimited never
				// expires. What real p4 prints for it here is not known
				// to this simulator: the Command Reference's p4 login
				// and p4 group pages, P4Java's GetLoginStatusTest and
				// public scripts parsing login -s (they look for
				// "ticket expires in" or TicketExpiration) show only
				// expiring tickets. So the default lifetime's wording
				// is kept, and nothing in tejun may read a lifetime out
				// of it: tejun checks only the exit status of login -s.
				left = ticketTimeout
			}
			if req.Tag {
				return ok("... User %s\n... TicketExpiration %d\n", req.User, left)
			}
			return ok("User %s ticket expires in %d hours %d minutes.\n", req.User, left/3600, left%3600/60)
		}
		return d.ticketRefusal(req)
	}
	if hashPassword(strings.TrimRight(req.Stdin, "\n")) != u.Password {
		return fail("Enter password: \nPassword invalid.")
	}
	var t [16]byte
	rand.Read(t[:])
	ticket := strings.ToUpper(hex.EncodeToString(t[:]))
	if d.db.TicketExpiry == nil {
		d.db.TicketExpiry = map[string]int64{}
	}
	if life := d.ticketLifetime(req.User); life > 0 {
		d.db.TicketExpiry[ticket] = simNow().Unix() + life
	}
	if d.isReplica() {
		if d.db.LocalTickets == nil {
			d.db.LocalTickets = map[string]string{}
		}
		d.db.LocalTickets[ticket] = req.User
	} else {
		d.db.Tickets[ticket] = req.User
	}
	d.db.write("login " + req.User)
	if len(a) == 1 && a[0] == "-p" {
		return ok("Enter password: \n%s\n", ticket)
	}
	d.save()
	return Response{Out: "Enter password: \nUser " + req.User + " logged in.\n", Err: "TICKET " + ticket}
}

// logout invalidates the caller's ticket, or with -a every ticket of the
// user; a super user may name another user (P4 Command Reference, p4
// logout [-a] [username]).
func (d *daemon) logout(req *Request) Response {
	all, target := false, req.User
	for _, a := range req.Args {
		if a == "-a" {
			all = true
		} else {
			target = a
		}
	}
	if target != req.User {
		if r := d.authorised(req); r != nil {
			return *r
		}
		if !d.isSuper(req.User) {
			return fail("You don't have permission for this operation.")
		}
	}
	for _, m := range []map[string]string{d.db.Tickets, d.db.LocalTickets} {
		for t, owner := range m {
			if owner == target && (all || t == req.Ticket || target != req.User) {
				delete(m, t)
			}
		}
	}
	d.db.write("logout " + target)
	d.save()
	return ok("User %s logged out.\n", target)
}

// checkpoint writes PREFIX.ckp.N, N one past the journal counter, and
// rotates the journal (the counter becomes N).
func (d *daemon) checkpoint(req *Request) Response {
	if d.isReplica() {
		return fail("Command not supported on a standby server.")
	}
	prefix := "checkpoint"
	if len(req.Args) > 1 {
		prefix = req.Args[1]
	}
	if !filepath.IsAbs(prefix) {
		prefix = filepath.Join(d.root, prefix)
	}
	n := d.db.Journal + 1
	file := fmt.Sprintf("%s.ckp.%d", prefix, n)
	snapshot := *d.db
	snapshot.Replica, snapshot.Acks = nil, map[string]*Ack{}
	data, _ := json.Marshal(&snapshot)
	if err := os.WriteFile(file, append([]byte("@tejun-p4sim-checkpoint@\n"), data...), 0o600); err != nil {
		return fail("Checkpoint failed: %v", err)
	}
	d.db.Journal = n
	d.db.Sequence = 0
	d.db.write("checkpoint")
	return ok("Checkpointing to %s...\nRotating journal to journal.%d...\n", filepath.Base(file), n-1)
}

func (d *daemon) pullLJ(req *Request) Response {
	if len(req.Args) != 1 || req.Args[0] != "-lj" {
		return fail("Usage: pull -lj")
	}
	r := d.db.Replica
	if !d.isReplica() || r == nil {
		return fail("Command only valid on a replica server.")
	}
	mj, ms := r.MasterJournal, r.MasterSequence
	if r.Error != "" {
		ms = -1
	}
	if req.Tag {
		out := tagged([][2]string{{"replicaJournalCounter", fmt.Sprint(r.Journal)}, {"replicaJournalNumber", fmt.Sprint(r.Journal)},
			{"replicaJournalSequence", fmt.Sprint(r.Sequence)}, {"replicaStatefileModified", r.Modified},
			{"masterJournalNumber", fmt.Sprint(mj)}, {"masterJournalSequence", fmt.Sprint(ms)},
			{"journalBytesBehind", fmt.Sprint(max(0, ms-r.Sequence))}})
		// The replication's own error is printed beside the state and the
		// command still succeeds: Perforce's p4prometheus shows
		// "Perforce password (P4PASSWD) invalid or unset." above a full
		// record with masterJournalSequence -1, and reads that -1 only
		// from a run whose exit status was 0.
		resp := ok("%s", out)
		if r.Error != "" {
			resp.Err = r.Error
		}
		return resp
	}
	out := fmt.Sprintf("Current replica journal state is: Journal %d, Sequence %d.\nCurrent master journal state is: Journal %d, Sequence %d.\nThe statefile was last modified at: %s.\nThe replica server time is currently: %s\n",
		r.Journal, r.Sequence, mj, ms, r.Modified, time.Now().Format("2006/01/02 15:04:05 -0700 MST"))
	resp := ok("%s", out)
	if r.Error != "" {
		resp.Err = r.Error
	}
	return resp
}
