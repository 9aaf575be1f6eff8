package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Configurables as p4d keeps them in db.config, keyed "SERVERID#name"
// ("any#name" for every server).
//
// p4d -cset/-cshow work on the root's db.config directly, without a
// running server (P4 Command Reference, p4d: "-cset [server#]var=val",
// "-cunset", "-cshow"; the HA manual's 参照サーバの変更 runs them on an edge
// server's root as the OS user). Their messages are p4 configure's: "For
// server 'edge1', configuration variable 'P4TARGET' set to '...'", and
// -cshow lists "edge1: P4TARGET = ..." (the manual's 実行結果). A server
// that is running picks the change up (the pull threads read P4TARGET
// again on their next connection, which is why the manual's next step is
// just p4 pull -lj).

// configKey turns "[server#]var" into the db.config key.
func configKey(s string) (key, server, name string) {
	server, name, ok := strings.Cut(s, "#")
	if !ok {
		server, name = "any", s
	}
	return server + "#" + name, server, name
}

// cset is p4d -cset / -cunset on root.
func cset(root, arg string, unset bool) int {
	db, err := loadDB(root)
	if err != nil {
		return die("%v", err)
	}
	if unset {
		key, server, name := configKey(arg)
		delete(db.Config, key)
		db.configChanged = true
		if err := db.save(root); err != nil {
			return die("Perforce server error:\n\t%v", err)
		}
		fmt.Printf("For server '%s', configuration variable '%s' removed.\n", server, name)
		return 0
	}
	kv, val, ok := strings.Cut(arg, "=")
	if !ok || kv == "" {
		return die("Usage: p4d -cset [server#]var=value")
	}
	key, server, name := configKey(kv)
	db.Config[key] = val
	db.configChanged = true
	if err := db.save(root); err != nil {
		return die("Perforce server error:\n\t%v", err)
	}
	fmt.Printf("For server '%s', configuration variable '%s' set to '%s'\n", server, name, val)
	return 0
}

// cshow is p4d -cshow: every configurable in db.config, "server: var = value".
func cshow(root string) int {
	db, err := loadDB(root)
	if err != nil {
		return die("%v", err)
	}
	fmt.Print(configLines(db.Config, false))
	return 0
}

// configLines lists configurables sorted by server then name, as
// p4 configure show allservers and p4d -cshow print them; tagged, each is
// a record with ServerName, Type, Name and Value (p4 -ztag configure show).
func configLines(cfg map[string]string, tag bool) string {
	keys := make([]string, 0, len(cfg))
	for k := range cfg {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		server, name, _ := strings.Cut(k, "#")
		if tag {
			b.WriteString(tagged([][2]string{{"ServerName", server}, {"Type", "configure"}, {"Name", name}, {"Value", cfg[k]}}) + "\n")
			continue
		}
		fmt.Fprintf(&b, "%s: %s = %s\n", server, name, cfg[k])
	}
	return b.String()
}

// configure is p4 configure set/unset/show on a running server.
func (d *daemon) configure(req *Request) Response {
	a := req.Args
	switch {
	case len(a) == 2 && a[0] == "set":
		kv, val, found := strings.Cut(a[1], "=")
		if !found || kv == "" {
			return fail("Usage: configure set [serverid#]variable=value")
		}
		key, server, name := configKey(kv)
		d.db.Config[key] = val
		d.db.configChanged = true
		d.db.write("configure " + key)
		return ok("For server '%s', configuration variable '%s' set to '%s'\n", server, name, val)
	case len(a) == 2 && a[0] == "unset":
		key, server, name := configKey(a[1])
		if _, set := d.db.Config[key]; !set {
			return fail("Configuration variable '%s' did not have a value.", name)
		}
		delete(d.db.Config, key)
		d.db.configChanged = true
		d.db.write("configure unset " + key)
		return ok("For server '%s', configuration variable '%s' removed.\n", server, name)
	case len(a) == 2 && a[0] == "show" && a[1] == "allservers":
		return ok("%s", configLines(d.db.Config, req.Tag))
	case len(a) == 1 && a[0] == "show":
		return ok("%s", configLines(d.db.configScoped(d.id), req.Tag))
	}
	return fail("Usage: configure [ set | unset | show [allservers] ] ...")
}

// configScoped is the db.config entries that apply to id (its own and any#).
func (db *DB) configScoped(id string) map[string]string {
	out := map[string]string{}
	for k, v := range db.Config {
		if strings.HasPrefix(k, "any#") || strings.HasPrefix(k, id+"#") {
			out[k] = v
		}
	}
	return out
}

// reloadConfig takes db.config changes another process (p4d -cset) made
// in the root while this server runs, as the shared db.config of a real
// server would show them.
func (d *daemon) reloadConfig() {
	fi, err := os.Stat(filepath.Join(d.root, dbFile))
	if err != nil || fi.ModTime().Equal(d.savedMod) {
		return
	}
	disk, err := loadDB(d.root)
	if err != nil {
		return
	}
	d.db.Config = disk.Config
	d.savedMod = fi.ModTime()
}

// save writes the database, keeping a db.config change another process
// made since this server's last write.
func (d *daemon) save() error {
	d.reloadConfig()
	err := d.db.save(d.root)
	if fi, serr := os.Stat(filepath.Join(d.root, dbFile)); serr == nil {
		d.savedMod = fi.ModTime()
	}
	return err
}

// applyConfig takes the master's configurables as a journal would bring
// them: only entries the master changed since the last fetch, so that a
// replica's own p4d -cset stays until the master changes the same entry
// (the admin guide: configurables changed on an edge are not sent
// upstream, and must be set on the commit server by hand).
func (d *daemon) applyConfig(master map[string]string) {
	if d.db.AppliedConfig == nil {
		d.db.AppliedConfig = map[string]string{}
	}
	for k, v := range master {
		if old, seen := d.db.AppliedConfig[k]; !seen || old != v {
			d.db.Config[k] = v
			d.db.configChanged = true
		}
	}
	for k := range d.db.AppliedConfig {
		if _, still := master[k]; !still {
			delete(d.db.Config, k)
			d.db.configChanged = true
		}
	}
	d.db.AppliedConfig = copyMap(master)
}

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
