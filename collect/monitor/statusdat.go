package monitor

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// MaxStatusDatLine is the longest line ParseStatusDat accepts, in bytes.
// Nagios writes a check's whole long output on one line; 4 MiB is far
// above what plugins print.
const MaxStatusDatLine = 4 << 20

// ctxCheckLines is how often (in lines) parsing looks at the context.
const ctxCheckLines = 4096

// statusDat reads a status.dat file of Nagios 3/4, Icinga 1 or Naemon.
type statusDat struct {
	path string
}

// newStatusDat returns the Source of the status.dat at path.
//
// Host aliases are not in status.dat but in the object cache (Nagios'
// object_cache_file). Fetch reads them from the first objects.cache of:
//
//  1. the directory of status.dat: where Nagios' source build
//     (/usr/local/nagios/var), Debian's nagios4 (/var/lib/nagios4) and
//     Naemon (/var/cache/naemon) write both files;
//  2. for a status.dat in .../lib/NAME/, the file .../cache/NAME/objects.cache:
//     Icinga 1 on Debian writes /var/lib/icinga/status.dat and
//     /var/cache/icinga/objects.cache.
//
// When neither exists, Alias stays empty. An objects.cache that exists but
// cannot be read is an error.
func newStatusDat(path string) Source {
	return &statusDat{path: path}
}

// String names the file.
func (s *statusDat) String() string { return "status.dat " + s.path }

// Fetch parses the file and adds host aliases from objects.cache.
func (s *statusDat) Fetch(ctx context.Context) (*State, error) {
	f, err := os.Open(s.path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w; check the path (status_file in nagios.cfg) and read permission", s, err)
	}
	defer f.Close()
	st, err := parseStatusDat(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s, err)
	}
	cache := objectsCachePath(s.path)
	if cache == "" {
		return st, nil
	}
	aliases, err := readAliases(ctx, cache)
	if err != nil {
		return nil, fmt.Errorf("%s: host aliases: %w", s, err)
	}
	for i := range st.Hosts {
		st.Hosts[i].Alias = aliases[st.Hosts[i].Name]
	}
	return st, nil
}

// objectsCachePath finds the objects.cache that belongs to the status.dat
// at path (see newStatusDat), or returns "".
func objectsCachePath(path string) string {
	dir := filepath.Dir(path)
	candidates := []string{filepath.Join(dir, "objects.cache")}
	if parent := filepath.Dir(dir); filepath.Base(parent) == "lib" {
		candidates = append(candidates,
			filepath.Join(filepath.Dir(parent), "cache", filepath.Base(dir), "objects.cache"))
	}
	for _, c := range candidates {
		if _, err := os.Stat(c); err == nil || !errors.Is(err, fs.ErrNotExist) {
			return c
		}
	}
	return ""
}

// ParseStatusDat reads a status.dat of Nagios 3/4, Icinga 1 or Naemon:
// the hoststatus and servicestatus blocks; other blocks (info,
// programstatus, contactstatus, comments, downtimes) are skipped. It reads
// line by line and never holds the whole file. Hosts and services keep the
// file's order; Alias is empty (it is in objects.cache).
//
// current_state maps to Up/Down/Unreachable (hosts) or
// OK/Warning/Critical/Unknown (services); has_been_checked=0 is Pending.
// Output is plugin_output as written (Nagios does not escape it), then,
// on the next lines, long_plugin_output with its \n and \\ escapes undone;
// trailing blanks are dropped. Times are unix seconds; Nagios writes
// last_state_change=0 for an object still in the state it started in.
//
// A block not closed at the end of the input or a last line cut in half
// (a copy taken while Nagios was writing), a line longer than
// MaxStatusDatLine, a malformed line or state, or input without any info,
// hoststatus or servicestatus block is an error, never a partial State.
func ParseStatusDat(r io.Reader) (*State, error) {
	return parseStatusDat(context.Background(), r)
}

// block is one "NAME {" ... "}" block being read.
type block struct {
	name string
	line int // where it opened
	kv   map[string]string
}

// statusParser holds the state of one ParseStatusDat run.
type statusParser struct {
	st    State
	cur   *block
	known bool // an info, hoststatus or servicestatus block was seen
}

// parseStatusDat is ParseStatusDat, stopping when ctx ends.
func parseStatusDat(ctx context.Context, r io.Reader) (*State, error) {
	p := &statusParser{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxStatusDatLine)
	cut := false // the last line has no newline: the file was cut there
	sc.Split(func(data []byte, atEOF bool) (int, []byte, error) {
		adv, tok, err := bufio.ScanLines(data, atEOF)
		if atEOF && tok != nil && adv == len(data) && data[len(data)-1] != '\n' {
			cut = true
		}
		return adv, tok, err
	})
	n := 0
	for sc.Scan() {
		n++
		if n%ctxCheckLines == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err := p.line(n, sc.Text()); err != nil {
			if cut && strings.TrimSpace(sc.Text()) != "}" { // a line cut in half says nothing about the format
				return nil, p.truncated(n)
			}
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("line %d is longer than %d bytes; is this a status.dat?", n+1, MaxStatusDatLine)
		}
		return nil, fmt.Errorf("read after line %d: %w", n, err)
	}
	if p.cur != nil {
		return nil, p.truncated(n)
	}
	if !p.known {
		return nil, errors.New("does not look like a status.dat: no info, hoststatus or servicestatus block; " +
			"give the status_file of nagios.cfg")
	}
	return &p.st, nil
}

// truncated is the error for a file that ends inside a block or in the
// middle of line n.
func (p *statusParser) truncated(n int) error {
	const hint = "is Nagios writing it right now? Nagios replaces status.dat whole: " +
		"read the file itself, not a copy taken while it was written"
	if p.cur != nil {
		return fmt.Errorf("truncated: block %s opened at line %d not closed; %s", p.cur.name, p.cur.line, hint)
	}
	return fmt.Errorf("truncated: line %d is cut off; %s", n, hint)
}

// line handles one line of the file.
func (p *statusParser) line(n int, raw string) error {
	line := strings.TrimLeft(raw, " \t")
	k, v, isKV := strings.Cut(line, "=")
	switch {
	case line == "" || line[0] == '#':
		return nil
	case p.cur != nil && isKV: // also plugin_output=... { and =}
		if p.cur.kv != nil {
			p.cur.kv[k] = strings.TrimSuffix(v, "\r")
		}
		return nil
	case strings.HasSuffix(line, "{"):
		return p.open(n, strings.TrimSpace(strings.TrimSuffix(line, "{")))
	case strings.TrimSpace(line) == "}":
		return p.close(n)
	case p.cur == nil:
		return fmt.Errorf("line %d: %q outside a block; does not look like a status.dat", n, clip(line))
	}
	return fmt.Errorf("line %d in block %s (opened at line %d): %q is not key=value",
		n, p.cur.name, p.cur.line, clip(line))
}

// open starts a block.
func (p *statusParser) open(n int, name string) error {
	if p.cur != nil {
		return fmt.Errorf("line %d: block %s opens inside block %s (opened at line %d, not closed)",
			n, name, p.cur.name, p.cur.line)
	}
	if name == "" || strings.ContainsAny(name, " \t=") {
		return fmt.Errorf("line %d: %q is not a block start; does not look like a status.dat", n, clip(name+" {"))
	}
	p.cur = &block{name: name, line: n}
	switch name {
	case "hoststatus", "servicestatus":
		p.cur.kv = make(map[string]string, 64)
		p.known = true
	case "info":
		p.known = true
	}
	return nil
}

// close ends a block and keeps a host or service.
func (p *statusParser) close(n int) error {
	b := p.cur
	if b == nil {
		return fmt.Errorf("line %d: } without an open block", n)
	}
	p.cur = nil
	switch b.name {
	case "hoststatus":
		h, err := hostOf(b)
		if err != nil {
			return err
		}
		p.st.Hosts = append(p.st.Hosts, h)
	case "servicestatus":
		s, err := serviceOf(b)
		if err != nil {
			return err
		}
		p.st.Services = append(p.st.Services, s)
	}
	return nil
}

// hostOf maps a hoststatus block.
func hostOf(b *block) (Host, error) {
	name := b.kv["host_name"]
	if name == "" {
		return Host{}, fmt.Errorf("block hoststatus at line %d has no host_name", b.line)
	}
	c, err := checkOf(b, []string{Up, Down, Unreachable})
	if err != nil {
		return Host{}, fmt.Errorf("block hoststatus at line %d (host %s): %w", b.line, name, err)
	}
	return Host{Name: name, Status: c.status, LastCheck: c.lastCheck,
		LastStateChange: c.lastChange, Output: c.output}, nil
}

// serviceOf maps a servicestatus block.
func serviceOf(b *block) (Service, error) {
	host, desc := b.kv["host_name"], b.kv["service_description"]
	if host == "" || desc == "" {
		return Service{}, fmt.Errorf("block servicestatus at line %d lacks host_name or service_description", b.line)
	}
	c, err := checkOf(b, []string{OK, Warning, Critical, Unknown})
	if err != nil {
		return Service{}, fmt.Errorf("block servicestatus at line %d (%s on %s): %w", b.line, desc, host, err)
	}
	return Service{Host: host, Name: desc, Status: c.status, LastCheck: c.lastCheck,
		LastStateChange: c.lastChange, Output: c.output}, nil
}

// check is what hosts and services share.
type check struct {
	status                string
	lastCheck, lastChange int64
	output                string
}

// checkOf reads the check result of a block; states maps current_state.
func checkOf(b *block, states []string) (check, error) {
	var c check
	var err error
	if c.lastCheck, err = intField(b.kv, "last_check"); err != nil {
		return c, err
	}
	if c.lastChange, err = intField(b.kv, "last_state_change"); err != nil {
		return c, err
	}
	// Nagios writes plugin_output as the plugin printed it (a Windows path
	// keeps its single backslashes), and escapes only long_plugin_output.
	c.output = joinOutput(b.kv["plugin_output"], unescape(b.kv["long_plugin_output"]))
	if b.kv["has_been_checked"] == "0" {
		c.status = Pending
		return c, nil
	}
	cs, ok := b.kv["current_state"]
	if !ok {
		return c, errors.New("no current_state")
	}
	i, err := strconv.Atoi(cs)
	if err != nil || i < 0 || i >= len(states) {
		return c, fmt.Errorf("current_state=%q is not one of 0..%d", clip(cs), len(states)-1)
	}
	c.status = states[i]
	return c, nil
}

// intField parses a numeric field; a missing one is 0.
func intField(kv map[string]string, key string) (int64, error) {
	v, ok := kv[key]
	if !ok || v == "" {
		return 0, nil
	}
	i, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s=%q is not a number", key, clip(v))
	}
	return i, nil
}

// joinOutput is the plugin output, then the long output on the next
// lines when there is any, without trailing blanks (the space a plugin
// leaves before "| perfdata"), as statusjson.cgi shows it.
func joinOutput(short, long string) string {
	short, long = strings.TrimRight(short, " \t"), strings.TrimRight(long, " \t\n")
	if long == "" {
		return short
	}
	return short + "\n" + long
}

// unescape undoes Nagios' escaping of long_plugin_output in status.dat:
// \n is a newline and \\ a backslash; any other backslash stays as it is.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case 'n':
			b.WriteByte('\n')
			i++
		case '\\':
			b.WriteByte('\\')
			i++
		default:
			b.WriteByte('\\')
		}
	}
	return b.String()
}

// clip shortens s for an error message.
func clip(s string) string {
	const max = 80
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}

// readAliases reads host_name → alias from the "define host" blocks of an
// objects.cache (tab-separated "key<TAB>value" lines).
func readAliases(ctx context.Context, path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w; make it readable or remove it", err)
	}
	defer f.Close()
	aliases, err := parseAliases(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("objects.cache %s: %w", path, err)
	}
	return aliases, nil
}

// parseAliases is readAliases on an open file.
func parseAliases(ctx context.Context, r io.Reader) (map[string]string, error) {
	aliases := map[string]string{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxStatusDatLine)
	inHost, openedAt, n := false, 0, 0
	var name, alias string
	for sc.Scan() {
		n++
		if n%ctxCheckLines == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "define ") && strings.HasSuffix(line, "{"):
			inHost, openedAt, name, alias = strings.Fields(line)[1] == "host", n, "", ""
		case line == "}":
			if inHost && name != "" && alias != "" {
				aliases[name] = alias
			}
			inHost, openedAt = false, 0
		case inHost:
			k, v, _ := strings.Cut(line, "\t")
			switch k {
			case "host_name":
				name = strings.TrimSpace(v)
			case "alias":
				alias = strings.TrimSpace(v)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("after line %d: %w", n, err)
	}
	if openedAt != 0 {
		return nil, fmt.Errorf("truncated: define at line %d not closed", openedAt)
	}
	return aliases, nil
}
