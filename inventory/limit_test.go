package inventory

import (
	"strings"
	"testing"
)

const fleet = `
[hosts.db-01]
roles = ["db"]
[hosts.db-02]
roles = ["db"]
[hosts.db-03]
roles = ["db", "backup"]
[hosts.web-01]
roles = ["web"]
[hosts.web-02]
roles = ["web", "backup"]
`

func names(hs []*Host) string {
	var ns []string
	for _, h := range hs {
		ns = append(ns, h.Name)
	}
	return strings.Join(ns, " ")
}

// TestLimit: --limit patterns as Ansible reads them, always in inventory
// order, and refused when a term names nothing (a typo must not change
// which hosts a run touches).
func TestLimit(t *testing.T) {
	inv := mustParse(t, fleet)
	for pattern, want := range map[string]string{
		"db-02":            "db-02",
		"web-02,db-01":     "db-01 web-02",
		"db-01:web-01":     "db-01 web-01",
		"db-*":             "db-01 db-02 db-03",
		"*-0[12]":          "db-01 db-02 web-01 web-02",
		"!db-03":           "db-01 db-02 web-01 web-02",
		"db,!db-03":        "db-01 db-02",
		"db-*,!db-03,web":  "db-01 db-02 web-01 web-02",
		"all":              "db-01 db-02 db-03 web-01 web-02",
		"all,!web-*":       "db-01 db-02 db-03",
		"db,&backup":       "db-03",
		"back*":            "db-03 web-02",
		"db-01, db-02":     "db-01 db-02",
		"!db,!web-01":      "web-02",
		"db-01,db-01,db-*": "db-01 db-02 db-03",
	} {
		hs, err := inv.Limit(pattern)
		if err != nil || names(hs) != want {
			t.Errorf("Limit(%q) = %q, %v; want %q", pattern, names(hs), err, want)
		}
	}
	for pattern, want := range map[string]string{
		"db-4":       `no host or role "db-4" in inv.toml (did you mean "db"?)`,
		"!db-04":     `no host or role "db-04"`,
		"x-*":        `--limit "x-*" matches no host or role in inv.toml (hosts: db-01, db-02, db-03, web-01, web-02)`,
		"db,!db":     `selects no host`,
		"db-[":       `not a valid pattern`,
		",":          `empty --limit pattern`,
		"db,!":       `an empty name`,
		"db,&web-01": `selects no host`,
	} {
		if _, err := inv.Limit(pattern); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Limit(%q) error = %v, want %q", pattern, err, want)
		}
	}
}

// TestAllReserved: on = "all" is every host, so no host or role may be
// called all, nor carry the characters a pattern reads.
func TestAllReserved(t *testing.T) {
	inv := mustParse(t, fleet)
	if hs, err := inv.Select(All); err != nil || len(hs) != 5 {
		t.Errorf("Select(all) = %v, %v", names(hs), err)
	}
	if got := inv.Label(All, "ja") + "/" + inv.Label(All, "en"); got != "全ホスト/every host" {
		t.Errorf("Label(all) = %q", got)
	}
	for src, want := range map[string]string{
		"[hosts.all]\n":                        `host "all": the name all is reserved`,
		"[hosts.h1]\nroles = [\"all\"]\n":      `role "all": the name all is reserved`,
		"[hosts.\"db*\"]\n":                    `host "db*": "*" cannot be in a name`,
		"[hosts.h1]\nroles = [\"a,b\"]\n":      `role "a,b": "," cannot be in a name`,
		"[hosts.\"!h\"]\naddress = \"h\"\n":    `host "!h": "!" cannot be in a name`,
		"[hosts.h1]\nroles = [\"web:blue\"]\n": `role "web:blue": ":" cannot be in a name`,
	} {
		if _, err := Parse("inv.toml", []byte(src)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want %q", src, err, want)
		}
	}
}
