package monitor

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// maxStatusLine bounds one line of status.dat; plugin output is limited to
// a few KiB by Nagios, so a longer line means a broken file.
const maxStatusLine = 1 << 20

// statusDat reads a status.dat file of Nagios 3/4, Icinga 1 or Naemon.
// Host aliases are not in status.dat: they come from the objects.cache in
// the same directory (where those daemons write it by default), when it
// is there; otherwise Host.Alias stays empty.
type statusDat struct{ path string }

func newStatusDat(path string) Source { return statusDat{path: path} }

func (s statusDat) String() string { return "status.dat " + s.path }

// Fetch streams the file, so its size does not matter.
func (s statusDat) Fetch(ctx context.Context) (*State, error) {
	f, err := os.Open(s.path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s, err)
	}
	defer f.Close()
	st, err := ParseStatusDat(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s, err)
	}
	aliases, err := readAliases(filepath.Join(filepath.Dir(s.path), "objects.cache"))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s, err)
	}
	for i := range st.Hosts {
		st.Hosts[i].Alias = aliases[st.Hosts[i].Name]
	}
	return st, ctx.Err()
}

// block is one "NAME {" ... "}" section, as key=value pairs.
type block struct {
	kind   string
	line   int
	fields map[string]string
}

// eachBlock calls fn for every complete block of a Nagios object or status
// file; sep splits a line into key and value ("=" in status.dat, a tab or
// space in objects.cache). A block still open at the end is an error: the
// file was cut off.
func eachBlock(r io.Reader, sep func(string) (string, string, bool), fn func(block) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxStatusLine)
	var cur *block
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case cur == nil && strings.HasSuffix(line, "{"):
			cur = &block{kind: strings.TrimSpace(strings.TrimSuffix(line, "{")), line: n, fields: map[string]string{}}
		case cur == nil:
			return fmt.Errorf("line %d: %q outside any block", n, clip(line))
		case line == "}":
			if err := fn(*cur); err != nil {
				return err
			}
			cur = nil
		default:
			if k, v, ok := sep(line); ok {
				cur.fields[k] = v
			}
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return fmt.Errorf("line %d is longer than %d bytes", n+1, maxStatusLine)
		}
		return err
	}
	if cur != nil {
		return fmt.Errorf("truncated: block %s opened at line %d is not closed; "+
			"was the file cut off or copied while being written?", cur.kind, cur.line)
	}
	return nil
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}

// ParseStatusDat reads the hoststatus and servicestatus blocks of a
// status.dat; other blocks are skipped. A host or service not checked yet
// (has_been_checked=0) is Pending.
func ParseStatusDat(r io.Reader) (*State, error) {
	st := &State{}
	known := false
	err := eachBlock(r, func(l string) (string, string, bool) { return strings.Cut(l, "=") }, func(b block) error {
		switch b.kind {
		case "info", "programstatus":
			known = true
		case "hoststatus":
			known = true
			st.Hosts = append(st.Hosts, Host{
				Name: b.fields["host_name"], Status: stateName(b.fields, hostStates),
				LastCheck: num(b.fields["last_check"]), LastStateChange: num(b.fields["last_state_change"]),
				Output: output(b.fields),
			})
		case "servicestatus":
			known = true
			st.Services = append(st.Services, Service{
				Host: b.fields["host_name"], Name: b.fields["service_description"],
				Status:    stateName(b.fields, serviceStates),
				LastCheck: num(b.fields["last_check"]), LastStateChange: num(b.fields["last_state_change"]),
				Output: output(b.fields),
			})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !known {
		return nil, errors.New("does not look like a status.dat: no info, hoststatus or servicestatus block")
	}
	return st, nil
}

var (
	hostStates    = []string{Up, Down, Unreachable}
	serviceStates = []string{OK, Warning, Critical, Unknown}
)

// stateName maps current_state to its name; unchecked is Pending, and an
// out-of-range number Unknown (for hosts: Unreachable).
func stateName(f map[string]string, names []string) string {
	if f["has_been_checked"] == "0" {
		return Pending
	}
	i, err := strconv.Atoi(f["current_state"])
	if err != nil || i < 0 || i >= len(names) {
		return names[len(names)-1]
	}
	return names[i]
}

// output joins plugin_output and long_plugin_output, whose newlines
// status.dat stores as the two characters \n.
func output(f map[string]string) string {
	out := unescapeStatus(f["plugin_output"])
	if long := unescapeStatus(f["long_plugin_output"]); long != "" {
		out += "\n" + long
	}
	return out
}

// unescapeStatus undoes status.dat's escaping of \n and \\.
func unescapeStatus(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			switch s[i+1] {
			case 'n':
				b.WriteByte('\n')
				i++
				continue
			case '\\':
				b.WriteByte('\\')
				i++
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func num(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// readAliases reads host_name → alias from an objects.cache; a missing
// file gives none.
func readAliases(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	aliases := map[string]string{}
	err = eachBlock(f, cutSpace, func(b block) error {
		if b.kind == "define host" && b.fields["alias"] != "" {
			aliases[b.fields["host_name"]] = b.fields["alias"]
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("objects.cache %s: %w", path, err)
	}
	return aliases, nil
}

// cutSpace splits an objects.cache line at its first tab or space.
func cutSpace(l string) (string, string, bool) {
	i := strings.IndexAny(l, "\t ")
	if i < 0 {
		return l, "", true
	}
	return l[:i], strings.TrimSpace(l[i+1:]), true
}
