package netinfo

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Lines the original C agent wrote in place of a part whose command
// failed. The Go agent writes agentNetstatFailed as its whole answer.
const (
	agentNetstatFailed = "Error when calling netstat!"
	agentIPAddrFailed  = "Error when calling ip addr!"
)

// maxHostnameLen bounds the hostname= value (a DNS name has at most 253
// bytes).
const maxHostnameLen = 255

// ParseAgent reads an answer of the DOTM agent protocol, as the original
// C agent and the Go agent (WriteAgent) write it:
//
//	hostname=<name>
//	<netstat -antlp or -antp output, header lines included>
//	<optional empty line>
//	<ip addr output>
//
// The netstat part is read as ParseNetstat does and ends at the first
// line that starts an ip addr interface block ("1: lo: <...>"); the rest
// is read as ParseIPAddr does. Hostname is the value of the first line
// with surrounding white space removed; it may be empty.
//
// An answer with the agent's error line ("Error when calling netstat!",
// "Error when calling ip addr!") at the start of a line is an error naming
// the part that failed, also when the error line is the whole answer. So
// is a missing hostname= line, a hostname with non-printable characters
// or longer than 255 bytes, a missing part (a cut answer) and any error
// of the two parsers; errors name the line of the whole answer.
func ParseAgent(r io.Reader) (*Host, error) {
	var p agentParser
	if err := scanLines(r, "agent answer", p.line); err != nil {
		return nil, err
	}
	return p.finish()
}

// Stages of an agent answer.
const (
	agentHostname = iota
	agentNetstat
	agentIPAddr
)

// agentParser reads an agent answer one line at a time.
type agentParser struct {
	stage   int
	host    Host
	netstat netstatParser
	ipAddr  ipAddrParser
}

// line handles one input line.
func (p *agentParser) line(s string) error {
	switch t := strings.TrimSpace(s); {
	case strings.HasPrefix(t, agentNetstatFailed):
		return errors.New(`the host could not run netstat (the agent answered "Error when calling netstat!"); check that net-tools is installed there`)
	case strings.HasPrefix(t, agentIPAddrFailed):
		return errors.New(`the host could not run ip addr (the agent answered "Error when calling ip addr!"); check that iproute2 is installed there`)
	}
	switch p.stage {
	case agentHostname:
		return p.hostname(s)
	case agentNetstat:
		if !isIPAddrHeader(s) {
			return prefixErr("netstat part: ", p.netstat.line(s))
		}
		if err := p.netstat.finish(); err != nil {
			return fmt.Errorf("netstat part: %w", err)
		}
		p.stage = agentIPAddr
	}
	return prefixErr("ip addr part: ", p.ipAddr.line(s))
}

// hostname handles the first line, "hostname=<name>".
func (p *agentParser) hostname(s string) error {
	name, ok := strings.CutPrefix(s, "hostname=")
	if !ok {
		return fmt.Errorf("want \"hostname=<name>\", got %s; is this a dotm agent?", quoteShort(s))
	}
	name = strings.TrimSpace(name)
	bad := strings.IndexFunc(name, func(r rune) bool { return r == utf8.RuneError || !unicode.IsPrint(r) })
	if bad >= 0 || len(name) > maxHostnameLen {
		return fmt.Errorf("bad hostname %s", quoteShort(name))
	}
	p.host.Hostname = name
	p.stage = agentNetstat
	return nil
}

// finish checks that every part was there and returns the host.
func (p *agentParser) finish() (*Host, error) {
	switch p.stage {
	case agentHostname:
		return nil, errors.New("agent answer: empty; want a hostname= line, netstat and ip addr output")
	case agentNetstat:
		if err := p.netstat.finish(); err != nil {
			return nil, fmt.Errorf("agent answer: netstat part: %w", err)
		}
		return nil, errors.New("agent answer: no ip addr part after the netstat table; the answer is cut short")
	}
	if err := p.ipAddr.finish(); err != nil {
		return nil, fmt.Errorf("agent answer: ip addr part: %w", err)
	}
	p.host.Sockets = p.netstat.sockets
	p.host.Netns = p.netstat.netnsList
	p.host.Forwards = p.netstat.forwards
	p.host.Interfaces = p.ipAddr.ifaces
	return &p.host, nil
}

// prefixErr prefixes a non-nil err with prefix.
func prefixErr(prefix string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s%w", prefix, err)
}

// socketTableSniffLen is how much of its input ParseSocketTable looks at
// to tell netstat from ss output.
const socketTableSniffLen = 64 << 10

// ParseSocketTable reads the output of either `netstat -antp` (or any
// form ParseNetstat reads) or `ss -tanp` (or any form ParseSS reads),
// telling them apart by the first line that decides it within the first
// 64 KiB: netstat's "Active Internet ..." title, its "Proto Recv-Q ..."
// header or a tcp/tcp6 line; ss's "State Recv-Q ..." or "Netid ..." header
// or a line starting with an ss state name. Lines before it (warnings)
// are skipped. Input where no line decides is an error.
func ParseSocketTable(r io.Reader) ([]Socket, error) {
	br := bufio.NewReaderSize(r, socketTableSniffLen)
	head, err := br.Peek(socketTableSniffLen)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read socket table: %w", err)
	}
	switch sniffSocketTable(head) {
	case "netstat":
		return ParseNetstat(br)
	case "ss":
		return ParseSS(br)
	}
	if len(bytes.TrimSpace(head)) == 0 {
		return nil, errors.New("socket table: empty input; want netstat -antp or ss -tanp output")
	}
	return nil, errors.New(`socket table: neither a netstat ("Proto Recv-Q") nor an ss ("State Recv-Q") header nor socket lines; is this netstat -antp or ss -tanp output?`)
}

// sniffSocketTable returns "netstat", "ss" or "" for the first bytes of a
// socket table.
func sniffSocketTable(head []byte) string {
	for len(head) > 0 {
		var line []byte
		line, head, _ = bytes.Cut(head, []byte("\n"))
		first, _ := cutField(string(line))
		switch {
		case first == "Active" && bytes.HasPrefix(line, []byte("Active Internet")),
			first == "Proto", first == "tcp", first == "tcp6":
			return "netstat"
		case first == "State", first == "Netid":
			return "ss"
		}
		if _, ok := ssStates[first]; ok && line[0] != ' ' && line[0] != '\t' {
			return "ss"
		}
	}
	return ""
}
