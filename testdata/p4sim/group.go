package main

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Group is a user group as p4d keeps it in db.group: the fields the HA
// manual and the admin guide's replica chapter use. The other limits
// (MaxResults, MaxScanRows, ...) are shown as "unset", as p4d shows a
// group that never set them.
type Group struct {
	Group           string
	Timeout         string // seconds, "unlimited" or "unset"
	PasswordTimeout string
	Users           []string
}

// groupForm is p4 group -o's form. A group that does not exist yet is
// shown with the defaults p4d fills in: Timeout 43200 and every other
// limit unset (P4 Command Reference, p4 group: "Timeout ... The default
// value is 43,200 seconds (12 hours)").
func groupForm(g *Group, tag bool) string {
	fields := [][2]string{{"Group", g.Group}, {"MaxResults", "unset"}, {"MaxScanRows", "unset"},
		{"MaxLockTime", "unset"}, {"MaxOpenFiles", "unset"}, {"MaxMemory", "unset"},
		{"Timeout", g.Timeout}, {"PasswordTimeout", g.PasswordTimeout}}
	if tag {
		// Tagged spec lists number their lines: Users0, Users1, ... as
		// View0, View1 in p4 -ztag client -o.
		var b strings.Builder
		for _, f := range fields {
			fmt.Fprintf(&b, "... %s %s\n", f[0], f[1])
		}
		for i, u := range g.Users {
			fmt.Fprintf(&b, "... Users%d %s\n", i, u)
		}
		return b.String()
	}
	fields = append(fields, [2]string{"Users", ""})
	return specForm("# A Perforce Group Specification.\n\n", fields, map[string][]string{"Users": g.Users})
}

func (d *daemon) group(req *Request) Response {
	a := req.Args
	if d.db.Groups == nil {
		d.db.Groups = map[string]*Group{}
	}
	switch {
	case len(a) == 2 && a[0] == "-o":
		g := d.db.Groups[a[1]]
		if g == nil {
			g = &Group{Group: a[1], Timeout: strconv.Itoa(ticketTimeout), PasswordTimeout: "unset"}
		}
		return ok("%s", groupForm(g, req.Tag))
	case len(a) == 1 && a[0] == "-i":
		vals, lists, err := parseSpec(req.Stdin)
		if err != nil {
			return fail("%v", err)
		}
		name := vals["Group"]
		if name == "" {
			return fail("Error in group specification.\nMissing required field 'Group'.")
		}
		g := &Group{Group: name, Timeout: orUnset(vals["Timeout"]), PasswordTimeout: orUnset(vals["PasswordTimeout"]), Users: lists["Users"]}
		for _, t := range []string{g.Timeout, g.PasswordTimeout} {
			if _, err := strconv.Atoi(t); err != nil && t != "unset" && t != "unlimited" {
				return fail("Error in group specification.\nInvalid value '%s'; must be a number, 'unset' or 'unlimited'.", t)
			}
		}
		old := d.db.Groups[name]
		// MsgDm::GroupCreated / GroupUpdated / GroupNotUpdated:
		// "Group %group% created." / "updated." / "not updated."
		if old != nil && fmt.Sprint(*old) == fmt.Sprint(*g) {
			return ok("Group %s not updated.\n", name)
		}
		d.db.Groups[name] = g
		d.db.write("group " + name)
		if old == nil {
			return ok("Group %s created.\n", name)
		}
		return ok("Group %s updated.\n", name)
	}
	return fail("Usage: group [ -o | -i ] group")
}

func orUnset(v string) string {
	if v == "" {
		return "unset"
	}
	return v
}

// ticketLifetime is how long a login of user stays valid, 0 for never.
// A user in several groups gets the longest Timeout among them, unset
// ones ignored and unlimited the longest of all; a user in no group with
// a Timeout gets the default 12 hours (P4 Command Reference, p4 group,
// Timeout field and its note on users in multiple groups). The lifetime is
// fixed at login: a ticket keeps the expiry it was issued with.
func (d *daemon) ticketLifetime(user string) int64 {
	best, set := int64(0), false
	names := make([]string, 0, len(d.db.Groups))
	for n := range d.db.Groups {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		g := d.db.Groups[n]
		member := false
		for _, u := range g.Users {
			member = member || u == user
		}
		if !member || g.Timeout == "unset" {
			continue
		}
		if g.Timeout == "unlimited" {
			return 0
		}
		if s, err := strconv.ParseInt(g.Timeout, 10, 64); err == nil && (!set || s > best) {
			best, set = s, true
		}
	}
	if !set {
		return ticketTimeout
	}
	return best
}
