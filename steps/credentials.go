package steps

// Credentialer is implemented by kinds whose commands print credentials
// (p4 login -p prints a ticket on stdout). The executor asks it about
// every command's output before anything of that output is logged, and
// masks what it returns everywhere for the rest of the run: a ticket is
// as good as the password it came from.
type Credentialer interface {
	Credentials(stdout string) []string
}
