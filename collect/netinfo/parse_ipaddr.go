package netinfo

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ParseIPAddr reads the interface list that iproute2 prints with `ip addr`
// (a "2: eth0: <BROADCAST,...> mtu ..." line per interface followed by
// indented detail lines) or `ip -o addr` (one "2: eth0    inet
// 10.0.0.1/24 ...\ ..." line per address), and returns the interfaces in
// the order first seen with their inet and inet6 addresses in input
// order. Lines of the same interface name are merged, so the -o form gives
// one Interface per name. The "@peer" suffix of a name ("veth1a2b@if5",
// "eth0.10@eth0") is dropped. An address printed without a prefix length
// ("inet 10.0.0.1 peer 10.0.0.2/32" of a point-to-point link) gets the
// full length (/32 or /128). Prefixes are kept unmasked: 192.0.2.2/24.
//
// Indented lines other than inet and inet6 (link/ether, valid_lft,
// altname, ...) and empty lines are skipped; interfaces without addresses
// are kept. Any other line is an error naming the line number, as is an
// address before the first interface, an address that does not parse, a
// NUL byte or a line longer than MaxLineLen. Input without any interface
// is an error too: every Linux network namespace has at least lo.
func ParseIPAddr(r io.Reader) ([]Interface, error) {
	var p ipAddrParser
	if err := scanLines(r, "ip addr output", p.line); err != nil {
		return nil, err
	}
	if err := p.finish(); err != nil {
		return nil, fmt.Errorf("ip addr output: %w", err)
	}
	return p.ifaces, nil
}

// ipAddrParser reads ip addr output one line at a time.
type ipAddrParser struct {
	ifaces []Interface
	cur    int // index in ifaces of the current interface
	seen   map[string]int
}

// line handles one input line.
func (p *ipAddrParser) line(s string) error {
	switch {
	case strings.TrimSpace(s) == "":
		return nil
	case s[0] == ' ' || s[0] == '\t':
		return p.detail(s)
	case isIPAddrHeader(s):
		return p.header(s)
	}
	return fmt.Errorf("unexpected line %s; want \"N: name: <FLAGS> ...\" or an indented detail line", quoteShort(s))
}

// finish reports whether any interface was read.
func (p *ipAddrParser) finish() error {
	if len(p.ifaces) == 0 {
		return errors.New("no interfaces; is this ip addr output?")
	}
	return nil
}

// isIPAddrHeader tells whether s starts like an interface line of ip
// addr or ip -o addr: "N: ".
func isIPAddrHeader(s string) bool {
	index, rest, ok := strings.Cut(s, ":")
	return ok && isDigits(index) && strings.HasPrefix(rest, " ")
}

// header handles "2: eth0@if5: <FLAGS> ..." (ip addr) and "2: eth0
// inet 10.0.0.1/24 ..." (ip -o addr).
func (p *ipAddrParser) header(s string) error {
	_, s, _ = strings.Cut(s, ":")
	name, rest := cutField(s)
	oneLine := !strings.HasSuffix(name, ":")
	name = strings.TrimSuffix(name, ":")
	if at := strings.IndexByte(name, '@'); at >= 0 {
		name = name[:at]
	}
	if err := checkIfaceName(name); err != nil {
		return err
	}
	p.open(name)
	if oneLine {
		return p.address(rest, true)
	}
	return nil
}

// open makes the interface called name current, adding it if new.
func (p *ipAddrParser) open(name string) {
	if i, ok := p.seen[name]; ok {
		p.cur = i
		return
	}
	if p.seen == nil {
		p.seen = make(map[string]int)
	}
	p.seen[name] = len(p.ifaces)
	p.cur = len(p.ifaces)
	p.ifaces = append(p.ifaces, Interface{Name: name})
}

// checkIfaceName rejects names the kernel would not allow: empty, with
// white space, '/', non-printable characters or invalid UTF-8.
func checkIfaceName(name string) error {
	bad := strings.IndexFunc(name, func(r rune) bool {
		return r == '/' || r == utf8.RuneError || unicode.IsSpace(r) || !unicode.IsPrint(r)
	})
	if name == "" || bad >= 0 {
		return fmt.Errorf("bad interface name %s", quoteShort(name))
	}
	return nil
}

// detail handles an indented line of an interface block.
func (p *ipAddrParser) detail(s string) error {
	if len(p.ifaces) == 0 {
		f, _ := cutField(s)
		if f == "inet" || f == "inet6" {
			return errors.New("address line before any interface line")
		}
		return nil
	}
	return p.address(s, false)
}

// address parses "inet 10.0.0.1/24 ..." or "inet6 ::1/128 ..." and adds
// the address to the current interface. Other lines are an error when
// required, else skipped.
func (p *ipAddrParser) address(s string, required bool) error {
	family, rest := cutField(s)
	if family != "inet" && family != "inet6" {
		if required {
			return fmt.Errorf("unexpected %s after the interface name; want inet or inet6", quoteShort(family))
		}
		return nil
	}
	text, _ := cutField(rest)
	prefix, err := parseIfacePrefix(text, family == "inet6")
	if err != nil {
		return err
	}
	ifc := &p.ifaces[p.cur]
	ifc.Addrs = append(ifc.Addrs, prefix)
	return nil
}

// parseIfacePrefix parses an interface address such as "10.0.0.1/24" or,
// without a length, "10.0.0.1" (taken as /32). v6 says whether the line
// was inet6.
func parseIfacePrefix(s string, v6 bool) (netip.Prefix, error) {
	var prefix netip.Prefix
	var err error
	if strings.Contains(s, "/") {
		prefix, err = netip.ParsePrefix(s)
	} else {
		var addr netip.Addr
		if addr, err = netip.ParseAddr(s); err == nil {
			prefix = netip.PrefixFrom(addr, addr.BitLen())
		}
	}
	if err != nil || prefix.Addr().Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("bad address %s; want address/length", quoteShort(s))
	}
	if prefix.Addr().Is6() != v6 {
		return netip.Prefix{}, fmt.Errorf("address %s does not match its family", quoteShort(s))
	}
	return prefix, nil
}
