package domain

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
)

// NodeSpec is a node to add: a name and, optionally, the address to reach
// it by (NAME=HOST[:PORT] on the command line).
type NodeSpec struct {
	Name    string
	Address string
	// Method overrides fetch_parameters' method for this node.
	Method string
}

// The fetch methods a node can use; package collect holds what each does.
const (
	MethodAgent = "agent"
	MethodSSH   = "ssh"
	MethodLocal = "local"
)

var methods = []string{MethodAgent, MethodSSH, MethodLocal}

// Methods are the fetch methods a node can use; the slice is the caller's.
func Methods() []string { return slices.Clone(methods) }

// ValidateMethod accepts a fetch method name, or "" for the default.
func ValidateMethod(m string) error {
	if m == "" || slices.Contains(methods, m) {
		return nil
	}
	return fmt.Errorf("fetch method %q is not one of %s", m, strings.Join(methods, ", "))
}

// ParseNodeSpec reads NAME or NAME=HOST[:PORT] and validates both parts.
func ParseNodeSpec(s string) (NodeSpec, error) {
	name, addr, hasAddr := strings.Cut(s, "=")
	spec := NodeSpec{Name: name, Address: addr}
	if err := ValidateNodeName(name); err != nil {
		return spec, err
	}
	if hasAddr {
		if err := ValidateAddress(addr); err != nil {
			return spec, fmt.Errorf("node %s: %w", name, err)
		}
	}
	return spec, nil
}

// ValidateNodeName accepts a DNS-like name (letters, digits, '-', '_'
// in dot-separated labels of at most 63 characters, 253 in all) or an IPv4
// address. IPv6 addresses are refused because "::" separates the parts of
// dotm's Redis keys: name such a node and give the address after '='.
func ValidateNodeName(name string) error {
	switch {
	case name == "":
		return errors.New("empty node name")
	case len(name) > 253:
		return fmt.Errorf("node name %.40q... is longer than 253 characters", name)
	case strings.Contains(name, ":"):
		return fmt.Errorf("node name %q contains ':'; for an IPv6 node give a name and the address, "+
			"like db01=[2001:db8::5]:4848", name)
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return nil
	}
	for _, label := range strings.Split(name, ".") {
		if err := checkLabel(label); err != nil {
			return fmt.Errorf("node name %q: %w; use a host name like web01 or web01.dc1.example.com, or an IPv4 address", name, err)
		}
	}
	return nil
}

func checkLabel(l string) error {
	if l == "" {
		return errors.New("empty label (two dots in a row, or a dot at an end)")
	}
	if len(l) > 63 {
		return errors.New("a label is longer than 63 characters")
	}
	for _, r := range l {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_'
		if !ok {
			return fmt.Errorf("character %q is not allowed", r)
		}
	}
	return nil
}

// ValidateAddress accepts HOST, HOST:PORT, IPv6 literal or [IPv6]:PORT,
// where HOST is a host name or an IP address.
func ValidateAddress(addr string) error {
	host, port := addr, ""
	if h, p, err := net.SplitHostPort(addr); err == nil {
		host, port = h, p
	} else if strings.HasPrefix(addr, "[") {
		return fmt.Errorf("address %q: want [IPv6]:PORT", addr)
	}
	if port != "" {
		if _, err := ParsePort(port); err != nil {
			return fmt.Errorf("address %q: %w", addr, err)
		}
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return nil
	}
	if strings.Contains(host, ":") {
		return fmt.Errorf("address %q: an IPv6 address with a port needs brackets, like [2001:db8::5]:4848", addr)
	}
	for _, label := range strings.Split(host, ".") {
		if err := checkLabel(label); err != nil {
			return fmt.Errorf("address %q: %w; want HOST or HOST:PORT", addr, err)
		}
	}
	return nil
}
