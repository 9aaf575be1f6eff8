// Package inventory is the plain data about the hosts a runbook runs against:
// where they are, how to reach them, which roles they play and their values.
// It opens no connection; the runbook package reads it and the transport
// package is handed what it needs.
package inventory

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"tejun/inventory/tomlsrc"
)

// Text is a phrase in the two languages tejun prints.
type Text struct {
	JA string `toml:"ja"`
	EN string `toml:"en"`
}

// In returns the text for lang, falling back to the other language so a
// half-translated runbook still prints something true.
func (t Text) In(lang string) string {
	if lang == "en" && t.EN != "" || t.JA == "" {
		return t.EN
	}
	return t.JA
}

// Host-key policies. There is deliberately no "ignore": a runbook that
// deletes databases must know which machine it is talking to.
const (
	HostKeyStrict    = "strict"
	HostKeyAcceptNew = "accept-new"
)

// SSH holds how to reach a host; every field may come from [defaults].
// An empty field is unset: ~/.ssh/config decides, as it would for ssh.
type SSH struct {
	User string `toml:"user"`
	// Port is 22 when unset, for display; PortSet says whether the
	// inventory gave it, since only then does it override ssh_config.
	Port         int    `toml:"port"`
	PortSet      bool   `toml:"-"`
	IdentityFile string `toml:"identity_file"`
	// Jump is the host to tunnel through: an inventory host name, or
	// [user@]address[:port]; "none" overrides a default jump.
	Jump string `toml:"jump"`
	// NoJump is a jump of "none": no jump, whatever [defaults] or
	// ssh_config's ProxyJump say.
	NoJump bool `toml:"-"`
	// Become is the user commands run as (through sudo -n) unless a step
	// says otherwise.
	Become string `toml:"become"`
	// HostKey is "" when unset: ssh_config's StrictHostKeyChecking
	// accept-new applies, else strict.
	HostKey    string `toml:"host_key"`
	KnownHosts string `toml:"known_hosts"`
	// Connection is "ssh" (default) or "local": the machine running tejun,
	// without sshd.
	Connection string `toml:"connection"`
}

// Host is one machine of the inventory.
type Host struct {
	Name    string
	Address string
	// ServiceAddress is the host name or address clients use for the
	// service the host runs (a Perforce P4PORT's host, a DNS name on the
	// service network) when it is not the SSH address: tejun's SSH goes to
	// Address, commands that name the service use this. Default Address.
	ServiceAddress string
	Roles          []string
	Label          Text
	Vars           map[string]string
	SSH            SSH
	Line           int // where the host is written, for messages
}

// Role is a name several hosts can share; a step aimed at a role runs on
// each of them.
type Role struct {
	Name  string
	Label Text
	Vars  map[string]string
	Hosts []*Host
}

// Inventory is a loaded inventory file.
type Inventory struct {
	File  string
	Vars  map[string]string
	Hosts []*Host // in file order
	Roles map[string]*Role
	// Swapped names the two roles SwapRoles exchanged, for the dry-run to
	// say so.
	Swapped [2]string
}

type fileSchema struct {
	Defaults SSH                   `toml:"defaults"`
	Vars     map[string]any        `toml:"vars"`
	Hosts    map[string]hostSchema `toml:"hosts"`
	Roles    map[string]roleSchema `toml:"roles"`
}

type hostSchema struct {
	SSH
	Address string `toml:"address"`
	// ServiceAddress: see Host.
	ServiceAddress string         `toml:"service_address"`
	Roles          []string       `toml:"roles"`
	Label          Text           `toml:"label"`
	Vars           map[string]any `toml:"vars"`
}

type roleSchema struct {
	Label Text           `toml:"label"`
	Vars  map[string]any `toml:"vars"`
}

// Parse checks src, named file in messages, and returns every problem in it.
func Parse(file string, src []byte) (*Inventory, error) {
	s, err := tomlsrc.Parse(file, src)
	if err != nil {
		return nil, err
	}
	ps := s.Check("", s.Raw, reflect.TypeFor[fileSchema]())
	s.Prune(ps)
	var f fileSchema
	if _, err := s.Decode(&f); err != nil {
		var more tomlsrc.Problems
		if !errors.As(err, &more) {
			return nil, err
		}
		return nil, append(ps, more...).Err()
	}
	inv := &Inventory{File: file, Roles: map[string]*Role{}}
	inv.Vars = Vars(s, &ps, "vars", f.Vars)

	names := make([]string, 0, len(f.Hosts))
	for n := range f.Hosts {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		return s.Index.Line("hosts."+names[i]) < s.Index.Line("hosts."+names[j])
	})
	for _, n := range names {
		h := f.Hosts[n]
		path := "hosts." + n
		host := &Host{
			Name: n, Address: h.Address, Roles: h.Roles, Label: h.Label,
			Vars: Vars(s, &ps, path+".vars", h.Vars), SSH: merge(h.SSH, f.Defaults),
			Line: s.Index.Line(path),
		}
		if host.Address == "" {
			host.Address = n
		}
		host.ServiceAddress = h.ServiceAddress
		if host.ServiceAddress == "" {
			host.ServiceAddress = host.Address
		}
		host.SSH.PortSet = rawSet(s, n, "port")
		if !host.SSH.PortSet {
			host.SSH.Port = 22
		}
		checkHost(s, &ps, path, host)
		if msg := checkName("host", n); msg != "" {
			ps = append(ps, s.At(path, "%s", msg))
		}
		for _, r := range host.Roles {
			if msg := checkName("role", r); msg != "" {
				ps = append(ps, s.At(path+".roles", "%s", msg))
			}
		}
		inv.Hosts = append(inv.Hosts, host)
		for _, r := range host.Roles {
			role := inv.Roles[r]
			if role == nil {
				role = &Role{Name: r, Vars: map[string]string{}}
				inv.Roles[r] = role
			}
			role.Hosts = append(role.Hosts, host)
		}
	}
	checkJumps(s, &ps, inv)
	for n, r := range f.Roles {
		role := inv.Roles[n]
		if role == nil {
			ps = append(ps, s.At("roles."+n, "role %q is described but no host has it", n))
			continue
		}
		role.Label = r.Label
		role.Vars = Vars(s, &ps, "roles."+n+".vars", r.Vars)
	}
	for _, r := range inv.Roles {
		if h := inv.Host(r.Name); h != nil && (len(r.Hosts) != 1 || r.Hosts[0] != h) {
			ps = append(ps, s.At("hosts."+h.Name, "%q is both a host and a role of other hosts: a step aimed at it would be ambiguous", h.Name))
		}
	}
	if len(inv.Hosts) == 0 {
		ps = append(ps, tomlsrc.Problem{File: file, Msg: "no hosts: add a [hosts.NAME] table"})
	}
	return inv, ps.Err()
}

func merge(h, d SSH) SSH {
	pick := func(a, b string) string {
		if a != "" {
			return a
		}
		return b
	}
	h.User = pick(h.User, d.User)
	h.IdentityFile = pick(h.IdentityFile, d.IdentityFile)
	h.Jump = pick(h.Jump, d.Jump)
	h.Become = pick(h.Become, d.Become)
	h.HostKey = pick(h.HostKey, d.HostKey)
	h.KnownHosts = pick(h.KnownHosts, d.KnownHosts)
	h.Connection = pick(h.Connection, d.Connection)
	if h.Jump == "none" { // as OpenSSH's ProxyJump none: no jump, whatever [defaults] says
		h.Jump, h.NoJump = "", true
	}
	if h.Port == 0 {
		h.Port = d.Port
	}
	return h
}

// rawSet says whether the host's table or [defaults] writes key.
func rawSet(s *tomlsrc.Source, host, key string) bool {
	if hosts, ok := s.Raw["hosts"].(map[string]any); ok {
		if own, ok := hosts[host].(map[string]any); ok {
			if _, set := own[key]; set {
				return true
			}
		}
	}
	if d, ok := s.Raw["defaults"].(map[string]any); ok {
		_, set := d[key]
		return set
	}
	return false
}

func checkHost(s *tomlsrc.Source, ps *tomlsrc.Problems, path string, h *Host) {
	// A value a host inherits from [defaults] is wrong there, once, not
	// once per host.
	where := func(key string) (string, string) {
		if hosts, ok := s.Raw["hosts"].(map[string]any); ok {
			if own, ok := hosts[h.Name].(map[string]any); ok {
				if _, set := own[key]; set {
					return path + "." + key, "host " + h.Name
				}
			}
		}
		return "defaults." + key, "defaults"
	}
	if h.SSH.PortSet && (h.SSH.Port < 1 || h.SSH.Port > 65535) {
		at, who := where("port")
		*ps = append(*ps, s.At(at, "%s: port %d is not between 1 and 65535", who, h.SSH.Port))
	}
	// An explicit port = 0 is a mistake, not "the default": the merge
	// above cannot tell it from an unset port, so the written value is
	// looked at.
	for _, at := range []string{path + ".port", "defaults.port"} {
		if v, ok := rawInt(s.Raw, at); ok && (v < 1 || v > 65535) {
			who := "host " + h.Name
			if at == "defaults.port" {
				who = "defaults"
			}
			*ps = append(*ps, s.At(at, "%s: port %d is not between 1 and 65535", who, v))
		}
	}
	if h.SSH.IdentityFile != "" && h.SSH.Connection != "local" {
		if msg := identityProblem(h.SSH.IdentityFile); msg != "" {
			at, who := where("identity_file")
			*ps = append(*ps, s.At(at, "%s: identity_file %s: %s", who, h.SSH.IdentityFile, msg))
		}
	}
	switch h.SSH.HostKey {
	case "", HostKeyStrict, HostKeyAcceptNew:
	default:
		at, who := where("host_key")
		*ps = append(*ps, s.At(at, "%s: host_key %q: want %q or %q (there is no way to skip host-key checks)", who, h.SSH.HostKey, HostKeyStrict, HostKeyAcceptNew))
	}
	switch h.SSH.Connection {
	case "", "ssh", "local":
	default:
		at, who := where("connection")
		*ps = append(*ps, s.At(at, "%s: connection %q: want \"ssh\" or \"local\"", who, h.SSH.Connection))
	}
	if h.SSH.Jump == h.Name {
		*ps = append(*ps, s.At(path+".jump", "host %s: jumps through itself", h.Name))
	}
	if strings.ContainsAny(h.Address, " \t\n/") || strings.HasPrefix(h.Address, "-") {
		*ps = append(*ps, s.At(path+".address", "host %s: address %q is not a host name or IP address", h.Name, h.Address))
	}
	// It ends up in command lines (p4 -p HOST:PORT) and in other servers'
	// configuration (P4TARGET), so it is checked as strictly as address,
	// and a port or protocol belongs elsewhere.
	if sa := h.ServiceAddress; sa != h.Address && (sa == "" || strings.ContainsAny(sa, " \t\n/@") || strings.HasPrefix(sa, "-") ||
		(strings.Contains(sa, ":") && !isIPv6(sa))) {
		*ps = append(*ps, s.At(path+".service_address", "host %s: service_address %q is not a host name or IP address (no port, no protocol)", h.Name, sa))
	}
}

// Vars turns a TOML vars table into strings: values end up in command
// lines, so numbers and booleans are written as they read. Tables and
// arrays are problems, reported at path.
func Vars(s *tomlsrc.Source, ps *tomlsrc.Problems, path string, in map[string]any) map[string]string {
	out := make(map[string]string, len(in))
	for k, v := range in {
		switch v := v.(type) {
		case string:
			out[k] = v
		case int64:
			out[k] = strconv.FormatInt(v, 10)
		case bool:
			out[k] = strconv.FormatBool(v)
		case float64:
			out[k] = strconv.FormatFloat(v, 'f', -1, 64)
		default:
			*ps = append(*ps, s.At(path+"."+k, "%s: a variable must be a string, number or boolean", k))
		}
	}
	return out
}

// Host returns the host named name, or nil.
func (inv *Inventory) Host(name string) *Host {
	for _, h := range inv.Hosts {
		if h.Name == name {
			return h
		}
	}
	return nil
}

// Select returns the hosts a target names: a host name, a role, "all"
// (every host), or a comma-separated list of them ("replica,edge"),
// each host once in file order.
func (inv *Inventory) Select(target string) ([]*Host, error) {
	return inv.selectHosts(target, false)
}

// SelectPresent is Select for a target that may name roles no host has (the
// replicas and edges to repoint after a failover, in a site without any):
// those give no hosts instead of an error.
func (inv *Inventory) SelectPresent(target string) []*Host {
	hs, _ := inv.selectHosts(target, true)
	return hs
}

func (inv *Inventory) selectHosts(target string, present bool) ([]*Host, error) {
	if !strings.Contains(target, ",") {
		hs, err := inv.selectOne(target)
		if err != nil && present {
			return nil, nil
		}
		return hs, err
	}
	want := map[*Host]bool{}
	for _, part := range strings.Split(target, ",") {
		hs, err := inv.selectOne(strings.TrimSpace(part))
		if err != nil && !present {
			return nil, err
		}
		for _, h := range hs {
			want[h] = true
		}
	}
	var out []*Host
	for _, h := range inv.Hosts {
		if want[h] {
			out = append(out, h)
		}
	}
	return out, nil
}

func (inv *Inventory) selectOne(target string) ([]*Host, error) {
	if h := inv.Host(target); h != nil {
		return []*Host{h}, nil
	}
	if r := inv.Roles[target]; r != nil {
		return r.Hosts, nil
	}
	if target == All {
		return inv.Hosts, nil
	}
	hint := ""
	if c := inv.closestName(target); c != "" {
		hint = fmt.Sprintf(" (did you mean %q?)", c)
	}
	return nil, fmt.Errorf("no host or role %q in %s%s", target, inv.File, hint)
}

// SwapRoles exchanges the hosts of two roles, for a pair rebuilt the other
// way round after a failover (failback): the roles keep their own
// variables and labels (server ID, services), the hosts theirs (address,
// P4ROOT, p4dctl name), so one inventory file serves both directions. Each
// role must have hosts, and no host may be named like a role, or a step
// aimed at that name would change meaning with the swap.
func (inv *Inventory) SwapRoles(a, b string) error {
	if a == "" || b == "" || a == b {
		return fmt.Errorf("--swap-roles %q,%q: want two different roles, such as master,standby", a, b)
	}
	for _, r := range []string{a, b} {
		if inv.Roles[r] == nil || len(inv.Roles[r].Hosts) == 0 {
			return fmt.Errorf("--swap-roles: no host has role %q in %s", r, inv.File)
		}
		if h := inv.Host(r); h != nil {
			return fmt.Errorf("--swap-roles: %q is also a host name in %s (line %d): name the hosts apart from their roles (e.g. p4-1, p4-2), so that a step aimed at role %q is not aimed at host %q", r, inv.File, h.Line, r, r)
		}
	}
	ra, rb := inv.Roles[a], inv.Roles[b]
	ra.Hosts, rb.Hosts = rb.Hosts, ra.Hosts
	for _, h := range inv.Hosts {
		for i, r := range h.Roles {
			switch r {
			case a:
				h.Roles[i] = b
			case b:
				h.Roles[i] = a
			}
		}
	}
	inv.Swapped = [2]string{a, b}
	return nil
}

// Label names what a target is in the reader's language: the host's or
// role's label (a one-host role borrows its host's), else its name.
func (inv *Inventory) Label(target, lang string) string {
	if strings.Contains(target, ",") {
		var ls []string
		for _, part := range strings.Split(target, ",") {
			ls = append(ls, inv.Label(strings.TrimSpace(part), lang))
		}
		if lang == "en" {
			return strings.Join(ls, " / ")
		}
		return strings.Join(ls, "・")
	}
	if h := inv.Host(target); h != nil && h.Label.In(lang) != "" {
		return h.Label.In(lang)
	}
	if r := inv.Roles[target]; r != nil {
		if r.Label.In(lang) != "" {
			return r.Label.In(lang)
		}
		if len(r.Hosts) == 1 && r.Hosts[0].Label.In(lang) != "" {
			return r.Hosts[0].Label.In(lang)
		}
	}
	if target == All {
		// 【全ホストで作業します】, "on every host"
		if lang == "ja" {
			return "全ホスト"
		}
		return "every host"
	}
	return target
}

// Var looks a name up for host h: the host's own vars win over its roles'
// (in the order the host lists them), which win over the inventory's.
func (inv *Inventory) Var(h *Host, name string) (string, bool) {
	if v, ok := h.Vars[name]; ok {
		return v, true
	}
	for _, r := range h.Roles {
		if v, ok := inv.Roles[r].Vars[name]; ok {
			return v, true
		}
	}
	v, ok := inv.Vars[name]
	return v, ok
}

// Field returns a host's built-in fields (name, address, service_address,
// port, user) and
// otherwise its variables, so that templates can say {{ host.address }} and
// {{ host.p4root }} alike.
func (inv *Inventory) Field(h *Host, name string) (string, bool) {
	switch name {
	case "name":
		return h.Name, true
	case "address":
		return h.Address, true
	case "service_address":
		return h.ServiceAddress, true
	case "port":
		return strconv.Itoa(h.SSH.Port), true
	case "user":
		if h.SSH.User != "" {
			return h.SSH.User, true
		}
	}
	return inv.Var(h, name)
}

// rawInt returns the integer written at a dotted path of the raw tree.
func rawInt(raw map[string]any, path string) (int64, bool) {
	parts := strings.Split(path, ".")
	cur := raw
	for _, p := range parts[:len(parts)-1] {
		next, ok := cur[p].(map[string]any)
		if !ok {
			return 0, false
		}
		cur = next
	}
	v, ok := cur[parts[len(parts)-1]].(int64)
	return v, ok
}

// identityProblem says what is wrong with a key file, found now rather
// than at the first connection of a run. "~/" is the login user's home,
// as ssh reads it.
func identityProblem(path string) string {
	if rest, ok := strings.CutPrefix(path, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			path = filepath.Join(home, rest)
		}
	}
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "no such file"
	case err != nil:
		return err.Error()
	case !fi.Mode().IsRegular():
		return "not a regular file"
	}
	return ""
}

// checkJumps refuses jump chains through inventory hosts that come back
// to a host already on the way (a → b → a): such a host can never be
// reached, and the run would find out only when dialing.
func checkJumps(s *tomlsrc.Source, ps *tomlsrc.Problems, inv *Inventory) {
	for _, h := range inv.Hosts {
		chain := []string{h.Name}
		seen := map[string]bool{h.Name: true}
		for cur := inv.Host(h.SSH.Jump); cur != nil; cur = inv.Host(cur.SSH.Jump) {
			chain = append(chain, cur.Name)
			if seen[cur.Name] {
				if cur.Name == h.Name && len(chain) > 2 { // a self-jump is reported by checkHost
					at := "hosts." + h.Name + ".jump"
					if own, ok := s.Raw["hosts"].(map[string]any)[h.Name].(map[string]any); !ok || own["jump"] == nil {
						at = "defaults.jump"
					}
					*ps = append(*ps, s.At(at, "host %s: jump hosts form a loop: %s", h.Name, strings.Join(chain, " → ")))
				}
				break
			}
			seen[cur.Name] = true
		}
	}
}

// isIPv6 says whether s is an IPv6 address, the one service_address
// that may hold colons.
func isIPv6(s string) bool {
	ip, err := netip.ParseAddr(s)
	return err == nil && ip.Is6() && ip.Zone() == ""
}
