package p4

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"tejun/steps"
	"tejun/transport"
)

// Trust makes the p4 client trust an ssl: server, fail closed. A p4 client
// refuses every command to an ssl: P4PORT whose key fingerprint is not in
// its P4TRUST file ("The authenticity of 'IP:port' can't be established",
// exit 1), and p4 trust -y would trust whatever key answers: a man in the
// middle included. So the fingerprint comes from the inventory, is
// installed with p4 trust -i, and a server that then presents another key
// (p4's "WARNING P4PORT IDENTIFICATION HAS CHANGED!") stops the run before
// anything is sent to it. A P4PORT without ssl: needs no trust and the step
// has nothing to do (P4 Command Reference, p4 trust and P4TRUST).
type Trust struct {
	steps.RunAs
	Port string `toml:"port" doc:"The server to trust (P4PORT); without an ssl: prefix there is nothing to do."`
	// Fingerprint is the server's key fingerprint as p4d -Gf prints it on
	// the server (20 hex bytes, colon separated).
	Fingerprint string `toml:"fingerprint" doc:"The server's key fingerprint (p4d -Gf on the server), required for an ssl: port; never trusted from the wire."`
	// TrustFile is the P4TRUST file (-E P4TRUST=); default the user's
	// ~/.p4trust.
	TrustFile string `toml:"trust_file" tejun:"path" doc:"The P4TRUST file to write (-E P4TRUST=...); default the user's own ~/.p4trust."`
	// WhenListening: nothing listening on port (a standby not built yet)
	// is nothing to trust yet, not an error.
	WhenListening bool `toml:"when_listening" doc:"Nothing listening on port (a server not built yet) is nothing to trust yet, instead of an error."`
}

var fingerprintPattern = regexp.MustCompile(`^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){19,31}$`)

func (t *Trust) Validate() []steps.Problem {
	ps := steps.Require("p4.trust", "port", t.Port)
	if t.Port != "" {
		ps = append(ps, portProblem("port", t.Port)...)
	}
	switch {
	case t.ssl() && t.Fingerprint == "":
		ps = append(ps, steps.Problem{Key: "fingerprint", Msg: fmt.Sprintf("%s is an ssl: port: its fingerprint is needed (p4d -Gf on the server), tejun never trusts the key that happens to answer", t.Port)})
	case t.Fingerprint != "" && !t.ssl():
		ps = append(ps, steps.Problem{Key: "fingerprint", Msg: fmt.Sprintf("a fingerprint is given, but %s is not an ssl: port: the connection would not be encrypted; add the ssl: protocol or remove the fingerprint", t.Port)})
	case t.Fingerprint != "" && !fingerprintPattern.MatchString(t.Fingerprint):
		ps = append(ps, steps.Problem{Key: "fingerprint", Msg: fmt.Sprintf("fingerprint %q: want hex bytes separated by colons, as p4d -Gf prints it", t.Fingerprint)})
	}
	return ps
}

func (t *Trust) ssl() bool {
	for _, p := range []string{"ssl:", "ssl4:", "ssl6:", "ssl46:", "ssl64:"} {
		if strings.HasPrefix(t.Port, p) {
			return true
		}
	}
	return false
}

func (t *Trust) p4(args ...string) transport.Cmd {
	argv := []string{"p4", "-p", P4Port(t.Port)}
	if t.TrustFile != "" {
		argv = append(argv, "-E", "P4TRUST="+t.TrustFile)
	}
	return transport.Cmd{Argv: append(argv, args...), User: t.Become, CLocale: true}
}

// info is the cheapest command that makes the client check the key; it
// needs no login.
func (t *Trust) info() transport.Cmd    { return t.p4("-ztag", "info") }
func (t *Trust) list() transport.Cmd    { return t.p4("trust", "-l") }
func (t *Trust) install() transport.Cmd { return t.p4("trust", "-i", strings.ToUpper(t.Fingerprint)) }

func (t *Trust) Describe(lang string) steps.Description {
	if !t.ssl() {
		return steps.Description{Notes: []string{steps.T(lang,
			t.Port+" は ssl: ではないため作業不要です（ssl: の P4PORT はサーバのフィンガープリントを信頼してから接続します）",
			t.Port+" is not an ssl: port: nothing to do (an ssl: P4PORT is trusted by its server's fingerprint first)")}}
	}
	d := steps.Description{Notes: []string{steps.T(lang,
		"インベントリのフィンガープリント "+t.Fingerprint+" を信頼します（p4 trust -y は使いません）。サーバが別の鍵を示した場合は、何も変更せずに止まります",
		"Trusts the inventory's fingerprint "+t.Fingerprint+" (never p4 trust -y); a server presenting another key stops the run before anything is changed")},
		Blocks: []steps.Block{steps.CommandBlock(lang, t.install())}}
	if t.WhenListening {
		d.Notes = append(d.Notes, steps.T(lang, t.Port+" でまだ何も応答しなければ（未構築）作業不要です", "Nothing to do while nothing answers on "+t.Port+" (not built yet)"))
	}
	return d
}

func (t *Trust) Plan() steps.Plan {
	if !t.ssl() {
		return steps.Plan{}
	}
	return steps.Plan{Check: steps.Ops(steps.Parsed(t.info()), steps.Parsed(t.list())), Apply: steps.Ops(t.install(), steps.Parsed(t.info()))}
}

// presented reads the key a refusing server sent from p4's message
// ("The fingerprint for the ... key sent to your client is\nFP").
func presented(msg string) string {
	if _, after, ok := strings.Cut(msg, "sent to your client is\n"); ok {
		return strings.TrimSpace(strings.SplitN(after, "\n", 2)[0])
	}
	return "(not shown)"
}

const (
	keyUnknown  = "can't be established"
	keyMismatch = "IDENTIFICATION HAS CHANGED"
)

// Check: done when the client already connects (its trust file holds the
// key the server sent) and that key is the inventory's. A trusted key
// that is not the inventory's is an error: the trust file was given
// another key before (p4 trust -y to whatever answered), and the server
// answering is not proven to be the one the inventory names.
func (t *Trust) Check(ctx context.Context, env steps.Env) (steps.Status, error) {
	if !t.ssl() {
		return steps.Done("%s is not an ssl: port: no trust needed", t.Port), nil
	}
	_, err := env.Run(ctx, t.info(), nil)
	msg := ""
	if err != nil {
		msg = stderrOf(err)
	}
	switch {
	case err == nil:
	case strings.Contains(msg, keyUnknown):
		return steps.NotDone("the p4 client does not trust %s yet (the server sent %s)", t.Port, presented(msg)), nil
	case strings.Contains(msg, keyMismatch):
		return steps.NotDone("the trust file holds another key for %s than the server sent (%s)", t.Port, presented(msg)), nil
	case refused(err) && t.WhenListening:
		return steps.Done("nothing listens on %s yet: nothing to trust", t.Port), nil
	default:
		return steps.Status{}, fmt.Errorf("p4 info on %s: %s", t.Port, strings.TrimSpace(msg))
	}
	out, err := env.Run(ctx, t.list(), nil)
	if err != nil {
		return steps.Status{}, fmt.Errorf("p4 trust -l: %s", strings.TrimSpace(stderrOf(err)))
	}
	if !strings.Contains(strings.ToUpper(out), strings.ToUpper(t.Fingerprint)) {
		return steps.Status{}, fmt.Errorf("the p4 client trusts %s with a key other than the inventory's fingerprint %s (trusted before, perhaps with p4 trust -y): not proven to be the server the inventory names, so the run stops; compare p4d -Gf on the server with the inventory, then remove the entry (p4 -p %s trust -d)", t.Port, t.Fingerprint, t.Port)
	}
	return steps.Done("%s is trusted with the inventory's fingerprint", t.Port), nil
}

// Apply installs the inventory's fingerprint, then connects: a server that
// presents another key is refused by the client from then on, and the
// run stops here, before anything is sent to it.
func (t *Trust) Apply(ctx context.Context, env steps.Env) error {
	if _, err := env.Run(ctx, t.install(), nil); err != nil {
		return fmt.Errorf("p4 trust -i on %s: %s", t.Port, strings.TrimSpace(stderrOf(err)))
	}
	_, err := env.Run(ctx, t.info(), nil)
	if err == nil {
		return nil
	}
	msg := stderrOf(err)
	if strings.Contains(msg, keyMismatch) {
		return fmt.Errorf("the server on %s presents the key %s, not the inventory's fingerprint %s: someone may be intercepting the connection, or the inventory (p4_ssl_fingerprint) is out of date; nothing was sent to that server", t.Port, presented(msg), t.Fingerprint)
	}
	if refused(err) && t.WhenListening {
		return nil
	}
	return fmt.Errorf("p4 info on %s after p4 trust -i: %s", t.Port, strings.TrimSpace(msg))
}

func (t *Trust) Verify(ctx context.Context, env steps.Env) error {
	return steps.VerifyByCheck(ctx, env, t)
}
