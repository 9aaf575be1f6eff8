package p4

import (
	"context"
	"strings"
	"testing"

	"tejun/transport/transporttest"
)

func pullLJ(replica, master string) transporttest.Reply {
	r, m := strings.Split(replica, "/"), strings.Split(master, "/")
	return transporttest.Reply{Stdout: "... replicaJournalCounter " + r[0] + "\n... replicaJournalNumber " + r[0] + "\n... replicaJournalSequence " + r[1] +
		"\n... masterJournalNumber " + m[0] + "\n... masterJournalSequence " + m[1] + "\n"}
}

func serversJ(lines ...[3]string) transporttest.Reply {
	var b strings.Builder
	for _, l := range lines {
		p, a := strings.Split(l[1], "/"), strings.Split(l[2], "/")
		b.WriteString("... serverID " + l[0] + "\n... persistedJnl " + p[0] + "\n... persistedPos " + p[1] + "\n... appliedJnl " + a[0] + "\n... appliedPos " + a[1] + "\n\n")
	}
	return transporttest.Reply{Stdout: b.String()}
}

// Parity of pull -lj right after the restore proves nothing: the step
// waits for the master's servers -J to show the standby's journalcopy and
// pull -L at the position the master had when the check began, and the
// master moving on meanwhile does not move the goal.
func TestPullProvesReplication(t *testing.T) {
	standby := transporttest.New().On(`pull -lj$`, pullLJ("2/100", "2/100"))
	master := transporttest.New().On(`servers -J$`, serversJ([3]string{"master", "2/100", "2/100"}))
	env := &hostEnv{name: "standby", hosts: map[string]*transporttest.Fake{"standby": standby, "master": master}}
	p := &Pull{Conn: Conn{Port: "s:1666", User: "super"}, ServerID: "standby", Master: "master", MasterPort: "m:1666", MasterID: "master"}
	if ps := p.Validate(); len(ps) != 0 {
		t.Fatal(ps)
	}
	st, err := p.Check(context.Background(), env)
	if err != nil || st.Done || !strings.Contains(st.Reason, "has not heard from standby") {
		t.Fatalf("no line for the standby on the master: %+v, %v", st, err)
	}
	master.AssertReceived(t, `^env LC_ALL=C p4 -u super -p m:1666 -ztag servers -J$`)

	master.On(`servers -J$`, serversJ([3]string{"master", "2/400", "2/400"}, [3]string{"standby", "2/100", "2/60"}))
	st, err = p.Check(context.Background(), env)
	if err != nil || st.Done || !strings.Contains(st.Reason, "pull -L at journal 2, sequence 60") || !strings.Contains(st.Reason, "master's journal 2, sequence 100") {
		t.Fatalf("pull -L behind: %+v, %v", st, err)
	}
	master.On(`servers -J$`, serversJ([3]string{"master", "2/900", "2/900"}, [3]string{"standby", "2/400", "2/400"}))
	standby.On(`pull -lj$`, pullLJ("2/400", "2/900"))
	st, err = p.Check(context.Background(), env)
	if err != nil || !st.Done {
		t.Fatalf("past the goal: %+v, %v", st, err)
	}

	// A fresh check aims at where the master is now.
	p = &Pull{Conn: p.Conn, ServerID: "standby", Master: "master", MasterPort: "m:1666", MasterID: "master"}
	if st, err := p.Check(context.Background(), env); err != nil || st.Done {
		t.Fatalf("new goal 2/900: %+v, %v", st, err)
	}

	// The master out of reach: the check cannot tell, which is an error.
	master.On(`servers -J$`, transporttest.Reply{Stderr: "Perforce client error:\n\tConnect to server failed; check $P4PORT.\n\tconnect: m:1666: Connection refused\n", Code: 1})
	if _, err := p.Check(context.Background(), env); err == nil || !strings.Contains(err.Error(), "cannot read the master's journal position") {
		t.Fatalf("master down: %v", err)
	}
	if (&Pull{Master: "master"}).Validate() == nil {
		t.Error("master without master_port and master_server_id accepted")
	}
}

// Whose credential failed: super's own ticket for the standby (pull -lj
// refused outright, nothing printed) is not the service user's
// replication ticket (pull -lj prints its state, masterJournalSequence -1,
// with the master's refusal beside it, whatever its exit status).
func TestPullNamesTheFailedCredential(t *testing.T) {
	ownRefused := transporttest.Reply{Stderr: "Perforce password (P4PASSWD) invalid or unset.\n", Code: 1}
	standby := transporttest.New().On(`pull -lj$`, ownRefused)
	env := &hostEnv{name: "standby", hosts: map[string]*transporttest.Fake{"standby": standby}}
	p := &Pull{Conn: Conn{Port: "s:1666", User: "super", Tickets: "/root/.p4tickets-tejun"}}
	_, err := p.Check(context.Background(), env)
	if err == nil || !strings.Contains(err.Error(), "super's own ticket on s:1666") || !strings.Contains(err.Error(), "not the service user's") {
		t.Fatalf("super's ticket refused: %v", err)
	}

	relayed := "Replica access to P4TARGET server failed.\nRemote server refused request. Please verify that service user is correctly logged in to remote server, then retry.\nPerforce password (P4PASSWD) invalid or unset.\n"
	for _, code := range []int{0, 1} {
		reply := pullLJ("2/100", "2/-1")
		reply.Stderr, reply.Code = relayed, code
		standby = transporttest.New().On(`pull -lj$`, reply)
		env = &hostEnv{name: "standby", hosts: map[string]*transporttest.Fake{"standby": standby}}
		// With a password, a refusal of its own would log super in again:
		// a relayed one must not.
		p = &Pull{Conn: Conn{Port: "s:1666", User: "super", Tickets: "/root/.p4tickets-tejun", Password: "super_password"}}
		for i := 0; i < ticketPatience-1; i++ {
			if st, err := p.Check(context.Background(), env); err != nil || st.Done {
				t.Fatalf("exit %d, check %d: patience expected: %+v, %v", code, i, st, err)
			}
		}
		_, err = p.Check(context.Background(), env)
		if err == nil || !strings.Contains(err.Error(), "service user's ticket") || strings.Contains(err.Error(), "super's own") {
			t.Fatalf("exit %d: replication's ticket: %v", code, err)
		}
		if code == 1 && !strings.Contains(err.Error(), "Remote server refused request") {
			t.Errorf("the relayed refusal is not shown: %v", err)
		}
		standby.AssertNotReceived(t, ` login$`)
	}
}
