package monitor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// maxLivestatusResponse caps one Livestatus answer (the fixed16 header
// announces the length before it is read).
const maxLivestatusResponse = 64 << 20

// livestatusTimeout bounds one query when the caller's context has no
// deadline of its own.
const livestatusTimeout = 2 * time.Minute

// Columns asked for. has_been_checked tells pending apart (the state of a
// pending object is a placeholder); last_hard_state_change stands in when
// last_state_change is 0.
var (
	livestatusHostColumns = []string{"name", "alias", "state", "has_been_checked", "last_check",
		"last_state_change", "last_hard_state_change", "plugin_output", "long_plugin_output"}
	livestatusServiceColumns = []string{"host_name", "description", "state", "has_been_checked", "last_check",
		"last_state_change", "last_hard_state_change", "plugin_output", "long_plugin_output"}
)

// livestatus reads hosts and services over MK Livestatus, from a unix
// socket or TCP, one connection per query.
//
// Checked against Icinga 2.13's own Livestatus implementation (the
// livestatus feature). The protocol is MK Livestatus' as Checkmk and
// Naemon (livestatus.o) speak it, and the columns are standard Nagios
// ones they have too, but this was not run against them. What Icinga 2
// does, and where it differs from those:
//   - ResponseHeader: fixed16 works: "200" + space + length right-aligned
//     in 11 bytes + newline, then the JSON body. Errors come the same way:
//     404 "Table 'x' does not exist.", 452 "Error: Column 'x' does not
//     exist in table 'hosts'." followed by a C++ stack trace (only the
//     first line is kept here). A request that is not a query gets no
//     answer at all: the connection just closes.
//   - long_plugin_output has newlines escaped as the two characters \n,
//     like Nagios/Naemon, but Icinga does not escape backslashes (Nagios
//     writes \\). plugin_output + "\n" + unescaped long_plugin_output
//     equals the API's last_check_result.output.
//   - alias is the host's display_name (Icinga has no separate alias).
//   - state of a host is 2 (UNREACHABLE) when Icinga finds it unreachable
//     through its parents; the REST API has only 0 UP and 1 DOWN.
//   - A pending (never checked) object has has_been_checked 0, last_check
//     -1 (Nagios-based cores keep 0 there), empty output, and a
//     placeholder state: 1 DOWN for hosts, 3 UNKNOWN for services, as in
//     the REST API. Only has_been_checked is trusted.
//   - last_state_change is 0 when the first check result kept the initial
//     state (seen for a DOWN host and an UNKNOWN service); then
//     last_hard_state_change holds the time.
//   - has_been_checked is 0/1; Icinga's acknowledged column is JSON
//     true/false, so flags are read as either.
type livestatus struct {
	network, addr string
	limit         int // the largest answer read, maxLivestatusResponse
}

// newLivestatus makes the source for livestatus+unix:///path (network
// "unix", addr the path) or livestatus+tcp://host:port (network "tcp").
func newLivestatus(network, addr string) Source {
	return &livestatus{network: network, addr: addr, limit: maxLivestatusResponse}
}

// String names the source: "livestatus unix:///path" or
// "livestatus tcp://host:port".
func (l *livestatus) String() string {
	return "livestatus " + l.network + "://" + l.addr
}

// Fetch reads all hosts and services.
func (l *livestatus) Fetch(ctx context.Context) (*State, error) {
	ctx, cancel := withDefaultTimeout(ctx, livestatusTimeout)
	defer cancel()
	body, err := l.query(ctx, livestatusQuery("hosts", livestatusHostColumns))
	if err != nil {
		return nil, err
	}
	hosts, err := parseLivestatusHosts(body)
	if err != nil {
		return nil, fmt.Errorf("%s: hosts: %w", l, err)
	}
	body, err = l.query(ctx, livestatusQuery("services", livestatusServiceColumns))
	if err != nil {
		return nil, err
	}
	services, err := parseLivestatusServices(body)
	if err != nil {
		return nil, fmt.Errorf("%s: services: %w", l, err)
	}
	return &State{Hosts: hosts, Services: services}, nil
}

// livestatusQuery is a GET of columns of table, answered as JSON behind a
// fixed16 header. The empty line ends the query.
func livestatusQuery(table string, columns []string) string {
	return "GET " + table + "\nColumns: " + strings.Join(columns, " ") +
		"\nOutputFormat: json\nResponseHeader: fixed16\n\n"
}

// query sends q on a new connection and returns the answer's body.
func (l *livestatus) query(ctx context.Context, q string) ([]byte, error) {
	c, done, err := l.dial(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	if _, err := io.WriteString(c, q); err != nil {
		return nil, fmt.Errorf("%s: send query: %v", l, l.ctxErr(ctx, err))
	}
	body, err := readLivestatus(c, l.limit)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", l, l.ctxErr(ctx, err))
	}
	return body, nil
}

// dial connects to Livestatus; the connection ends with ctx. done
// closes it.
func (l *livestatus) dial(ctx context.Context) (c net.Conn, done func(), err error) {
	var d net.Dialer
	c, err = d.DialContext(ctx, l.network, l.addr)
	if err != nil {
		return nil, nil, l.connError(err)
	}
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Now()) })
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	return c, func() { stop(); c.Close() }, nil
}

// ctxErr prefers the context's reason over the i/o timeout it caused.
// The connection's deadline is the context's, so the timeout can come a
// moment before the context notices.
func (l *livestatus) ctxErr(ctx context.Context, err error) error {
	cause := ctx.Err()
	if dl, ok := ctx.Deadline(); cause == nil && ok && errors.Is(err, os.ErrDeadlineExceeded) && !time.Now().Before(dl) {
		cause = context.DeadlineExceeded
	}
	if cause != nil {
		return fmt.Errorf("%w (%v)", cause, err)
	}
	return err
}

// connError explains a failed connect.
func (l *livestatus) connError(err error) error {
	switch {
	case errors.Is(err, syscall.ENOENT):
		return fmt.Errorf("%s: socket does not exist; is Livestatus enabled (Icinga 2: icinga2 feature "+
			"enable livestatus; Naemon/Checkmk: the livestatus broker module) and the path right?", l)
	case errors.Is(err, syscall.EACCES):
		return fmt.Errorf("%s: permission denied; run as a user in the socket's group "+
			"(nagios on Debian, icingacmd for Icinga 2 elsewhere)", l)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("%s: connection refused; is the monitoring daemon running "+
			"with a Livestatus listener there?", l)
	}
	return fmt.Errorf("%s: %v", l, err)
}

// livestatusHeaderLen is the size of a fixed16 response header.
const livestatusHeaderLen = 16

// readLivestatus reads a fixed16 header and the body it announces (at
// most limit bytes). A status other than 200 is an error carrying
// Livestatus' message.
func readLivestatus(r io.Reader, limit int) ([]byte, error) {
	var h [livestatusHeaderLen]byte
	if n, err := io.ReadFull(r, h[:]); err != nil {
		if n == 0 && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)) {
			return nil, errors.New("connection closed without an answer; is this a Livestatus socket?")
		}
		return nil, fmt.Errorf("read response header: %w", err)
	}
	code, length, err := parseFixed16(h[:])
	if err != nil {
		return nil, err
	}
	if length > limit {
		return nil, fmt.Errorf("answer of %d bytes is larger than the %d MiB limit", length, limit>>20)
	}
	body := make([]byte, length)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, fmt.Errorf("read %d-byte answer: %w", length, err)
	}
	if code != 200 {
		return nil, fmt.Errorf("query failed with status %d: %s", code, livestatusMessage(body))
	}
	return body, nil
}

// parseFixed16 parses a fixed16 header: a 3-digit status code, a space,
// the body length right-aligned in 11 bytes, a newline.
func parseFixed16(h []byte) (code, length int, err error) {
	if len(h) != livestatusHeaderLen || h[3] != ' ' || h[15] != '\n' {
		return 0, 0, fmt.Errorf("malformed response header %q; is ResponseHeader: fixed16 supported?", h)
	}
	code, err = strconv.Atoi(string(h[:3]))
	if err != nil || code < 100 {
		return 0, 0, fmt.Errorf("malformed status code in response header %q", h)
	}
	length, err = strconv.Atoi(strings.TrimLeft(string(h[4:15]), " "))
	if err != nil || length < 0 {
		return 0, 0, fmt.Errorf("malformed length in response header %q", h)
	}
	return code, length, nil
}

// livestatusMessage is the first line of an error body (Icinga appends a
// stack trace), shortened.
func livestatusMessage(body []byte) string {
	line, _, _ := bytes.Cut(bytes.TrimSpace(body), []byte("\n"))
	msg := strings.TrimSpace(string(line))
	if len(msg) > 300 {
		msg = msg[:300] + "..."
	}
	if msg == "" {
		return "no message"
	}
	return msg
}

// livestatusRow is one row, after its columns were checked.
type livestatusRow struct {
	name, alias   string // host name and alias, or host name and service description
	state         int
	checked       bool
	check, change int64
	output        string
}

// decodeLivestatus parses the JSON array of rows of the columns
// query; the last two columns are plugin_output and long_plugin_output.
func decodeLivestatus(body []byte, columns int) ([]livestatusRow, error) {
	var rows [][]json.RawMessage
	if err := json.Unmarshal(body, &rows); err != nil {
		return nil, fmt.Errorf("malformed JSON: %w", err)
	}
	if rows == nil {
		return nil, errors.New("malformed answer: not a JSON array of rows")
	}
	out := make([]livestatusRow, 0, len(rows))
	for n, cells := range rows {
		r, err := livestatusCells(cells, columns)
		if err != nil {
			return nil, fmt.Errorf("row %d: %w", n, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// livestatusCells converts the 9 cells of a host or service row:
// name, alias/description, state, has_been_checked, last_check,
// last_state_change, last_hard_state_change, plugin_output,
// long_plugin_output.
func livestatusCells(cells []json.RawMessage, columns int) (livestatusRow, error) {
	if len(cells) != columns {
		return livestatusRow{}, fmt.Errorf("%d columns, want %d", len(cells), columns)
	}
	var r livestatusRow
	var long string
	var state, checked float64
	var times [3]float64
	fields := []struct {
		name string
		dst  any
	}{
		{"name", &r.name}, {"alias/description", &r.alias}, {"state", &state},
		{"has_been_checked", &checked}, {"last_check", &times[0]}, {"last_state_change", &times[1]},
		{"last_hard_state_change", &times[2]}, {"plugin_output", &r.output}, {"long_plugin_output", &long},
	}
	for k, f := range fields {
		if err := livestatusCell(cells[k], f.dst); err != nil {
			return livestatusRow{}, fmt.Errorf("%s: %w", f.name, err)
		}
	}
	if state < 0 || state > 3 || state != math.Trunc(state) {
		return livestatusRow{}, fmt.Errorf("state %v is not one of 0..3", state)
	}
	r.state, r.checked = int(state), checked != 0
	var err error
	if r.check, err = icingaSeconds(times[0]); err != nil {
		return livestatusRow{}, fmt.Errorf("last_check: %w", err)
	}
	if r.change, err = icingaSeconds(times[1]); err != nil {
		return livestatusRow{}, fmt.Errorf("last_state_change: %w", err)
	}
	if r.change == 0 {
		if r.change, err = icingaSeconds(times[2]); err != nil {
			return livestatusRow{}, fmt.Errorf("last_hard_state_change: %w", err)
		}
	}
	if long != "" {
		r.output += "\n" + unescapeLongOutput(long)
	}
	return r, nil
}

// livestatusCell decodes a string cell into *string, or a number or
// boolean (true 1, false 0) cell into *float64.
func livestatusCell(raw json.RawMessage, dst any) error {
	switch d := dst.(type) {
	case *string:
		if len(raw) == 0 || raw[0] != '"' {
			return fmt.Errorf("want a string, got %.40s", raw)
		}
		return json.Unmarshal(raw, d)
	case *float64:
		var b bool
		if json.Unmarshal(raw, &b) == nil {
			*d = 0
			if b {
				*d = 1
			}
			return nil
		}
		if len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
			return fmt.Errorf("want a number, got %.40s", raw)
		}
		return json.Unmarshal(raw, d)
	}
	return fmt.Errorf("unsupported cell type %T", dst)
}

// unescapeLongOutput turns the \n escapes of long_plugin_output into
// newlines, and \\ into a backslash (as Nagios writes it).
func unescapeLongOutput(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	return strings.NewReplacer(`\\`, `\`, `\n`, "\n").Replace(s)
}

// parseLivestatusHosts parses the JSON body of the hosts query. States
// 0 UP, 1 DOWN, 2 UNREACHABLE; has_been_checked 0 is Pending.
func parseLivestatusHosts(body []byte) ([]Host, error) {
	rows, err := decodeLivestatus(body, len(livestatusHostColumns))
	if err != nil {
		return nil, err
	}
	names := []string{Up, Down, Unreachable}
	hosts := make([]Host, 0, len(rows))
	for n, r := range rows {
		if r.name == "" {
			return nil, fmt.Errorf("row %d: empty host name", n)
		}
		if r.state >= len(names) {
			return nil, fmt.Errorf("row %d (%s): host state %d is not one of 0..2", n, r.name, r.state)
		}
		h := Host{Name: r.name, Alias: r.alias, Status: names[r.state],
			LastCheck: r.check, LastStateChange: r.change, Output: r.output}
		if !r.checked {
			h.Status = Pending
		}
		hosts = append(hosts, h)
	}
	return hosts, nil
}

// parseLivestatusServices parses the JSON body of the services query.
// States 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN; has_been_checked 0 is
// Pending. The name is the service description (its object name).
func parseLivestatusServices(body []byte) ([]Service, error) {
	rows, err := decodeLivestatus(body, len(livestatusServiceColumns))
	if err != nil {
		return nil, err
	}
	names := []string{OK, Warning, Critical, Unknown}
	services := make([]Service, 0, len(rows))
	for n, r := range rows {
		if r.name == "" || r.alias == "" {
			return nil, fmt.Errorf("row %d: empty host name or service description", n)
		}
		s := Service{Host: r.name, Name: r.alias, Status: names[r.state],
			LastCheck: r.check, LastStateChange: r.change, Output: r.output}
		if !r.checked {
			s.Status = Pending
		}
		services = append(services, s)
	}
	return services, nil
}
