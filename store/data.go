package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lwindolf/dotm/domain"
	"github.com/redis/go-redis/v9"
)

// Service is a listening TCP port of a node: dotm::services::<node>::<port>.
type Service struct {
	Node    string
	Port    int
	Process string
	// Title is what the host's tool printed for the process when that
	// differs from Process ("nginx: master"); hash field title, optional.
	Title string
	// FirstSeen, LastSeen and LastConnection (when an incoming connection
	// was last seen) are unix seconds; 0 means never.
	FirstSeen      int64
	LastSeen       int64
	LastConnection int64
	// AlertStatus is the worst state of the checks mapped to the service
	// (OK, WARNING, CRITICAL, UNKNOWN), empty when none maps.
	AlertStatus string
	// Age is "fresh" or "old" (not seen within the aging setting).
	Age string
	// Container is the node's container (network namespace) the service
	// listens in, "" for the node's own; Protocol is "" for TCP, "udp" or
	// "tcp,udp"; Forward names the service a published port leads to
	// ("<container>:<port>") and ForwardVia what forwards it. See
	// container.go.
	Container  string `json:",omitempty"`
	Protocol   string `json:",omitempty"`
	Forward    string `json:",omitempty"`
	ForwardVia string `json:",omitempty"`
}

// Connection is the aggregate of the sockets between a node and one
// remote on one port: dotm::connections::<node>::<port>::<remote>.
type Connection struct {
	Node string
	// Port is the key's port part: the local service port for incoming
	// connections, the remote port for outgoing ones ("high" for an
	// ephemeral one).
	Port string
	// Remote is the key's remote part: a node name, an IP or "Internet".
	Remote         string
	Process        string
	Title          string // as for Service
	Connections    int
	FirstSeen      int64
	LastSeen       int64
	LastConnection int64
	Direction      string // "in" or "out"
	RemoteHost     string
	RemotePort     string // a number or "high"
	LocalPort      string
	// LocalService marks a loopback connection between two processes of
	// the node, naming the service port it reached.
	LocalService string
	// RemoteIPs are the addresses behind an Internet remote, comma-
	// separated as in the hash field remote_ips (RemoteIPList splits
	// them), sorted and distinct; empty for other remotes. At most
	// MaxRemoteIPs are kept (the lowest), so a busy public service does
	// not grow its hash without bound: a sample for labels (country,
	// ASN), not a complete list of clients. A string, not a slice, so
	// that Connection stays comparable.
	RemoteIPs string `json:",omitempty"`
	// Split marks an outgoing connection that shares port and remote with
	// an incoming one of the node: it is stored under the seed's key with
	// "::out" appended, so neither overwrites the other.
	Split bool `json:",omitempty"`
	// Container is the node's container the client or server end lives
	// in, "" for the node's own namespace; RemoteContainer the container
	// of the service a connection between two of the node's namespaces
	// reaches. See container.go.
	Container       string `json:",omitempty"`
	RemoteContainer string `json:",omitempty"`
}

// ID is the key c is stored under.
func (c Connection) ID() ConnectionID {
	return ConnectionID{Port: c.Port, Remote: c.Remote, Split: c.Split, Container: c.Container}
}

// RemoteIPList is RemoteIPs split; nil when there are none.
func (c Connection) RemoteIPList() []string {
	if c.RemoteIPs == "" {
		return nil
	}
	return strings.Split(c.RemoteIPs, ",")
}

// MaxRemoteIPs caps Connection.RemoteIPs.
const MaxRemoteIPs = 16

// Connection directions.
const (
	In  = "in"
	Out = "out"
)

// Hash fields of services and connections.
const (
	fProcess        = "process"
	fFirstSeen      = "first_seen"
	fLastSeen       = "last_seen"
	fLastConnection = "last_connection"
	fAlertStatus    = "alert_status"
	fAge            = "age"
	fConnections    = "connections"
	fDirection      = "direction"
	fRemoteHost     = "remote_host"
	fRemotePort     = "remote_port"
	fLocalPort      = "local_port"
	fLocalService   = "local_service"
	fRemoteIPs      = "remote_ips"
	fTitle          = "title"
)

func (sv Service) key() string {
	return serviceKey(sv.Node, strconv.Itoa(sv.Port)) + containerSuffix(sv.Container)
}

// ID is the key sv is stored under.
func (sv Service) ID() ServiceID { return ServiceID{Port: sv.Port, Container: sv.Container} }

func (sv Service) fields() []any {
	f := []any{
		fProcess, sv.Process,
		fFirstSeen, itoa(sv.FirstSeen),
		fLastSeen, itoa(sv.LastSeen),
	}
	if sv.LastConnection != 0 {
		// Absent until an incoming connection is seen, as in the original.
		f = append(f, fLastConnection, itoa(sv.LastConnection))
	}
	if sv.AlertStatus != "" {
		f = append(f, fAlertStatus, sv.AlertStatus)
	}
	if sv.Age != "" {
		f = append(f, fAge, sv.Age)
	}
	if sv.Title != "" {
		f = append(f, fTitle, sv.Title)
	}
	return append(f, sv.containerFields()...)
}

// serviceFromHash reads a service hash; a time that is not a number is
// an error.
func serviceFromHash(node string, port int, h map[string]string) (Service, error) {
	sv := Service{Node: node, Port: port, Process: h[fProcess], Title: h[fTitle], AlertStatus: h[fAlertStatus], Age: h[fAge],
		Container: h[fContainer], Protocol: h[fProtocol], Forward: h[fForward], ForwardVia: h[fForwardVia]}
	err := times(h, &sv.FirstSeen, &sv.LastSeen, &sv.LastConnection)
	return sv, err
}

// times parses the hash fields first_seen, last_seen and last_connection.
func times(h map[string]string, first, last, lastConn *int64) error {
	var err error
	for _, f := range []struct {
		name string
		to   *int64
	}{{fFirstSeen, first}, {fLastSeen, last}, {fLastConnection, lastConn}} {
		if err == nil {
			*f.to, err = fieldInt(h, f.name)
		}
	}
	return err
}

func (c Connection) key() string { return connectionKey(c.Node, c.ID()) }

func (c Connection) fields() []any {
	f := []any{
		fProcess, c.Process,
		fConnections, strconv.Itoa(c.Connections),
		fFirstSeen, itoa(c.FirstSeen),
		fLastSeen, itoa(c.LastSeen),
		fLastConnection, itoa(c.LastConnection),
		fDirection, c.Direction,
		fRemoteHost, c.RemoteHost,
		fRemotePort, c.RemotePort,
		fLocalPort, c.LocalPort,
	}
	if c.LocalService != "" {
		f = append(f, fLocalService, c.LocalService)
	}
	if c.RemoteIPs != "" {
		f = append(f, fRemoteIPs, c.RemoteIPs)
	}
	if c.Title != "" {
		f = append(f, fTitle, c.Title)
	}
	return append(f, c.containerFields()...)
}

// connectionFromHash reads a connection hash; a count or a time that is
// not a number is an error.
func connectionFromHash(node, port, remote string, h map[string]string) (Connection, error) {
	n, err := fieldInt(h, fConnections)
	if err == nil && (n < 0 || n > math.MaxInt32) {
		err = fmt.Errorf("field %s is %d, out of range", fConnections, n)
	}
	c := Connection{
		Node: node, Port: port, Remote: remote,
		Process:         h[fProcess],
		Title:           h[fTitle],
		Connections:     int(n),
		Direction:       h[fDirection],
		RemoteHost:      h[fRemoteHost],
		RemotePort:      h[fRemotePort],
		LocalPort:       h[fLocalPort],
		LocalService:    h[fLocalService],
		RemoteIPs:       h[fRemoteIPs],
		Container:       h[fContainer],
		RemoteContainer: h[fRemoteContainer],
	}
	if err == nil {
		err = times(h, &c.FirstSeen, &c.LastSeen, &c.LastConnection)
	}
	return c, err
}

// ConnectionID names one connection key; Split adds the "::out" suffix
// (see Connection.Split).
type ConnectionID struct {
	Port, Remote string
	Split        bool
	Container    string // the key's container suffix (container.go)
}

// NodeData is one node's fetch result, written by WriteNodeData in one go.
type NodeData struct {
	// Node carries the fetch fields (last_fetch, fetch_status, ips); the
	// user's address and method are left as they are.
	Node        Node
	Services    []Service    // each replaces its key entirely
	Connections []Connection // each replaces its key entirely
	// DropServices and DropConnections are deleted: data the new fetch
	// proves wrong (e.g. a connection now keyed by the remote's node name
	// instead of its IP).
	DropServices    []int
	DropConnections []ConnectionID
	// DropContainerServices are deleted like DropServices: services of
	// the node's containers.
	DropContainerServices []ServiceID
	// Resolver maps this node's IPs to its name.
	Resolver map[string]string
}

// WriteNodeData writes a node's fetch result atomically (MULTI/EXEC): a
// reader sees the node before or after, never half-written. On a Redis
// Cluster see tx. Times stay at their newest (see Newest): a result older
// than what the store holds (a backfill) leaves the node's last_fetch,
// fetch_status and ips, and every last_seen and last_connection, as they
// were; the comparison runs in the server, key by key, in the same
// transaction as the write.
func (s *Store) WriteNodeData(ctx context.Context, d NodeData) error {
	name := d.Node.Name
	if err := domain.ValidateNodeName(name); err != nil {
		return err
	}
	clock := time.Now().Unix()
	err := s.scriptTx(ctx, func(p redis.Pipeliner) error {
		f := d.Node.fetchFields() // last_fetch first, then the rest
		evalNewer(ctx, p, nodeKey(name), clock, fLastFetch, d.Node.LastFetch, f[2:]...)
		for _, sv := range d.Services {
			sv.Node = name
			evalRecord(ctx, p, sv.key(), clock, sv.fields())
		}
		for _, c := range d.Connections {
			c.Node = name
			evalRecord(ctx, p, c.key(), clock, c.fields())
		}
		for _, port := range d.DropServices {
			p.Del(ctx, serviceKey(name, strconv.Itoa(port)))
		}
		for _, id := range d.DropConnections {
			p.Del(ctx, connectionKey(name, id))
		}
		for _, id := range d.DropContainerServices {
			p.Del(ctx, serviceKey(name, strconv.Itoa(id.Port))+containerSuffix(id.Container))
		}
		for ip, node := range d.Resolver {
			p.Set(ctx, resolverKey(ip), node, 0)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("write data of node %s: %w", name, err)
	}
	return nil
}

// SetNodeStatus records a fetch result without data (a failed fetch): the
// node's services and connections stay as they were. A node fetched later
// than lastFetch (see Newest) keeps its status.
func (s *Store) SetNodeStatus(ctx context.Context, name string, lastFetch int64, status string) error {
	clock := time.Now().Unix()
	err := s.scriptTx(ctx, func(p redis.Pipeliner) error {
		evalNewer(ctx, p, nodeKey(name), clock, fLastFetch, lastFetch, fFetchStatus, status)
		return nil
	})
	if err != nil {
		return fmt.Errorf("record fetch status of node %s: %w", name, err)
	}
	return nil
}

// SetAlertStatus sets alert_status of a node's services: the state in
// alerts by port, and none for the other services in svcs.
func (s *Store) SetAlertStatus(ctx context.Context, node string, svcs []Service, alerts map[int]string) error {
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, sv := range svcs {
			sv.Node = node
			k := sv.key()
			if st, ok := alerts[sv.Port]; ok {
				p.HSet(ctx, k, fAlertStatus, st)
			} else if sv.AlertStatus != "" {
				p.HDel(ctx, k, fAlertStatus)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("write alert status of node %s: %w", node, err)
	}
	return nil
}

// Services returns the services of one node ("" for all nodes), sorted by
// node and port. A key that cannot be read is skipped (see services).
func (s *Store) Services(ctx context.Context, node string) ([]Service, error) {
	out, _, err := s.services(ctx, node)
	return out, err
}

// services is Services with the Problems of the keys it skipped: of
// another type, with a key that names no node or port, or with a time
// that is not a number.
func (s *Store) services(ctx context.Context, node string) ([]Service, []Problem, error) {
	keys, hashes, bad, err := s.scanHashes(ctx, keySvcPfx+nodePattern(node))
	if err != nil {
		return nil, nil, fmt.Errorf("read services: %w", err)
	}
	out := make([]Service, 0, len(keys))
	for i, k := range keys {
		if len(hashes[i]) == 0 {
			continue // deleted since the scan, or of another type (in bad)
		}
		n, port, ok := splitKey(strings.TrimPrefix(k, keySvcPfx))
		port, container := cutContainer(port)
		p, err := domain.ParsePort(port)
		if !ok || err != nil {
			bad = append(bad, Problem{Key: k, Err: errors.New("not of the form dotm::services::<node>::<port>")})
			continue
		}
		sv, err := serviceFromHash(n, p, hashes[i])
		if err != nil {
			bad = append(bad, Problem{Key: k, Err: err})
			continue
		}
		sv.Container = container
		out = append(out, sv)
	}
	slices.SortFunc(out, func(a, b Service) int {
		return cmp.Or(strings.Compare(a.Node, b.Node), cmp.Compare(a.Port, b.Port), strings.Compare(a.Container, b.Container))
	})
	return out, sortProblems(bad), nil
}

// Connections returns the connections of one node ("" for all nodes),
// sorted by node, port and remote. A key that cannot be read is skipped
// (see connections).
func (s *Store) Connections(ctx context.Context, node string) ([]Connection, error) {
	out, _, err := s.connections(ctx, node)
	return out, err
}

// connections is Connections with the Problems of the keys it skipped: of
// another type, with a key that lacks its node, port or remote part, or
// with a count or time that is not a number.
func (s *Store) connections(ctx context.Context, node string) ([]Connection, []Problem, error) {
	keys, hashes, bad, err := s.scanHashes(ctx, keyConnPfx+nodePattern(node))
	if err != nil {
		return nil, nil, fmt.Errorf("read connections: %w", err)
	}
	out := make([]Connection, 0, len(keys))
	for i, k := range keys {
		if len(hashes[i]) == 0 {
			continue
		}
		n, rest, ok := splitKey(strings.TrimPrefix(k, keyConnPfx))
		port, remote, ok2 := strings.Cut(rest, sep)
		if !ok || !ok2 || port == "" || remote == "" {
			bad = append(bad, Problem{Key: k, Err: errors.New("not of the form dotm::connections::<node>::<port>::<remote>")})
			continue
		}
		remote, container := cutContainer(remote)
		remote, split := strings.CutSuffix(remote, splitSuffix)
		c, err := connectionFromHash(n, port, remote, hashes[i])
		if err != nil {
			bad = append(bad, Problem{Key: k, Err: err})
			continue
		}
		c.Split, c.Container = split, container
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Connection) int {
		return cmp.Or(strings.Compare(a.Node, b.Node), strings.Compare(a.Port, b.Port),
			strings.Compare(a.Remote, b.Remote), strings.Compare(a.Direction, b.Direction),
			strings.Compare(a.Container, b.Container))
	})
	return out, sortProblems(bad), nil
}

// nodePattern is the SCAN pattern for one node's keys, or all nodes'.
func nodePattern(node string) string {
	if node == "" {
		return "*"
	}
	return globEscape(node) + sep + "*"
}

// Resolver returns the whole IP → node map. An entry of another type is
// skipped.
func (s *Store) Resolver(ctx context.Context) (map[string]string, error) {
	keys, err := s.scanKeys(ctx, keyResolver+"*")
	if err != nil {
		return nil, fmt.Errorf("list resolver entries: %w", err)
	}
	out := make(map[string]string, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	cmds := make([]*redis.StringCmd, len(keys))
	_, err = s.pipelined(ctx, len(keys), func(p redis.Pipeliner, i int) {
		cmds[i] = p.Get(ctx, keys[i])
	})
	if err := pipeErr(err, cmds); err != nil {
		return nil, fmt.Errorf("read resolver entries: %w", err)
	}
	for i, c := range cmds {
		if v, err := c.Result(); err == nil {
			out[strings.TrimPrefix(keys[i], keyResolver)] = v
		}
	}
	return out, nil
}

// SetResolver replaces resolver entries: each IP maps to the node, and an
// empty node deletes the entry (an IP that turned out to be ambiguous).
func (s *Store) SetResolver(ctx context.Context, m map[string]string) error {
	ips := slices.Collect(maps.Keys(m))
	_, err := s.pipelined(ctx, len(ips), func(p redis.Pipeliner, i int) {
		if node := m[ips[i]]; node == "" {
			p.Del(ctx, resolverKey(ips[i]))
		} else {
			p.Set(ctx, resolverKey(ips[i]), node, 0)
		}
	})
	if err != nil {
		return fmt.Errorf("write resolver entries: %w", err)
	}
	return nil
}

// ComparePorts orders ports as stored in connections: numbers by value,
// before names such as "high".
func ComparePorts(a, b string) int {
	x, errA := strconv.Atoi(a)
	y, errB := strconv.Atoi(b)
	if errA == nil && errB == nil {
		return cmp.Compare(x, y)
	}
	return strings.Compare(a, b)
}
