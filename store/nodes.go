package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/lwindolf/dotm/domain"
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
func (s *Store) AddNodes(ctx context.Context, specs []domain.NodeSpec) ([]string, error) {
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
	_, err = s.pipelined(ctx, len(specs), func(p redis.Pipeliner, i int) {
		if sp := specs[i]; sp.Address != "" {
			p.HSet(ctx, nodeKey(sp.Name), fAddress, sp.Address)
		}
		if sp := specs[i]; sp.Method != "" {
			p.HSet(ctx, nodeKey(sp.Name), fMethod, sp.Method)
		}
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
