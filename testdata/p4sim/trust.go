package main

import (
	"crypto/sha1"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
)

// SSL ports. A p4d whose P4PORT has an ssl: prefix serves only clients
// that connect with one, and a p4 client with an ssl: P4PORT refuses to
// talk to a server whose key fingerprint is not in its P4TRUST file
// (default ~/.p4trust), until p4 trust puts it there (P4 Command
// Reference, p4 trust and P4TRUST; the p4api's clienttrust.cc and
// msgrpc.cc for the texts below).
//
// No TLS is spoken: the simulator's wire format stays plain JSON, and the
// "key" is a fingerprint the server derives from its root (a real p4d's
// comes from the certificate in its P4SSLDIR, made by p4d -Gc; p4d -Gf
// prints it). What is modelled is what a client sees: the fingerprint
// check, its refusals and exit codes, and p4 trust. A replica's threads
// are clients of its P4TARGET too: they check the key against the file
// its P4TRUST configurable names (the OS user's ~/.p4trust without one).

var sslProtos = []string{"ssl:", "ssl4:", "ssl6:", "ssl46:", "ssl64:"}

// sslPort says whether a P4PORT names the ssl protocol, and strips it.
func sslPort(port string) (string, bool) {
	for _, p := range sslProtos {
		if rest, ok := strings.CutPrefix(port, p); ok {
			return rest, true
		}
	}
	return port, false
}

// fingerprintOf is a server's key fingerprint: 20 bytes, hex, colon
// separated, as p4 prints a SHA-1 fingerprint.
func fingerprintOf(root string) string {
	abs, _ := filepath.Abs(root)
	sum := sha1.Sum([]byte("p4sim-ssl-key:" + abs))
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}

// peerOf is the key a trust file files a server under: its IP address and
// port, as the client resolved P4PORT (clienttrust.cc: GetPeerAddress).
func peerOf(port string) string {
	addr := dialAddr(port)
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ips, err := net.LookupHost(host); err == nil && len(ips) > 0 {
		host = ips[0]
	}
	return net.JoinHostPort(host, p)
}

// trustPath is the P4TRUST file: -E P4TRUST=, the environment, or
// ~/.p4trust.
func trustPath(set string) string {
	if set != "" {
		return set
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".p4trust")
}

// trusted reads the fingerprint trusted for peer. Entries are written as
// the p4 client's ticket file writes them, "PEER=**++**:FINGERPRINT"
// (clienttrust.cc files them under the pseudo user "**++**").
func trusted(path, peer string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	for _, l := range strings.Split(string(data), "\n") {
		if fp, ok := strings.CutPrefix(strings.TrimSpace(l), peer+"=**++**:"); ok {
			return fp
		}
	}
	return ""
}

func installTrust(path, peer, fp string) error {
	var keep []string
	if data, err := os.ReadFile(path); err == nil {
		for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			if l != "" && !strings.HasPrefix(l, peer+"=**++**:") {
				keep = append(keep, l)
			}
		}
	}
	keep = append(keep, peer+"=**++**:"+fp)
	return os.WriteFile(path, []byte(strings.Join(keep, "\n")+"\n"), 0o600)
}

// hostKeyUnknown and hostKeyMismatch are MsgRpc::HostKeyUnknown and
// MsgRpc::HostKeyMismatch (msgrpc.cc); the command named in the last line
// is the one the client suggests.
func hostKeyUnknown(peer, fp string) string {
	return "The authenticity of '" + peer + "' can't be established,\nthis may be your first attempt to connect to this P4PORT.\nThe fingerprint for the key sent to your client is\n" + fp + "\nTo allow connection use the 'p4 trust' command."
}

func hostKeyMismatch(peer, fp string) string {
	return "******* WARNING P4PORT IDENTIFICATION HAS CHANGED! *******\nIt is possible that someone is intercepting your connection\nto the Perforce P4PORT '" + peer + "'\nIf this is not a scheduled key change, then you should contact\nyour Perforce administrator.\nThe fingerprint for the mismatched key sent to your client is\n" + fp + "\nTo allow connection use the 'p4 trust' command."
}

// serverKey asks an ssl: server for its fingerprint, as the TLS handshake
// would hand it over.
// A server that answers but is no ssl: server refuses (refusal), one that
// does not answer is err.
func serverKey(port string) (fp, refusal string, err error) {
	resp, err := call(port, &Request{Cmd: "ssl-key", SSL: true, Port: port})
	if err != nil {
		return "", "", err
	}
	if resp.Code != 0 {
		return "", strings.TrimSpace(resp.Err), nil
	}
	return strings.TrimSpace(resp.Out), "", nil
}

func connectFailed(port string) int {
	return die("Perforce client error:\n\tConnect to server failed; check $P4PORT.\n\tTCP connect to %s failed.\n\tconnect: %s: Connection refused", port, port)
}

// checkTrust is what the p4 client does before its first command on an
// ssl: P4PORT: the server's key must be the one its trust file holds.
// It returns the refusal's text, "" when trusted.
func checkTrust(port, trustFile string) (string, error) {
	fp, refusal, err := serverKey(port)
	if err != nil || refusal != "" {
		return refusal, err
	}
	peer := peerOf(port)
	switch have := trusted(trustPath(trustFile), peer); {
	case have == "":
		return hostKeyUnknown(peer, fp), nil
	case !strings.EqualFold(have, fp):
		return hostKeyMismatch(peer, fp), nil
	}
	return "", nil
}

// trustCmd is p4 trust (clienttrust.cc): -i FP installs FP whatever the
// server sent (reporting the server's key if none was known), -y trusts
// the key the server sent, -f is needed to replace a mismatched one, -d
// removes the entry, -l lists; without an ssl: port there is nothing to
// trust.
func trustCmd(port, trustFile string, args []string) int {
	var install string
	yes, force, del, list := false, false, false, false
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "-i":
			if i+1 >= len(args) {
				return die("Usage: p4 [ -p port ] trust [ -y -n -d -l -f -r -i <fingerprint> ]")
			}
			i++
			install = args[i]
		case "-y":
			yes = true
		case "-f":
			force = true
		case "-d":
			del = true
		case "-l":
			list = true
		case "-n":
		default:
			return die("p4 [ -p port ] trust [ -y -n -d -l -f -r -i <fingerprint> ]\n\tOnly one of -y -n -d -l -i is allowed.\n\tUse p4 trust -h for detailed help.")
		}
	}
	if _, ssl := sslPort(port); !ssl {
		fmt.Println("Only SSL connections require trust")
		return 0
	}
	path := trustPath(trustFile)
	if list {
		data, _ := os.ReadFile(path)
		for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			if peer, fp, ok := strings.Cut(l, "=**++**:"); ok {
				fmt.Printf("%s %s\n", peer, fp)
			}
		}
		return 0
	}
	fp, refusal, err := serverKey(port)
	if err != nil {
		return connectFailed(port)
	}
	if refusal != "" {
		return die("%s", refusal)
	}
	peer := peerOf(port)
	peername := "'" + port + "' (" + peer + ")"
	have := trusted(path, peer)
	if install != "" {
		if have == "" {
			fmt.Printf("The fingerprint of the server of your P4PORT setting\n%s is not known.\nThat fingerprint is %s\n", peername, fp)
		} else if !strings.EqualFold(have, fp) {
			fmt.Fprintln(os.Stderr, hostKeyMismatch(peer, fp))
		}
		if err := installTrust(path, peer, install); err != nil {
			return die("%v", err)
		}
		fmt.Printf("Added trust for P4PORT %s\n", peername)
		return 0
	}
	if have != "" && strings.EqualFold(have, fp) {
		fmt.Println("Trust already established.")
		return 0
	}
	if del {
		return 0
	}
	if have != "" && !force {
		fmt.Fprintln(os.Stderr, hostKeyMismatch(peer, fp))
		fmt.Println("Can't trust mismatched P4PORT key without the '-f' force option.")
		return 1
	}
	if !yes {
		fmt.Print("Are you sure you want to establish trust (yes/no)? ")
		return 1
	}
	if err := installTrust(path, peer, fp); err != nil {
		return die("%v", err)
	}
	fmt.Printf("Added trust for P4PORT %s\n", peername)
	return 0
}
