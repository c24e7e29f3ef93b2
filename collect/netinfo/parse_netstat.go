package netinfo

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxLineLen is the longest input line the parsers accept, in bytes; a
// longer line is an error. Real netstat, ss and ip lines are well under
// 1 KiB.
const MaxLineLen = 64 << 10

// netstatShortAddrLen is the width netstat without -W squeezes an
// "address:port" into: it cuts the address so that the whole is this
// long.
const netstatShortAddrLen = 23

// ParseNetstat reads the TCP socket table that net-tools netstat prints
// with -antp, -ant (no PID/Program column), -antpW (wide) or -antlp, and
// returns one Socket per tcp or tcp6 line, in input order.
//
// What is accepted and what is skipped:
//   - Lines before the "Proto Recv-Q ..." header are skipped: the
//     "Active Internet connections" title and the warnings netstat prints
//     about -p when not run as root. tcp lines there are parsed, so a
//     table whose header was cut off still reads.
//   - After the header, udp, udp6, udpl, udpl6, raw and raw6 lines are
//     skipped, as are empty lines; an "Active ..." title (the "Active UNIX
//     domain sockets" section of netstat -a) ends the table and the rest
//     of the input is skipped. Any other line is an error.
//   - netstat without -W cuts long IPv6 addresses to fit its 23-character
//     column. A tcp6 line whose address is exactly that long and does not
//     parse is such a cut address; the line is skipped. A cut address
//     that still parses (rarely) is returned as printed: use -W.
//   - "-" in the PID/Program column means no owner (PID 0, Program "").
//     Program is the canonical name (CanonicalProcess: "nginx: master"
//     becomes "nginx") and Title what netstat printed, cut at its column
//     width; invalid UTF-8 and non-printable characters in it become
//     U+FFFD.
//
// Input with neither the header nor any tcp line is an error, as is a
// malformed tcp line, a NUL byte or a line longer than MaxLineLen; errors
// name the line number. A header with no socket lines is zero sockets
// and no error. The caller bounds the input size (e.g. io.LimitReader);
// memory use is proportional to it.
func ParseNetstat(r io.Reader) ([]Socket, error) {
	var p netstatParser
	if err := scanLines(r, "netstat output", p.line); err != nil {
		return nil, err
	}
	if err := p.finish(); err != nil {
		return nil, fmt.Errorf("netstat output: %w", err)
	}
	return p.sockets, nil
}

// netstatParser reads a netstat table one line at a time.
type netstatParser struct {
	header  bool // the "Proto Recv-Q" header was seen
	done    bool // a non-Internet section started; ignore the rest
	tcp     bool // a tcp or tcp6 line was seen
	sockets []Socket
	// Sections of an agent answer (netns_format.go): the namespace
	// whose sockets follow, the namespaces seen, and the forwards.
	netns      string
	netnsList  []NetnsInfo
	inForwards bool
	forwards   []Forward
}

// line handles one input line.
func (p *netstatParser) line(s string) error {
	if p.done {
		return nil
	}
	proto, rest := cutField(s)
	switch {
	case proto == "":
		return nil
	case p.inForwards && proto != "Active":
		fw, err := parseForwardLine(s)
		p.forwards = append(p.forwards, fw)
		return err
	case proto == "tcp" || proto == "tcp6" || p.header && (proto == "udp" || proto == "udp6"):
		p.tcp = p.tcp || proto[0] == 't'
		parse := parseNetstatSocket
		if proto[0] == 'u' {
			parse = func(_, rest string) (Socket, bool, error) { return parseNetstatUDP(rest) }
		}
		sock, ok, err := parse(proto, rest)
		if err != nil || !ok {
			return err
		}
		sock.Netns = p.netns
		p.sockets = append(p.sockets, sock)
	case isNetstatHeader(s):
		p.header = true
	case !p.header:
		// Title and warnings before the header.
	case isNetstatOtherProto(proto):
	case proto == "Active":
		ok, err := p.section(s)
		p.done = !ok
		return err
	default:
		return fmt.Errorf("unexpected line %s; want tcp or tcp6 socket lines", quoteShort(s))
	}
	return nil
}

// finish reports whether what was read was a netstat table at all.
func (p *netstatParser) finish() error {
	if !p.header && !p.tcp {
		return errors.New(`no "Proto Recv-Q" header and no tcp lines; is this netstat -antp output?`)
	}
	return nil
}

// isNetstatHeader tells whether s is netstat's column header line.
func isNetstatHeader(s string) bool {
	return strings.HasPrefix(s, "Proto ") && strings.Contains(s, "Recv-Q")
}

// isNetstatOtherProto tells whether proto is a non-TCP protocol netstat -a
// lists in its Internet section.
func isNetstatOtherProto(proto string) bool {
	switch proto {
	case "udp", "udp6", "udpl", "udpl6", "raw", "raw6":
		return true
	}
	return false
}

// parseNetstatSocket parses what follows the proto field of a tcp line:
// Recv-Q, Send-Q, local and foreign address, state and, with -p, the
// PID/Program column (which may contain spaces). ok is false for a line
// to skip (an address cut by netstat).
func parseNetstatSocket(proto, s string) (sock Socket, ok bool, err error) {
	recvQ, s := cutField(s)
	sendQ, s := cutField(s)
	local, s := cutField(s)
	remote, s := cutField(s)
	state, s := cutField(s)
	if state == "" {
		return Socket{}, false, errors.New("too few fields; want Proto, Recv-Q, Send-Q, Local Address, Foreign Address, State and optionally PID/Program name")
	}
	if !isDigits(recvQ) || !isDigits(sendQ) {
		return Socket{}, false, fmt.Errorf("bad queue sizes %s %s; want numbers", quoteShort(recvQ), quoteShort(sendQ))
	}
	if sock.Local, err = parseEndpoint(local); err != nil {
		if netstatCut(proto, local) {
			return Socket{}, false, nil
		}
		return Socket{}, false, fmt.Errorf("bad local address %s: %w", quoteShort(local), err)
	}
	if sock.Remote, err = parseEndpoint(remote); err != nil {
		if netstatCut(proto, remote) {
			return Socket{}, false, nil
		}
		return Socket{}, false, fmt.Errorf("bad foreign address %s: %w", quoteShort(remote), err)
	}
	sock.Remote = listenRemote(sock.Remote)
	if !isStateName(state) {
		return Socket{}, false, fmt.Errorf("bad state %s", quoteShort(state))
	}
	sock.State = intern(state)
	if sock.PID, sock.Program, err = parsePIDProgram(strings.TrimSpace(s)); err != nil {
		return Socket{}, false, err
	}
	sock.Program, sock.Title = CanonicalProcess(sock.Program)
	return sock, true, nil
}

// netstatCut tells whether addr, which did not parse, is an IPv6 address
// that netstat without -W cut to fit its column.
func netstatCut(proto, addr string) bool {
	return proto == "tcp6" && len(addr) == netstatShortAddrLen
}

// parsePIDProgram parses netstat's PID/Program name column: "1234/sshd",
// "1234/nginx: master" or "-"; empty (no -p) is no owner too.
func parsePIDProgram(s string) (int, string, error) {
	if s == "" || s == "-" {
		return 0, "", nil
	}
	pidText, program, ok := strings.Cut(s, "/")
	if !ok {
		return 0, "", fmt.Errorf("bad PID/Program name %s; want PID/name or -", quoteShort(s))
	}
	pid, err := parsePID(pidText)
	if err != nil {
		return 0, "", err
	}
	return pid, cleanName(program), nil
}

// parsePID parses a process ID: a positive decimal number that fits in 32
// bits, as Linux PIDs do.
func parsePID(s string) (int, error) {
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil || n <= 0 || !isDigits(s) {
		return 0, fmt.Errorf("bad PID %s; want a positive number", quoteShort(s))
	}
	return int(n), nil
}

// parseEndpoint parses one end of a socket as netstat -n and ss -n print
// it: "127.0.0.1:22", "0.0.0.0:*", ":::80", "::ffff:10.0.0.1:443" and
// "fe80::1:22" (netstat, IPv6 unbracketed), "[::1]:22", "[::]:*", "*:80",
// "*:*" (ss), with an interface suffix as ss prints it for sockets bound
// to a device ("127.0.0.53%lo:53", "[fe80::1]%eth0:22") or in the zone
// form "[fe80::1%eth0]:22". The interface is dropped; "*" is the IPv6
// any address (ss prints it for a dual-stack socket); "*" as port is 0;
// IPv4-mapped IPv6 addresses are unmapped. The result has a valid address.
func parseEndpoint(s string) (netip.AddrPort, error) {
	host, port, err := splitEndpoint(s)
	if err != nil {
		return netip.AddrPort{}, err
	}
	p, err := parsePort(port)
	if err != nil {
		return netip.AddrPort{}, err
	}
	addr, err := parseHost(host)
	if err != nil {
		return netip.AddrPort{}, err
	}
	return netip.AddrPortFrom(addr, p), nil
}

// splitEndpoint splits "host:port" or "[host]:port" into host and port.
// Any "%interface" after the closing bracket is dropped; one inside the
// brackets or in an unbracketed host is left for parseHost.
func splitEndpoint(s string) (host, port string, err error) {
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", "", errors.New("no closing ]")
		}
		host, rest := s[1:end], s[end+1:]
		if rest, ok := strings.CutPrefix(rest, "%"); ok {
			_, rest, _ = strings.Cut(rest, ":")
			return host, rest, nil
		}
		if rest, ok := strings.CutPrefix(rest, ":"); ok {
			return host, rest, nil
		}
		return "", "", errors.New("no :port after ]")
	}
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return "", "", errors.New("no :port")
	}
	return s[:i], s[i+1:], nil
}

// parsePort parses a numeric port or "*" (port 0).
func parsePort(s string) (uint16, error) {
	if s == "*" {
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil || !isDigits(s) {
		return 0, fmt.Errorf("port %s is not a number; run the tool with -n", quoteShort(s))
	}
	return uint16(n), nil
}

// parseHost parses the address part of an endpoint: a numeric IPv4 or
// IPv6 address, possibly followed by "%interface", or "*".
func parseHost(s string) (netip.Addr, error) {
	if s == "*" {
		return netip.IPv6Unspecified(), nil
	}
	if i := strings.IndexByte(s, '%'); i >= 0 {
		s = s[:i]
	}
	addr, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("address %s is not a numeric IP address; run the tool with -n", quoteShort(s))
	}
	return addr.Unmap(), nil
}

// listenRemote turns the "any address, no port" remote end that netstat
// and ss print for listening sockets into the zero AddrPort.
func listenRemote(ap netip.AddrPort) netip.AddrPort {
	if ap.Port() == 0 && ap.Addr().IsUnspecified() {
		return netip.AddrPort{}
	}
	return ap
}

// isStateName tells whether s looks like a TCP state in netstat's
// spelling: 1 to 20 upper-case letters, digits and underscores. Unknown
// but well-formed names (from newer tools) are accepted.
func isStateName(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// isDigits tells whether s is a non-empty run of ASCII digits.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// cleanName returns a process name with invalid UTF-8 and non-printable
// characters (other than space) replaced by U+FFFD.
func cleanName(s string) string {
	ok := func(r rune) bool { return r != utf8.RuneError && unicode.IsPrint(r) }
	if strings.IndexFunc(s, func(r rune) bool { return !ok(r) }) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if !ok(r) {
			r = utf8.RuneError
		}
		b.WriteRune(r)
	}
	return b.String()
}

// cutField returns the first whitespace-separated field of s and the rest
// of s after it (with its leading whitespace).
func cutField(s string) (field, rest string) {
	s = strings.TrimLeft(s, " \t")
	i := strings.IndexAny(s, " \t")
	if i < 0 {
		return s, ""
	}
	return s[:i], s[i:]
}

// quoteShort quotes s for an error message, cut to 60 bytes.
func quoteShort(s string) string {
	const max = 60
	if len(s) > max {
		return strconv.Quote(s[:max]) + "..."
	}
	return strconv.Quote(s)
}

// scanLines calls fn with each line of r, without its line ending. It
// stops at the first error: fn's, prefixed with what and the line number,
// a line longer than MaxLineLen, a NUL byte, or a read error.
func scanLines(r io.Reader, what string, fn func(line string) error) error {
	sc := bufio.NewScanner(r)
	// Room for the line ending, so a line of exactly MaxLineLen is read.
	sc.Buffer(make([]byte, 0, 4096), MaxLineLen+2)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if len(line) > MaxLineLen {
			return fmt.Errorf("%s line %d: longer than %d bytes; is this really %s?", what, n, MaxLineLen, what)
		}
		if strings.IndexByte(line, 0) >= 0 {
			return fmt.Errorf("%s line %d: NUL byte; this is binary data, not %s", what, n, what)
		}
		if err := fn(line); err != nil {
			return fmt.Errorf("%s line %d: %w", what, n, err)
		}
	}
	switch err := sc.Err(); {
	case errors.Is(err, bufio.ErrTooLong):
		return fmt.Errorf("%s line %d: longer than %d bytes; is this really %s?", what, n+1, MaxLineLen, what)
	case err != nil:
		return fmt.Errorf("read %s: %w", what, err)
	}
	return nil
}
