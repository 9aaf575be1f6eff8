package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// DB is a server's database. Real p4d keeps dozens of db.* tables; the
// simulator keeps the parts the HA manual touches in db.tejunsim, plus
// empty stand-ins for a few real table names, so that "rm -f db.*" and
// "restore into a root that has db.* files" behave as on a real server.
type DB struct {
	Journal     int                `json:"journal"`  // journal counter: the number of the current journal
	Sequence    int                `json:"sequence"` // bytes written to the current journal
	Servers     map[string]*Server `json:"servers"`
	Users       map[string]*User   `json:"users"`
	Groups      map[string]*Group  `json:"groups,omitempty"`
	Protections []string           `json:"protections"`
	Config      map[string]string  `json:"config"` // "any#P4LOG" / "standby#P4TARGET" → value
	// AppliedConfig is, on a replica, the master's configurables as last
	// replicated: what the master changes since is applied, the replica's
	// own p4d -cset changes stay.
	AppliedConfig map[string]string `json:"applied_config,omitempty"`
	configChanged bool              // a configurable changed since the last save
	Tickets       map[string]string `json:"tickets"` // ticket → user
	// TicketExpiry is when each ticket (of Tickets or LocalTickets) stops
	// being valid, in Unix seconds by the simulator's clock (simNow).
	TicketExpiry map[string]int64 `json:"ticket_expiry,omitempty"`
	// LocalTickets are logins made on a replica itself: they stay when
	// the replica takes the master's tables, as a replica keeps its own
	// ticket table (a login on a standby is not sent to its master).
	LocalTickets map[string]string `json:"local_tickets,omitempty"`
	Unicode      bool              `json:"unicode"`
	Acks         map[string]*Ack   `json:"acks"` // on a master: what each replica reported
	Replica      *ReplicaState     `json:"replica,omitempty"`
	Extra        map[string]string `json:"extra,omitempty"`
}

type Server struct {
	ServerID, Type, Name, Address, Services, Options, ReplicatingFrom, Description string
}

type User struct {
	User, Type, Email, FullName string
	Password                    string // sha256 of the password, "" for none
}

// Ack is a replica's reported journal position, as the master keeps it in
// db.jnlack and shows it in servers -J: "For every server, B, that has
// sent a p4 pull or p4 journalcopy request, ... when that request was sent
// and what is the persisted and applied state of B's journal" (P4 Command
// Reference, p4 servers -J). Persisted is how far journalcopy has copied
// the master's journal, applied how far pull -L has replayed it into the
// replica's database.
type Ack struct {
	Journal, Sequence               int // persisted
	AppliedJournal, AppliedSequence int
	Time                            string
}

// ReplicaState is what a replica knows of its master.
type ReplicaState struct {
	Journal, Sequence int // applied by pull -L: the replica's database
	// CopiedJournal and CopiedSequence are journalcopy's position (p4
	// journalcopy -l: "Current replica persisted journal state is:
	// Journal 2, Sequence 6510347").
	CopiedJournal, CopiedSequence int
	// MasterJournal and MasterSequence are the master's position as last
	// heard from it; Sequence -1 until this run of the server has heard
	// from it, as pull -lj shows a master it cannot reach ("Current master
	// journal state is: Journal 0, Sequence -1", in the comments of
	// Perforce's p4prometheus).
	MasterJournal, MasterSequence int
	Modified                      string
	Error                         string
}

var tables = []string{"db.have", "db.user", "db.config", "db.counters", "db.protect", "db.server"}

const dbFile = "db.tejunsim"

func freshDB() *DB {
	return &DB{Servers: map[string]*Server{}, Users: map[string]*User{}, Config: map[string]string{},
		Tickets: map[string]string{}, LocalTickets: map[string]string{}, TicketExpiry: map[string]int64{}, Acks: map[string]*Ack{}}
}

func hasDB(root string) bool {
	m, _ := filepath.Glob(filepath.Join(root, "db.*"))
	return len(m) > 0
}

func loadDB(root string) (*DB, error) {
	data, err := os.ReadFile(filepath.Join(root, dbFile))
	if errors.Is(err, os.ErrNotExist) {
		return freshDB(), nil
	}
	if err != nil {
		return nil, err
	}
	db := freshDB()
	if err := json.Unmarshal(data, db); err != nil {
		return nil, fmt.Errorf("%s: damaged database: %v", root, err)
	}
	return db, nil
}

func (db *DB) save(root string) error {
	// Real p4d keeps configurables in db.config, so that file's mtime
	// moves when one changes and not otherwise: a checkpoint older than
	// it lacks a configuration change.
	configChanged := db.configChanged
	db.configChanged = false
	data, _ := json.MarshalIndent(db, "", " ")
	tmp := filepath.Join(root, dbFile+".tmp")
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("Unable to write %s: %v", dbFile, err)
	}
	if err := os.Rename(tmp, filepath.Join(root, dbFile)); err != nil {
		return err
	}
	for _, t := range tables {
		p := filepath.Join(root, t)
		if _, err := os.Stat(p); err != nil || t == "db.config" && configChanged {
			if err := os.WriteFile(p, nil, 0o600); err != nil {
				return err
			}
		}
	}
	return nil
}

// write records a change in the journal: the sequence grows by its size.
func (db *DB) write(what string) {
	db.Sequence += len(what) + 64
}

// ticketUser is who a ticket belongs to, "" when it is no valid ticket
// (unknown, or expired).
func (db *DB) ticketUser(t string) string {
	u, expired := db.ticketOwner(t)
	if expired {
		return ""
	}
	return u
}

// ticketOwner is who a ticket was issued to, and whether it has expired
// since: an expired ticket is refused with its own message, not as a
// missing one.
func (db *DB) ticketOwner(t string) (user string, expired bool) {
	if t == "" {
		return "", false
	}
	u := db.LocalTickets[t]
	if u == "" {
		u = db.Tickets[t]
	}
	if u == "" {
		return "", false
	}
	if exp, ok := db.TicketExpiry[t]; ok && simNow().Unix() >= exp {
		return u, true
	}
	return u, false
}

// ticketTimeout is a ticket's lifetime: "By default, tickets are valid for
// 12 hours" (P4 Command Reference, p4 login: the default Timeout of 43200
// seconds, set per group in the p4 group form). The manual puts the
// service user in no group, so its tickets expire unless a group says
// otherwise (ticketLifetime).
const ticketTimeout = 43200

// clockFile holds seconds to add to the host's clock: a test "lets twelve
// hours pass" by writing it, and every ticket issued before then has
// expired. It is a test hook of the simulator, not a Perforce file.
const clockFile = "/etc/perforce/p4sim.clock"

func simNow() time.Time {
	now := time.Now()
	if b, err := os.ReadFile(clockFile); err == nil {
		if s, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil {
			now = now.Add(time.Duration(s) * time.Second)
		}
	}
	return now
}

func hashPassword(p string) string {
	h := sha256.Sum256([]byte("p4sim:" + p))
	return hex.EncodeToString(h[:])
}

// configFor returns the configurables that apply to serverID.
func (db *DB) configFor(id string) map[string]string {
	out := map[string]string{}
	for k, v := range db.Config {
		if name, ok := strings.CutPrefix(k, "any#"); ok {
			if _, own := out[name]; !own {
				out[name] = v
			}
		}
	}
	for k, v := range db.Config {
		if name, ok := strings.CutPrefix(k, id+"#"); ok {
			out[name] = v
		}
	}
	return out
}

// --- spec forms: "Field:\tvalue", multi-line values tab-indented ---

func specForm(comment string, fields [][2]string, lists map[string][]string) string {
	var b strings.Builder
	b.WriteString(comment)
	for _, f := range fields {
		if l, ok := lists[f[0]]; ok {
			if len(l) == 0 {
				continue
			}
			fmt.Fprintf(&b, "%s:\n", f[0])
			for _, line := range l {
				fmt.Fprintf(&b, "\t%s\n", line)
			}
			b.WriteString("\n")
			continue
		}
		if f[1] == "" {
			continue
		}
		fmt.Fprintf(&b, "%s:\t%s\n\n", f[0], f[1])
	}
	return b.String()
}

// parseSpec reads a spec form: single values after "Field:", lists as the
// tab-indented lines that follow. Comments and blank lines are skipped.
func parseSpec(text string) (map[string]string, map[string][]string, error) {
	vals, lists := map[string]string{}, map[string][]string{}
	cur := ""
	for _, line := range strings.Split(text, "\n") {
		switch {
		case strings.HasPrefix(line, "#"), strings.TrimSpace(line) == "":
			continue
		case strings.HasPrefix(line, "\t") || strings.HasPrefix(line, " "):
			if cur == "" {
				return nil, nil, fmt.Errorf("Error in form: line %q belongs to no field", line)
			}
			lists[cur] = append(lists[cur], strings.TrimSpace(line))
		default:
			name, val, ok := strings.Cut(line, ":")
			if !ok {
				return nil, nil, fmt.Errorf("Error detected at line %q: missing ':'", line)
			}
			cur = strings.TrimSpace(name)
			vals[cur] = strings.TrimSpace(val)
		}
	}
	return vals, lists, nil
}

func serverForm(db *DB, s *Server) string {
	var dc []string
	keys := []string{}
	for k := range db.Config {
		if strings.HasPrefix(k, "any#") || strings.HasPrefix(k, s.ServerID+"#") {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		ai, aj := strings.HasPrefix(keys[i], "any#"), strings.HasPrefix(keys[j], "any#")
		if ai != aj {
			return ai
		}
		return keys[i] < keys[j]
	})
	for _, k := range keys {
		line := k + "=" + db.Config[k]
		dc = append(dc, strings.TrimPrefix(line, s.ServerID+"#"))
	}
	desc := []string{s.Description}
	return specForm("# A Perforce Server Specification.\n#\n#  ServerID:    The server identifier.\n#  Services:    Services provided by this server.\n#  DistributedConfig: Configuration for this server.\n\n",
		[][2]string{{"ServerID", s.ServerID}, {"Type", s.Type}, {"Name", s.Name}, {"Address", s.Address}, {"Services", s.Services},
			{"Options", s.Options}, {"ReplicatingFrom", s.ReplicatingFrom}, {"Description", ""}, {"DistributedConfig", ""}},
		map[string][]string{"Description": desc, "DistributedConfig": dc})
}

func userForm(u *User) string {
	return specForm("# A Perforce User Specification.\n\n",
		[][2]string{{"User", u.User}, {"Type", u.Type}, {"Email", u.Email}, {"FullName", u.FullName}}, nil)
}

func protectForm(db *DB) string {
	return specForm("# Perforce Protections Specification.\n\n", [][2]string{{"Protections", ""}}, map[string][]string{"Protections": db.Protections})
}
