package store

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Node is what dotm::nodes::<node> holds about one node.
type Node struct {
	Name string
	// LastFetch is when the node was last fetched (unix seconds), 0 never.
	LastFetch int64
	// FetchStatus is "OK" or the error of the last fetch.
	FetchStatus string
	// IPs are the node's interface addresses.
	IPs []string
	// Address is how to reach the node's agent or sshd when not by its
	// name: HOST or HOST:PORT.
	Address string
	// Method overrides fetch_parameters' method for this node.
	Method string
}

// Node hash fields.
const (
	fLastFetch   = "last_fetch"
	fFetchStatus = "fetch_status"
	fIPs         = "ips"
	fAddress     = "address"
	fMethod      = "method"
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

// addNodesScript appends names not yet in the list, atomically, and
// returns those it added.
var addNodesScript = redis.NewScript(`
local have = {}
for _, n in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do have[n] = true end
local added = {}
for _, n in ipairs(ARGV) do
  if not have[n] then
    redis.call('RPUSH', KEYS[1], n)
    have[n] = true
    table.insert(added, n)
  end
end
return added`)

// AddNodes adds nodes to dotm::nodes (names already there stay where they
// are) and stores each given address and method. It returns the names that were new.
func (s *Store) AddNodes(ctx context.Context, specs []NodeSpec) ([]string, error) {
	if len(specs) == 0 {
		return nil, nil
	}
	names := make([]any, len(specs))
	for i, sp := range specs {
		names[i] = sp.Name
	}
	added, err := addNodesScript.Run(ctx, s.rdb, []string{keyNodes}, names...).StringSlice()
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("add nodes: %w", err)
	}
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, sp := range specs {
			if sp.Address != "" {
				p.HSet(ctx, nodeKey(sp.Name), fAddress, sp.Address)
			}
			if sp.Method != "" {
				p.HSet(ctx, nodeKey(sp.Name), fMethod, sp.Method)
			}
		}
		return nil
	})
	if err != nil {
		return added, fmt.Errorf("store node addresses: %w", err)
	}
	return added, nil
}

// Nodes lists the node names in the order they were added, each once.
func (s *Store) Nodes(ctx context.Context) ([]string, error) {
	names, _, err := s.nodes(ctx)
	return names, err
}

// nodes is Nodes with the Problems of dotm::nodes: a name listed more
// than once (read once, where it was first added) or an empty one. A
// dotm::nodes of another type is an error, a Problem naming the key: it
// cannot be skipped, as every node is found through it.
func (s *Store) nodes(ctx context.Context) ([]string, []Problem, error) {
	raw, err := s.rdb.LRange(ctx, keyNodes, 0, -1).Result()
	if p, err := cmdError(keyNodes, err); p != nil || err != nil {
		if p != nil {
			return nil, nil, Problem{Key: keyNodes, Err: fmt.Errorf("%w; it must be the list of node names: "+
				"rename it aside (redis-cli RENAME %s %s.bad) and add the nodes again with dotm nodes add", p.Err, keyNodes, keyNodes)}
		}
		return nil, nil, fmt.Errorf("read %s: %w", keyNodes, err)
	}
	var bad []Problem
	seen := make(map[string]int, len(raw))
	names := make([]string, 0, len(raw))
	for _, n := range raw {
		seen[n]++
		switch {
		case n == "":
			if seen[n] == 1 {
				bad = append(bad, Problem{Key: keyNodes, Err: errors.New("an entry is empty, not a node name")})
			}
		case seen[n] == 2:
			bad = append(bad, Problem{Key: keyNodes, Err: fmt.Errorf("node %q is listed more than once; read once", n)})
		case seen[n] == 1:
			names = append(names, n)
		}
	}
	return names, bad, nil
}

// RemoveNodes forgets nodes: their entry in dotm::nodes and everything
// stored about them (node hash, services, connections, checks, resolver
// entries pointing at them). Names that are not known are reported in the
// error; the known ones are removed all the same.
func (s *Store) RemoveNodes(ctx context.Context, names []string) error {
	var unknown []string
	for _, n := range names {
		removed, err := s.rdb.LRem(ctx, keyNodes, 0, n).Result()
		if err != nil {
			return fmt.Errorf("remove node %s: %w", n, err)
		}
		if removed == 0 {
			unknown = append(unknown, n)
		}
		if err := s.forgetNode(ctx, n); err != nil {
			return err
		}
	}
	if len(unknown) > 0 {
		return fmt.Errorf("not known, nothing removed for: %s (see dotm nodes list)", strings.Join(unknown, ", "))
	}
	return nil
}

func (s *Store) forgetNode(ctx context.Context, n string) error {
	keys := []string{nodeKey(n), nodeChecksKey(n), serviceChecksKey(n)}
	for _, pat := range []string{keySvcPfx + globEscape(n) + sep + "*", keyConnPfx + globEscape(n) + sep + "*"} {
		found, err := s.scanKeys(ctx, pat)
		if err != nil {
			return fmt.Errorf("find data of node %s: %w", n, err)
		}
		keys = append(keys, found...)
	}
	res, err := s.Resolver(ctx)
	if err != nil {
		return err
	}
	for ip, node := range res {
		if node == n {
			keys = append(keys, resolverKey(ip))
		}
	}
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, k := range keys {
			p.Del(ctx, k)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete data of node %s: %w", n, err)
	}
	return nil
}

// NodeInfo reads what dotm::nodes::<node> holds about each named node, in
// one round trip. A node whose hash cannot be read is returned with its
// name only (see nodeInfo).
func (s *Store) NodeInfo(ctx context.Context, names []string) ([]Node, error) {
	out, _, err := s.nodeInfo(ctx, names)
	return out, err
}

// nodeInfo is NodeInfo with the Problems of the node hashes it could not
// read: of another type, or with a last_fetch that is not a number.
func (s *Store) nodeInfo(ctx context.Context, names []string) ([]Node, []Problem, error) {
	keys := make([]string, len(names))
	for i, n := range names {
		keys[i] = nodeKey(n)
	}
	hashes, bad, err := s.hgetAll(ctx, keys)
	if err != nil {
		return nil, nil, fmt.Errorf("read node data: %w", err)
	}
	out := make([]Node, len(names))
	for i, h := range hashes {
		n, err := nodeFromHash(names[i], h)
		if err != nil {
			bad = append(bad, Problem{Key: keys[i], Err: err})
			n = Node{Name: names[i]}
		}
		out[i] = n
	}
	return out, bad, nil
}

func nodeFromHash(name string, h map[string]string) (Node, error) {
	n := Node{
		Name:        name,
		FetchStatus: h[fFetchStatus],
		Address:     h[fAddress],
		Method:      h[fMethod],
	}
	if ips := h[fIPs]; ips != "" {
		n.IPs = strings.Split(ips, ",")
	}
	var err error
	n.LastFetch, err = fieldInt(h, fLastFetch)
	return n, err
}

// fields returns the hash fields of the fetch result of n (address and
// method are the user's and are not touched by a fetch).
func (n Node) fetchFields() []any {
	return []any{
		fLastFetch, strconv.FormatInt(n.LastFetch, 10),
		fFetchStatus, n.FetchStatus,
		fIPs, strings.Join(n.IPs, ","),
	}
}

func atoi64(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}
