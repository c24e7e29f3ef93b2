package monitor

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// CheckResult is a passive service check result: what a plugin run would
// have said about a host's service.
type CheckResult struct {
	Host, Service string
	// State is the plugin state: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
	State int
	// Output is the status line without performance data, Long the
	// long output lines, Perf the performance data items.
	Output string
	Long   []string
	Perf   []string
}

// Submitter takes passive check results: a monitoring system that accepts
// commands.
type Submitter interface {
	// Submit hands over the results. It tries every one; the error
	// names those that failed.
	Submit(ctx context.Context, results []CheckResult) error
	// String names the target for messages, without credentials.
	String() string
}

// The submitters are the sources that take commands.
var (
	_ Submitter = (*icinga2)(nil)
	_ Submitter = (*livestatus)(nil)
	_ Submitter = (*commandFile)(nil)
)

// OpenSubmitter parses a target of passive results. It takes what Open
// takes, with the same credentials and TLS options, except that a path
// must be the external command file of Nagios or Naemon (a FIFO), since
// a status.dat file takes no commands; nagios+https:// sources (the
// read-only statusjson.cgi) are refused the same way.
func OpenSubmitter(source string, def Auth) (Submitter, error) {
	if err := Check(source); err != nil {
		return nil, err
	}
	if !strings.Contains(source, "://") {
		return newCommandFile(source), nil
	}
	u, _ := url.Parse(source) // Check parsed it
	switch u.Scheme {
	case "nagios+https", "nagios+http":
		return nil, fmt.Errorf("%s is Nagios' statusjson.cgi, which only reads; submit to the external command file "+
			"(command_file in nagios.cfg, e.g. /var/lib/nagios4/rw/nagios.cmd) or to Livestatus instead", Redact(source))
	case "livestatus+unix":
		return newLivestatus("unix", u.Path).(*livestatus), nil
	case "livestatus+tcp":
		return newLivestatus("tcp", u.Host).(*livestatus), nil
	}
	opts, err := options(u, def)
	if err != nil {
		return nil, fmt.Errorf("monitoring source %s: %w", Redact(source), err)
	}
	src, err := newIcinga2(u, opts)
	if err != nil {
		return nil, err
	}
	return src.(*icinga2), nil
}

// maxCommandLine is the longest external command written. Writes to a
// FIFO of at most PIPE_BUF (4096 bytes on Linux) are atomic, so a
// command never interleaves with one the web interface sends meanwhile.
const maxCommandLine = 4096

// processServiceCheckResult is the external command that Nagios, Naemon,
// Icinga 2's Livestatus and command pipe understand, with its "[time] "
// prefix, without the newline: PROCESS_SERVICE_CHECK_RESULT;host;service;
// code;output|perfdata, the long output after literal \n sequences (the
// escaped newlines the cores unescape). Long output lines are dropped
// from the end until the command fits maxCommandLine.
func processServiceCheckResult(r CheckResult, now time.Time) (string, error) {
	for _, x := range [][2]string{{"host", r.Host}, {"service", r.Service}} {
		if name := x[1]; name == "" || strings.ContainsAny(name, ";") || strings.ContainsFunc(name, unicode.IsControl) {
			return "", fmt.Errorf("%s name %q cannot be written into an external command (empty, ';' or a control character)", x[0], name)
		}
	}
	if r.State < 0 || r.State > 3 {
		return "", fmt.Errorf("%s!%s: state %d is not 0..3", r.Host, r.Service, r.State)
	}
	head := "[" + strconv.FormatInt(now.Unix(), 10) + "] PROCESS_SERVICE_CHECK_RESULT;" + r.Host + ";" + r.Service + ";" +
		strconv.Itoa(r.State) + ";" + oneLine(r.Output)
	if len(r.Perf) > 0 {
		head += "|" + oneLine(strings.Join(r.Perf, " "))
	}
	if len(head) > maxCommandLine-1 {
		return "", fmt.Errorf("%s!%s: the status line alone is longer than %d bytes", r.Host, r.Service, maxCommandLine)
	}
	line := head
	for _, l := range r.Long {
		next := line + `\n` + oneLine(l)
		if len(next) > maxCommandLine-1 {
			break
		}
		line = next
	}
	return line, nil
}

// oneLine keeps a text on one command line: control characters (a
// newline would start a second command) become spaces.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

// submitErrors collects the results that failed, naming at most a few.
type submitErrors struct {
	target string
	failed []string
	first  []error
}

func (e *submitErrors) add(r CheckResult, err error) {
	e.failed = append(e.failed, r.Host)
	if len(e.first) < 3 {
		// The target is named once, in front of all.
		e.first = append(e.first, errors.New(strings.TrimPrefix(err.Error(), e.target+": ")))
	}
}

func (e *submitErrors) err(total int) error {
	if len(e.failed) == 0 {
		return nil
	}
	hosts := e.failed
	more := ""
	if len(hosts) > 3 {
		hosts, more = hosts[:3], fmt.Sprintf(", +%d more", len(hosts)-3)
	}
	return fmt.Errorf("%s: %d of %d results not taken (hosts %s%s): %w", e.target, len(e.failed), total,
		strings.Join(hosts, ", "), more, errors.Join(e.first...))
}
