package p4

import "strings"

// tickets finds the tickets in a p4 login's output: "Enter password:"
// (the prompt, on stdout) aside, a line that is one long word of hex is
// a ticket. Fail closed: anything that looks like one counts.
func tickets(stdout string) []string {
	var out []string
	for _, l := range strings.Split(stdout, "\n") {
		l = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "Enter password:"))
		if len(l) >= 16 && strings.Trim(l, "0123456789abcdefABCDEF") == "" {
			out = append(out, l)
		}
	}
	return out
}
