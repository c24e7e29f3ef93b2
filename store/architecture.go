package store

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// ArchitectureVersion is the version of the Architecture document; a
// reader refuses documents of a newer version instead of misreading them.
const ArchitectureVersion = 1

// Architecture is what the fleet looks like: who listens where, who talks
// to whom on which port, and which alerts are raised. It leaves out every
// volatile figure (times, socket counts), so two architectures differ
// only when the architecture changed. It is the form of a history
// snapshot and of the file dotm archives in git; its JSON is canonical
// (sorted lists, fixed field order).
type Architecture struct {
	Version int `json:"version"`
	// Time is when the snapshot was taken (unix seconds); 0 in the
	// archived file, which must not change when only time passes.
	Time        int64         `json:"time,omitempty"`
	Nodes       []string      `json:"nodes"`
	Services    []ArchService `json:"services"`
	Connections []ArchLink    `json:"connections"`
	Alerts      []ArchAlert   `json:"alerts"`
}

// ArchService is a listening service.
type ArchService struct {
	Node    string `json:"node"`
	Port    int    `json:"port"`
	Process string `json:"process"`
	// Container is the node's container the service listens in.
	Container string `json:"container,omitempty"`
}

// ArchLink is a connection, counted once: between two nodes it is the
// client's outgoing record (the server's incoming twin is folded into it);
// otherwise the record of the node that saw it.
type ArchLink struct {
	Node      string `json:"node"`
	Direction string `json:"direction"`
	Port      string `json:"port"`
	Remote    string `json:"remote"`
	Process   string `json:"process"`
	// Container is the node's container the connection's end lives in.
	Container string `json:"container,omitempty"`
}

// ArchAlert is a check that is not OK (host checks are named "host").
type ArchAlert struct {
	Node   string `json:"node"`
	Check  string `json:"check"`
	Status string `json:"status"`
}

// Key identifies the service within an architecture.
func (s ArchService) Key() string {
	return s.Node + ":" + strconv.Itoa(s.Port) + containerSuffix(s.Container)
}

// Key identifies the link within an architecture.
func (l ArchLink) Key() string {
	return l.Node + " " + l.Direction + " " + l.Port + " " + l.Remote + containerSuffix(l.Container)
}

// Key identifies the alert's check within an architecture.
func (a ArchAlert) Key() string { return a.Node + " " + a.Check }

// Current is what the store holds now.
type Current struct {
	Nodes       []string
	Infos       []Node
	Services    []Service
	Connections []Connection
	Checks      map[string]Checks
	// Problems are the records that were skipped because they cannot be
	// read (ReadCurrent), by key within each kind.
	Problems []Problem
}

// Latest maps each node to the time of its last successful fetch: its
// last_fetch when that fetch was OK, else the newest last_seen of its data
// (a failed fetch leaves the data as it was, so a node that stopped
// answering keeps its last picture). What a node showed then has a
// last_seen at or after it; older records are gone from the node.
func (c *Current) Latest() map[string]int64 {
	out := map[string]int64{}
	for _, sv := range c.Services {
		out[sv.Node] = max(out[sv.Node], sv.LastSeen)
	}
	for _, cn := range c.Connections {
		out[cn.Node] = max(out[cn.Node], cn.LastSeen)
	}
	for _, n := range c.Infos {
		if n.FetchStatus == "OK" {
			out[n.Name] = n.LastFetch
		}
	}
	return out
}

// Architecture builds the architecture of the current data at time ts:
// listed nodes, and the services and connections their last successful
// fetch showed.
func (c *Current) Architecture(ts int64) *Architecture {
	a := &Architecture{Version: ArchitectureVersion, Time: ts, Nodes: slices.Sorted(slices.Values(c.Nodes))}
	listed := map[string]bool{}
	for _, n := range c.Nodes {
		listed[n] = true
	}
	latest := c.Latest()
	for _, sv := range c.Services {
		if listed[sv.Node] && sv.LastSeen >= latest[sv.Node] {
			a.Services = append(a.Services, ArchService{Node: sv.Node, Port: sv.Port, Process: sv.Process, Container: sv.Container})
		}
	}
	var live []Connection
	for _, cn := range c.Connections {
		if listed[cn.Node] && cn.LastSeen >= latest[cn.Node] {
			live = append(live, cn)
		}
	}
	for _, cn := range Links(live) {
		a.Connections = append(a.Connections, ArchLink{Node: cn.Node, Direction: cn.Direction, Port: cn.Port,
			Remote: cn.Remote, Process: cn.Process, Container: cn.Container})
	}
	for _, n := range a.Nodes {
		ch, ok := c.Checks[n]
		if !ok {
			continue
		}
		if s := ch.Node.Status; s != "" && s != "UP" {
			a.Alerts = append(a.Alerts, ArchAlert{Node: n, Check: "host", Status: s})
		}
		for _, sc := range ch.Services {
			if sc.Status != "OK" {
				a.Alerts = append(a.Alerts, ArchAlert{Node: n, Check: sc.Service, Status: sc.Status})
			}
		}
	}
	a.sort()
	return a
}

// Links drops the incoming half of every connection between two nodes
// whose outgoing half is in conns too, so each connection counts once.
func Links(conns []Connection) []Connection {
	outs := map[[3]string]bool{}
	for _, c := range conns {
		if c.Direction == Out {
			outs[[3]string{c.Node, c.Port, c.Remote}] = true
		}
	}
	var out []Connection
	for _, c := range conns {
		if c.Direction == In && outs[[3]string{c.Remote, c.Port, c.Node}] {
			continue
		}
		out = append(out, c)
	}
	return out
}

func (a *Architecture) sort() {
	slices.Sort(a.Nodes)
	slices.SortFunc(a.Services, func(x, y ArchService) int {
		return cmp.Or(strings.Compare(x.Node, y.Node), cmp.Compare(x.Port, y.Port))
	})
	slices.SortFunc(a.Connections, func(x, y ArchLink) int { return strings.Compare(x.Key(), y.Key()) })
	a.Connections = slices.CompactFunc(a.Connections, func(x, y ArchLink) bool { return x.Key() == y.Key() })
	slices.SortFunc(a.Alerts, func(x, y ArchAlert) int { return strings.Compare(x.Key(), y.Key()) })
}

// MarshalCanonical is the architecture as indented JSON with one record
// per line, for git: a change of one connection is a change of one line.
func (a *Architecture) MarshalCanonical() []byte {
	var b bytes.Buffer
	b.WriteString("{\n")
	fmt.Fprintf(&b, " \"version\": %d,\n", a.Version)
	if a.Time != 0 {
		fmt.Fprintf(&b, " \"time\": %d,\n", a.Time)
	}
	writeLines(&b, "nodes", a.Nodes, false)
	writeLines(&b, "services", a.Services, false)
	writeLines(&b, "connections", a.Connections, false)
	writeLines(&b, "alerts", a.Alerts, true)
	b.WriteString("}\n")
	return b.Bytes()
}

func writeLines[T any](b *bytes.Buffer, name string, items []T, last bool) {
	fmt.Fprintf(b, " %q: [", name)
	for i, it := range items {
		line, _ := json.Marshal(it) // strings and ints only: cannot fail
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("\n  ")
		b.Write(line)
	}
	if len(items) > 0 {
		b.WriteString("\n ")
	}
	b.WriteByte(']')
	if !last {
		b.WriteByte(',')
	}
	b.WriteByte('\n')
}

// ParseArchitecture reads an architecture document (the canonical JSON,
// or the gzip-compressed form of a history snapshot).
func ParseArchitecture(doc []byte) (*Architecture, error) {
	if bytes.HasPrefix(doc, []byte{0x1f, 0x8b}) {
		var err error
		if doc, err = gunzip(doc); err != nil {
			return nil, fmt.Errorf("architecture: %w", err)
		}
	}
	a := &Architecture{}
	if err := json.Unmarshal(doc, a); err != nil {
		return nil, fmt.Errorf("architecture: not valid JSON: %w", err)
	}
	if a.Version < 1 || a.Version > ArchitectureVersion {
		return nil, fmt.Errorf("architecture: version %d; this dotm reads version 1 to %d (a newer dotm wrote it?)",
			a.Version, ArchitectureVersion)
	}
	a.sort()
	return a, nil
}

// maxArchitecture bounds an uncompressed snapshot (a 2,000-host fleet
// needs a few MiB).
const maxArchitecture = 512 << 20

// compress is the history form of the architecture: gzip of its JSON.
func (a *Architecture) compress() []byte { return gzipBytes(a.MarshalCanonical()) }

func gzipBytes(b []byte) []byte {
	var out bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&out, gzip.BestCompression)
	zw.Write(b) // writes into memory: cannot fail
	zw.Close()
	return out.Bytes()
}

// gunzip expands a compressed document, refusing more than
// maxArchitecture bytes (a damaged or hostile value).
func gunzip(doc []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(doc))
	if err != nil {
		return nil, err
	}
	out, err := io.ReadAll(io.LimitReader(zr, maxArchitecture+1))
	if err != nil {
		return nil, err
	}
	if len(out) > maxArchitecture {
		return nil, fmt.Errorf("larger than %d MiB uncompressed", maxArchitecture>>20)
	}
	return out, nil
}

// ReadCurrent reads what Current holds from the store. Records that
// cannot be read are skipped and listed in Problems; an error is a store
// that failed, or a dotm::nodes that is not a list.
func (s *Store) ReadCurrent(ctx context.Context) (*Current, error) {
	c := &Current{}
	var err error
	var bad []Problem
	add := func(ps []Problem) { c.Problems = append(c.Problems, ps...) }
	if c.Nodes, bad, err = s.nodes(ctx); err != nil {
		return nil, err
	}
	add(bad)
	if c.Infos, bad, err = s.nodeInfo(ctx, c.Nodes); err != nil {
		return nil, err
	}
	add(bad)
	if c.Services, bad, err = s.services(ctx, ""); err != nil {
		return nil, err
	}
	add(bad)
	if c.Connections, bad, err = s.connections(ctx, ""); err != nil {
		return nil, err
	}
	add(bad)
	if c.Checks, bad, err = s.allChecks(ctx, c.Nodes); err != nil {
		return nil, err
	}
	add(bad)
	return c, nil
}
