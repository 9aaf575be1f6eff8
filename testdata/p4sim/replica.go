package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Replication: a standby's pull thread asks its P4TARGET for the master's
// database and journal position, as its service user with the ticket in
// its P4TICKETS file, and applies what it got a little later (replication
// lags and catches up). It acknowledges its position, which the master
// shows in servers -J.

const lag = 300 * time.Millisecond

func (d *daemon) replicate() {
	var pending *DB
	var pendingAt time.Time
	for {
		select {
		case <-d.stop:
			return
		case <-time.After(100 * time.Millisecond):
		}
		d.mu.Lock()
		d.reloadConfig()
		if !d.isReplica() {
			d.mu.Unlock()
			continue
		}
		cfg := d.db.configFor(d.id)
		target, svc, tickets := cfg["P4TARGET"], cfg["serviceUser"], cfg["P4TICKETS"]
		if d.db.Replica == nil {
			d.initReplica()
		}
		pos := *d.db.Replica
		id := d.id
		d.mu.Unlock()

		ticket, terr := readTicket(tickets, target, svc)
		var master DB
		err := terr
		if _, ssl := sslPort(target); ssl && err == nil {
			// The replication threads are p4 clients of the target:
			// they refuse a key their P4TRUST does not hold.
			var refusal string
			if refusal, err = checkTrust(target, cfg["P4TRUST"]); err == nil && refusal != "" {
				err = fmt.Errorf("%s", refusal)
			}
		}
		if err == nil {
			var resp Response
			resp, err = call(target, &Request{User: svc, Ticket: ticket, Cmd: "rpl-fetch", Args: []string{id, fmt.Sprint(pos.CopiedJournal), fmt.Sprint(pos.CopiedSequence), fmt.Sprint(pos.Journal), fmt.Sprint(pos.Sequence)}, Port: target})
			if err == nil && resp.Code != 0 {
				err = fmt.Errorf("%s", strings.TrimSpace(resp.Err))
			}
			if err == nil {
				err = json.Unmarshal([]byte(resp.Out), &master)
			}
		}
		d.mu.Lock()
		if !d.isReplica() || d.db.Replica == nil || d.id != id {
			// A failover ran while this fetch was out: the server is the
			// master now and its replication threads are gone (it sets
			// Replica to nil), so what was fetched is dropped. Going on
			// would dereference the nil state and kill the daemon,
			// leaving the new master refusing connections.
			pending = nil
			d.mu.Unlock()
			continue
		}
		now := time.Now().Format("2006/01/02 15:04:05")
		switch {
		case err != nil:
			d.db.Replica.Error = replicaError(err, target)
			pending = nil
		case d.noJournalcopy:
			// No journalcopy thread: the master's position is still
			// known (pull -lj asks the master for it), and the master
			// keeps the positions this replica last reported, but
			// nothing is copied or applied.
			d.db.Replica.Error = ""
			d.db.Replica.MasterJournal, d.db.Replica.MasterSequence = master.Journal, master.Sequence
		default:
			d.db.Replica.Error = ""
			d.db.Replica.MasterJournal, d.db.Replica.MasterSequence = master.Journal, master.Sequence
			// journalcopy writes what it fetched to the local journal at
			// once; pull -L replays it into the database a little later.
			d.db.Replica.CopiedJournal, d.db.Replica.CopiedSequence = master.Journal, master.Sequence
			if pending == nil {
				pending, pendingAt = &master, time.Now()
			}
		}
		if pending != nil && time.Since(pendingAt) >= lag {
			changed := pending.Sequence != d.db.Replica.Sequence || pending.Journal != d.db.Replica.Journal
			d.apply(pending)
			d.db.Replica.Journal, d.db.Replica.Sequence, d.db.Replica.Modified = pending.Journal, pending.Sequence, now
			pending = nil
			if changed {
				d.save()
			}
		}
		d.mu.Unlock()
	}
}

func replicaError(err error, target string) string {
	msg := err.Error()
	if strings.Contains(msg, "can't be established") || strings.Contains(msg, "IDENTIFICATION HAS CHANGED") {
		return "Replica access to P4TARGET server failed.\n" + msg
	}
	if strings.Contains(msg, "Your session has expired") {
		// The master's own refusal of the service user's timed-out ticket.
		return "Replica access to P4TARGET server failed.\nRemote server refused request. Please verify that service user is correctly logged in to remote server, then retry.\nYour session has expired, please login again."
	}
	if strings.Contains(msg, "P4PASSWD") || strings.Contains(msg, "ticket") {
		return "Replica access to P4TARGET server failed.\nRemote server refused request. Please verify that service user is correctly logged in to remote server, then retry.\nPerforce password (P4PASSWD) invalid or unset."
	}
	return "Replica access to P4TARGET server failed.\nTCP connect to " + target + " failed.\n" + msg
}

// apply takes the replicated tables; the server's own identity stays.
func (d *daemon) apply(m *DB) {
	d.db.Servers, d.db.Users, d.db.Groups, d.db.Protections = m.Servers, m.Users, m.Groups, m.Protections
	d.applyConfig(m.Config)
	d.db.Tickets, d.db.Unicode = m.Tickets, m.Unicode
	// The master's tickets come with their expiry; the replica's own
	// logins keep theirs.
	expiry := map[string]int64{}
	for t, e := range m.TicketExpiry {
		expiry[t] = e
	}
	for t := range d.db.LocalTickets {
		if e, ok := d.db.TicketExpiry[t]; ok {
			expiry[t] = e
		}
	}
	d.db.TicketExpiry = expiry
	d.db.Journal, d.db.Sequence = m.Journal, m.Sequence
}

// rplFetch serves a replica: only a service user may pull.
func (d *daemon) rplFetch(req *Request) Response {
	u := d.db.Users[req.User]
	if u == nil || u.Type != "service" {
		return fail("Replica access requires a service user.")
	}
	if len(req.Args) == 5 {
		var pj, ps, aj, as int
		fmt.Sscan(req.Args[1], &pj)
		fmt.Sscan(req.Args[2], &ps)
		fmt.Sscan(req.Args[3], &aj)
		fmt.Sscan(req.Args[4], &as)
		d.db.Acks[req.Args[0]] = &Ack{Journal: pj, Sequence: ps, AppliedJournal: aj, AppliedSequence: as, Time: time.Now().Format("2006/01/02 15:04:05")}
	}
	snapshot := *d.db
	snapshot.Acks, snapshot.Replica = nil, nil
	data, _ := json.Marshal(&snapshot)
	return ok("%s", data)
}

// readTicket finds user's ticket for port in a P4TICKETS file, as the
// daemon's own OS user: a file it cannot read is no ticket at all.
func readTicket(path, port, user string) (string, error) {
	if path == "" {
		home, _ := os.UserHomeDir()
		path = filepath.Join(home, ".p4tickets")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("Perforce password (P4PASSWD) invalid or unset. (%v)", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		k, v, _ := strings.Cut(line, "=")
		u, t, _ := strings.Cut(v, ":")
		if k == port && u == user {
			return t, nil
		}
	}
	return "", fmt.Errorf("Perforce password (P4PASSWD) invalid or unset.")
}

// startupThreads reports whether a replica's startup.N configurables, as
// p4d reads them when it starts, run journalcopy: a standby's threads are
// "startup.1=journalcopy -i 1", "startup.2=pull -L -i 1" (Helix Core
// Server Administrator Guide, "Deploying a standby"; P4 Command Reference,
// startup.N: "the process to start when the server starts"). Without the
// journalcopy thread nothing is copied from the master, so neither its
// persisted nor its applied position moves (its master's position is still
// learnt, as pull -lj asks the master), and a change made later does
// not take effect until p4d restarts. A server with no startup.N at all
// is left replicating, as the simulator always did: fixtures that never
// set them are not standbys built by the manual.
func startupThreads(cfg map[string]string) bool {
	any := false
	for k, v := range cfg {
		if !strings.HasPrefix(k, "startup.") {
			continue
		}
		any = true
		if strings.HasPrefix(v, "journalcopy") {
			return true
		}
	}
	return !any
}

// dialAddr turns a P4PORT into a Go network address: Perforce's protocol
// prefixes (tcp:, tcp4:, tcp6: with the IPv6 address in brackets; P4 Command
// Reference, P4PORT) go, a bare port number means localhost.
func dialAddr(port string) string {
	for _, proto := range []string{"tcp:", "tcp4:", "tcp6:", "tcp46:", "tcp64:"} {
		port = strings.TrimPrefix(port, proto)
	}
	port, _ = sslPort(port)
	if !strings.Contains(port, ":") {
		return "localhost:" + port
	}
	return port
}

func call(port string, req *Request) (Response, error) {
	addr := dialAddr(port)
	_, req.SSL = sslPort(port)
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return Response{}, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	if err := json.NewEncoder(c).Encode(req); err != nil {
		return Response{}, err
	}
	var resp Response
	if err := json.NewDecoder(c).Decode(&resp); err != nil {
		return Response{}, fmt.Errorf("Partner exited unexpectedly.")
	}
	return resp, nil
}

var preview = []string{
	"Checking if failover might be possible ...",
	"Checking for archive file content not transferred ...",
	"Verifying content of recently updated archive files ...",
}

var execution = []string{
	"Starting failover process ...",
	"Refusing new commands on server from which failover is occurring ...",
	"Giving commands already running time to complete ...",
	"Stalling commands on server from which failover is occurring ...",
	"Waiting for 'journalcopy' to complete its work ...",
	"Waiting for 'pull -L' to complete its work ...",
	"Waiting for 'pull -u' to complete its work ...",
	"Checking for archive file content not transferred ...",
	"Verifying content of recently updated archive files ...",
	"Stopping server from which failover is occurring ...",
	"Moving latest journalcopy'd journal into place as the active journal ...",
	"Updating configuration of the failed-over server ...",
	"Restarting this server ...",
	"Perforce Server re-starting...",
}

// failover: run on a standby. Without -s the master takes part and must
// answer; with -s it must not answer and this standby must be mandatory.
func (d *daemon) failover(req *Request) Response {
	yes, masterID := false, ""
	for i := 0; i < len(req.Args); i++ {
		switch req.Args[i] {
		case "-y", "--yes":
			yes = true
		case "-s", "--serverid":
			if i+1 < len(req.Args) {
				masterID = req.Args[i+1]
				i++
			}
		}
	}
	me := d.db.Servers[d.id]
	if me == nil || (me.Services != "standby" && me.Services != "forwarding-standby") {
		return fail("Failover can only be run on a standby or forwarding-standby server.")
	}
	cfg := d.db.configFor(d.id)
	target := cfg["P4TARGET"]
	reachable := false
	if c, err := net.DialTimeout("tcp", dialAddr(target), time.Second); err == nil {
		c.Close()
		reachable = true
	}
	if masterID == "" && !reachable {
		return fail("Server ID must be specified in the '-s' or '--serverid' argument for a failover without the participation of the server from which failover is occurring.\nEmpty identifier not allowed.")
	}
	if masterID != "" {
		if reachable {
			return fail("Failover without the participation of the server from which failover is occurring was requested, but server %s at %s is still responding.", masterID, target)
		}
		if me.Options != "mandatory" {
			return fail("Server '%s' is not a mandatory standby; a failover without the participation of '%s' requires a mandatory standby.", d.id, masterID)
		}
		if d.db.Servers[masterID] == nil {
			return fail("Server '%s' is not known to this server.", masterID)
		}
	}
	if d.db.Replica != nil && d.db.Replica.Error != "" && masterID == "" {
		return fail("%s", d.db.Replica.Error)
	}
	out := strings.Join(preview, "\n") + "\n"
	if !yes {
		return ok("%sAfter addressing any reported issues that might prevent failover, use --yes or -y to execute the failover.\n", out)
	}
	// The real thing.
	from := masterID
	if from == "" {
		from = d.db.Servers[d.id].ReplicatingFrom
		// The standby talks to the master as its service user, with the
		// ticket in its P4TICKETS, as its replication threads do; the
		// operator's own ticket is for the standby, not the master (the P4
		// Command Reference's p4 failover runs on the standby only).
		svc := cfg["serviceUser"]
		ticket, _ := readTicket(cfg["P4TICKETS"], target, svc)
		// "Waiting for 'journalcopy' / 'pull -L' to complete its work":
		// with the master taking part, the standby has everything the
		// master journalled before it stops it.
		var last DB
		r, err := call(target, &Request{User: svc, Ticket: ticket, Cmd: "rpl-fetch", Args: []string{d.id}, Port: target})
		if err == nil && r.Code == 0 && json.Unmarshal([]byte(r.Out), &last) == nil {
			d.apply(&last)
		} else {
			return fail("%s\nFailover failed: 'journalcopy' cannot complete: %v %s", strings.Join(execution[:5], "\n"), err, r.Err)
		}
		if r, err := call(target, &Request{User: svc, Ticket: ticket, Cmd: "shutdown", Port: target}); err != nil || r.Code != 0 {
			return fail("Unable to stop server %s: %v %s", from, err, r.Err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err := os.WriteFile(filepath.Join(d.root, "server.id"), []byte(from+"\n"), 0o600); err != nil {
		return fail("%s\nFailover failed: unable to update server.id: %v", strings.Join(execution[:10], "\n"), err)
	}
	old := d.db.Servers[from]
	d.id = from
	if old != nil {
		old.Services = "commit-server"
		old.ReplicatingFrom = ""
	}
	for k := range d.db.Config {
		if strings.HasPrefix(k, from+"#") && (strings.Contains(k, "#startup.") || strings.HasSuffix(k, "#P4TARGET")) {
			delete(d.db.Config, k)
			d.db.configChanged = true
		}
	}
	d.db.Replica = nil
	d.db.write("failover")
	d.restart = true
	return ok("%s\n", strings.Join(execution, "\n"))
}
