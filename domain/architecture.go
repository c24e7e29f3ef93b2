package domain

import (
	"bytes"
	"cmp"
	"compress/gzip"
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
	return s.Node + ":" + strconv.Itoa(s.Port) + inContainer(s.Container)
}

// Key identifies the link within an architecture.
func (l ArchLink) Key() string {
	return l.Node + " " + l.Direction + " " + l.Port + " " + l.Remote + inContainer(l.Container)
}

// inContainer is the part of a key that names a container, as the
// store's keys do ("::@<container>"); "" for the node's own namespace.
func inContainer(container string) string {
	if container == "" {
		return ""
	}
	return "::@" + container
}

// Key identifies the alert's check within an architecture.
func (a ArchAlert) Key() string { return a.Node + " " + a.Check }

// Sort puts the architecture in its canonical order, without duplicate
// links.
func (a *Architecture) Sort() {
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
		if doc, err = Gunzip(doc); err != nil {
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
	a.Sort()
	return a, nil
}

// maxArchitecture bounds an uncompressed snapshot (a 2,000-host fleet
// needs a few MiB).
const maxArchitecture = 512 << 20

// Compressed is the history form of the architecture: gzip of its JSON.
func (a *Architecture) Compressed() []byte { return Gzip(a.MarshalCanonical()) }

// Gzip compresses b as history documents are stored.
func Gzip(b []byte) []byte {
	var out bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&out, gzip.BestCompression)
	zw.Write(b) // writes into memory: cannot fail
	zw.Close()
	return out.Bytes()
}

// Gunzip expands a compressed history document, refusing more than
// maxArchitecture bytes (a damaged or hostile value).
func Gunzip(doc []byte) ([]byte, error) {
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
