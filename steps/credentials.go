package steps

// Credentialer is implemented by kinds whose commands print credentials
// (p4 login -p prints a ticket on stdout). The executor asks it about
// each line of a command's output as the line arrives, before the line is
// logged (-v streams output), and about the whole output once the command
// ends; it masks what it returns everywhere for the rest of the run: a
// ticket is as good as the password it came from. So Credentials must find
// a credential in the one line that holds it.
type Credentialer interface {
	Credentials(stdout string) []string
}
