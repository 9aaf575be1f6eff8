package inventory

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"tejun/inventory/tomlsrc"
)

// All names every host of the inventory, as Ansible's "all" does: a
// runbook step can say on = "all", and --limit all is every host. It is
// reserved, so no host or role may take the name.
const All = "all"

// patternChars may not appear in a host or role name: --limit reads them
// as a list (",", ":"), an exclusion ("!"), an intersection ("&") or a
// glob ("*", "?", "[").
const patternChars = ",:!&*?["

// checkName refuses a host or role name that --limit or on would read
// as something else.
func checkName(what, name string) string {
	if name == All {
		return fmt.Sprintf("%s %q: the name all is reserved for every host (on = \"all\", --limit all)", what, name)
	}
	if i := strings.IndexAny(name, patternChars); i >= 0 {
		return fmt.Sprintf("%s %q: %q cannot be in a name (--limit reads , : ! & * ? [ as a pattern)", what, name, string(name[i]))
	}
	return ""
}

// Limit returns the hosts a --limit pattern selects, in inventory order.
// The pattern is Ansible's: terms separated by "," (or ":"), each a host,
// a role, "all" or a glob over host and role names ("db-*"); a term
// starting with "!" removes what it names and one starting with "&" keeps
// only what it also names. Only exclusions start from every host, so
// "!h3" is every host but h3. Each term must name something: a typo
// that selected nothing would run on fewer hosts than meant (or on more,
// for an exclusion), so it is refused with the closest name.
func (inv *Inventory) Limit(pattern string) ([]*Host, error) {
	terms := strings.FieldsFunc(pattern, func(r rune) bool { return r == ',' || r == ':' })
	if len(terms) == 0 {
		return nil, fmt.Errorf("empty --limit pattern %q", pattern)
	}
	var include, exclude, within map[string]bool
	add := func(set *map[string]bool, hs []*Host) {
		if *set == nil {
			*set = map[string]bool{}
		}
		for _, h := range hs {
			(*set)[h.Name] = true
		}
	}
	for _, term := range terms {
		term = strings.TrimSpace(term)
		op, name := byte(0), term
		if term != "" && (term[0] == '!' || term[0] == '&') {
			op, name = term[0], term[1:]
		}
		hs, err := inv.match(name)
		if err != nil {
			return nil, err
		}
		switch op {
		case '!':
			add(&exclude, hs)
		case '&':
			add(&within, hs)
		default:
			add(&include, hs)
		}
	}
	if include == nil {
		add(&include, inv.Hosts)
	}
	var out []*Host
	for _, h := range inv.Hosts {
		if include[h.Name] && !exclude[h.Name] && (within == nil || within[h.Name]) {
			out = append(out, h)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--limit %q selects no host of %s", pattern, inv.File)
	}
	return out, nil
}

// match is one term of a pattern: a name (Select's), or a glob over the
// host and role names.
func (inv *Inventory) match(name string) ([]*Host, error) {
	if name == "" {
		return nil, fmt.Errorf("an empty name in a --limit pattern")
	}
	if !strings.ContainsAny(name, "*?[") {
		hs, err := inv.Select(name)
		if err != nil {
			return nil, fmt.Errorf("--limit: %w", err)
		}
		return hs, nil
	}
	if _, err := path.Match(name, ""); err != nil {
		return nil, fmt.Errorf("--limit %q: not a valid pattern: %v", name, err)
	}
	seen := map[string]bool{}
	var hs []*Host
	for _, h := range inv.Hosts {
		if ok, _ := path.Match(name, h.Name); ok && !seen[h.Name] {
			seen[h.Name] = true
			hs = append(hs, h)
		}
	}
	roles := make([]string, 0, len(inv.Roles))
	for r := range inv.Roles {
		roles = append(roles, r)
	}
	sort.Strings(roles)
	for _, r := range roles {
		if ok, _ := path.Match(name, r); ok {
			for _, h := range inv.Roles[r].Hosts {
				if !seen[h.Name] {
					seen[h.Name] = true
					hs = append(hs, h)
				}
			}
		}
	}
	if len(hs) == 0 {
		return nil, fmt.Errorf("--limit %q matches no host or role in %s (hosts: %s)", name, inv.File, strings.Join(inv.names(), ", "))
	}
	return hs, nil
}

func (inv *Inventory) names() []string {
	var ns []string
	for _, h := range inv.Hosts {
		ns = append(ns, h.Name)
	}
	return ns
}

// closestName is the host or role a mistyped name most likely meant.
func (inv *Inventory) closestName(target string) string {
	known := make([]string, 0, len(inv.Hosts)+len(inv.Roles))
	for _, h := range inv.Hosts {
		known = append(known, h.Name)
	}
	for r := range inv.Roles {
		known = append(known, r)
	}
	sort.Strings(known)
	return tomlsrc.Closest(target, known)
}
