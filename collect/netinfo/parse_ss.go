package netinfo

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// ssStates maps the state names ss prints to netstat's spelling.
var ssStates = map[string]string{
	"ESTAB":      StateEstablished,
	"LISTEN":     StateListen,
	"SYN-SENT":   "SYN_SENT",
	"SYN-RECV":   "SYN_RECV",
	"FIN-WAIT-1": "FIN_WAIT1",
	"FIN-WAIT-2": "FIN_WAIT2",
	"TIME-WAIT":  "TIME_WAIT",
	"UNCONN":     "CLOSE",
	"CLOSE-WAIT": "CLOSE_WAIT",
	"LAST-ACK":   "LAST_ACK",
	"CLOSING":    "CLOSING",
	"UNKNOWN":    "UNKNOWN",
}

// ParseSS reads the TCP socket table that iproute2 ss prints with -tanp or
// -tan (no process column), and returns one Socket per socket line, in
// input order. States are renamed to netstat's spelling (ESTAB becomes
// ESTABLISHED, TIME-WAIT TIME_WAIT, UNCONN CLOSE, ...); a well-formed state
// name ss may add later has its dashes turned into underscores. The
// owner is the first process of the users:(...) column; ss prints the
// name between quotes without escaping it, so the name ends at the first
// `",pid=N,` (or `",N,` of old ss versions) and may itself contain quotes
// and commas. Names are made canonical (CanonicalProcess: a daemon that
// set its comm to its title, "gunicorn: maste", is "gunicorn"; the kernel
// cuts comm to 15 bytes) with what ss printed in Title; invalid UTF-8 and non-printable characters become U+FFFD.
// Interface suffixes ("127.0.0.53%lo:53", "[fe80::1]%eth0:22") are
// dropped. The any address "*" becomes "::": current ss prints it for
// dual-stack IPv6 sockets (netstat prints those as ":::port"), old
// versions also for 0.0.0.0. See parseEndpoint for the address forms.
//
// What is accepted and what is skipped:
//   - Lines before the "State Recv-Q ..." header are skipped (ss prints
//     warnings such as "RTNETLINK answers: ..." there), except lines
//     starting with an ss state name, so a table whose header was cut
//     off still reads.
//   - With a "Netid State Recv-Q ..." header (ss -anp), only tcp lines
//     are read; lines of other socket types (udp, u_str, nl, ...) are
//     skipped.
//   - Lines starting with white space (the extra lines of ss -i, -e or
//     -m) and empty lines are skipped.
//
// Input with neither the header nor any socket line is an error, as is a
// malformed socket line, a NUL byte or a line longer than MaxLineLen;
// errors name the line number. A header with no socket lines is zero
// sockets and no error. The caller bounds the input size.
func ParseSS(r io.Reader) ([]Socket, error) {
	var p ssParser
	if err := scanLines(r, "ss output", p.line); err != nil {
		return nil, err
	}
	if !p.header && len(p.sockets) == 0 {
		return nil, errors.New(`ss output: no "State Recv-Q" header and no socket lines; is this ss -tanp output?`)
	}
	return p.sockets, nil
}

// ssParser reads an ss table one line at a time.
type ssParser struct {
	header  bool // the "State Recv-Q" or "Netid State Recv-Q" header was seen
	netid   bool // the header has a Netid column
	sockets []Socket
}

// line handles one input line.
func (p *ssParser) line(s string) error {
	if strings.TrimSpace(s) == "" || s[0] == ' ' || s[0] == '\t' {
		return nil
	}
	first, rest := cutField(s)
	if !p.header {
		if (first == "State" || first == "Netid") && strings.Contains(rest, "Recv-Q") {
			p.header, p.netid = true, first == "Netid"
			return nil
		}
		if _, known := ssStates[first]; !known {
			return nil // a warning before the header
		}
		return p.socket(first, rest)
	}
	if p.netid {
		if !isNetid(first) {
			return fmt.Errorf("unexpected line %s; want a socket type such as tcp in the Netid column", quoteShort(s))
		}
		if first != "tcp" {
			return nil
		}
		first, rest = cutField(rest)
	}
	return p.socket(first, rest)
}

// socket parses a socket line from its state on: state name, Recv-Q,
// Send-Q, local and peer address and optionally the process column and
// other details.
func (p *ssParser) socket(stateName, s string) error {
	state, ok := ssState(stateName)
	if !ok {
		return fmt.Errorf("unknown state %s; want an ss state such as LISTEN or ESTAB", quoteShort(stateName))
	}
	recvQ, s := cutField(s)
	sendQ, s := cutField(s)
	local, s := cutField(s)
	peer, s := cutField(s)
	if peer == "" {
		return errors.New("too few fields; want State, Recv-Q, Send-Q, Local Address:Port, Peer Address:Port and optionally Process")
	}
	if !isDigits(recvQ) || !isDigits(sendQ) {
		return fmt.Errorf("bad queue sizes %s %s; want numbers", quoteShort(recvQ), quoteShort(sendQ))
	}
	sock := Socket{State: state}
	var err error
	if sock.Local, err = parseEndpoint(local); err != nil {
		return fmt.Errorf("bad local address %s: %w", quoteShort(local), err)
	}
	if sock.Remote, err = parseEndpoint(peer); err != nil {
		return fmt.Errorf("bad peer address %s: %w", quoteShort(peer), err)
	}
	sock.Remote = listenRemote(sock.Remote)
	if sock.PID, sock.Program, err = parseSSUsers(s); err != nil {
		return err
	}
	sock.Program, sock.Title = CanonicalProcess(sock.Program)
	p.sockets = append(p.sockets, sock)
	return nil
}

// ssState returns netstat's spelling of an ss state name, and false if
// name does not look like a state.
func ssState(name string) (string, bool) {
	if state, ok := ssStates[name]; ok {
		return state, true
	}
	state := strings.ReplaceAll(name, "-", "_")
	if !isStateName(state) || state[0] < 'A' || state[0] > 'Z' {
		return "", false
	}
	return state, true
}

// isNetid tells whether s looks like an entry of ss's Netid column (tcp,
// udp, u_str, nl, p_raw, ...).
func isNetid(s string) bool {
	if s == "" || len(s) > 10 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// parseSSUsers returns the PID and name of the first process in the
// users:(("name",pid=N,fd=N),...) part of s, or 0 and "" when there is
// none. Old ss versions print ("name",N,N) instead.
func parseSSUsers(s string) (int, string, error) {
	const start = `users:(("`
	i := strings.Index(s, start)
	if i < 0 {
		if strings.Contains(s, "users:") {
			return 0, "", fmt.Errorf("bad process column %s; want users:((\"name\",pid=N,fd=N),...)", quoteShort(strings.TrimSpace(s)))
		}
		return 0, "", nil
	}
	s = s[i+len(start):]
	for off := 0; ; {
		j := strings.Index(s[off:], `",`)
		if j < 0 {
			return 0, "", fmt.Errorf("bad process column: no \",pid=N after the name in %s", quoteShort(s))
		}
		name, tail := s[:off+j], strings.TrimPrefix(s[off+j+2:], "pid=")
		if num, ok := digitsBefore(tail, ",)"); ok {
			pid, err := parsePID(num)
			if err != nil {
				return 0, "", err
			}
			return pid, cleanName(name), nil
		}
		off += j + 2
	}
}

// digitsBefore returns the run of digits at the start of s if it is
// followed by one of the bytes in ends.
func digitsBefore(s, ends string) (string, bool) {
	n := 0
	for n < len(s) && '0' <= s[n] && s[n] <= '9' {
		n++
	}
	if n == 0 || n == len(s) || strings.IndexByte(ends, s[n]) < 0 {
		return "", false
	}
	return s[:n], true
}
