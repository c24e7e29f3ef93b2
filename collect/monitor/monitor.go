// Package monitor reads alert state from monitoring systems: Nagios,
// Icinga 1 and Naemon status.dat files, the Icinga 2 REST API, MK
// Livestatus (Checkmk, Naemon, Icinga 2) and Nagios Core 4's
// statusjson.cgi. Every source yields the same State.
package monitor

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"
)

// Host states, as Nagios names them. Numeric states of Icinga 2 and
// Livestatus are mapped onto these.
const (
	Up          = "UP"
	Down        = "DOWN"
	Unreachable = "UNREACHABLE"
	// Pending is a host or service that has not been checked yet: not OK.
	Pending = "PENDING"
)

// Service states.
const (
	OK       = "OK"
	Warning  = "WARNING"
	Critical = "CRITICAL"
	Unknown  = "UNKNOWN"
)

// Host is one monitored host.
type Host struct {
	Name  string
	Alias string // the display name / alias; "" when the source has none
	// Status is Up, Down, Unreachable or Pending.
	Status          string
	LastCheck       int64 // unix seconds; 0 never
	LastStateChange int64
	// Output is the plugin output; long output follows after a newline.
	Output string
}

// Service is one service check of a host.
type Service struct {
	Host string // the host's Name
	Name string // service_description / display name of the check
	// Status is OK, Warning, Critical, Unknown or Pending.
	Status          string
	LastCheck       int64
	LastStateChange int64
	Output          string
}

// State is everything a source reported in one read.
type State struct {
	Hosts    []Host
	Services []Service
}

// Source is a monitoring system to read.
type Source interface {
	// Fetch reads the current state.
	Fetch(ctx context.Context) (*State, error)
	// String names the source for messages, without credentials.
	String() string
}

// Auth holds credentials for HTTP sources.
type Auth struct {
	User, Password string
}

// InstanceAuth is the user and password (or password_file) of the
// nagios_instance setting's fields: the credentials for a source whose
// URL carries none.
func InstanceAuth(fields map[string]string) (Auth, error) {
	a := Auth{User: fields["user"], Password: fields["password"]}
	if f := fields["password_file"]; f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return a, fmt.Errorf("nagios_instance password_file: %w", err)
		}
		a.Password = strings.TrimRight(string(b), "\r\n")
	}
	return a, nil
}

// Options are the source-independent settings of a source URL.
type Options struct {
	Auth Auth
	// TLS is the client configuration for https sources: the system roots,
	// or the ?ca=FILE roots, or no verification with ?insecure=true.
	TLS *tls.Config
}

// Open parses a --monitoring SOURCE:
//
//	/var/lib/nagios4/status.dat                     a status.dat file
//	icinga2+https://user:pass@host:5665             Icinga 2 REST API
//	livestatus+unix:///run/naemon/live              MK Livestatus, unix socket
//	livestatus+tcp://host:6557                      MK Livestatus, TCP
//	nagios+https://user:pass@host/nagios4/cgi-bin   Nagios Core 4 statusjson.cgi
//
// Credentials come from the URL's user info or ?user=NAME with
// ?password_file=FILE (a file holding the password) or ?password_env=VAR;
// def supplies those not in the URL (nagios_instance). TLS: ?ca=FILE to
// trust a private CA, ?insecure=true to skip verification (only when
// asked for).
func Open(source string, def Auth) (Source, error) {
	if err := Check(source); err != nil {
		return nil, err
	}
	if !strings.Contains(source, "://") {
		return newStatusDat(source), nil
	}
	u, _ := url.Parse(source) // Check parsed it
	opts, err := options(u, def)
	if err != nil {
		return nil, fmt.Errorf("monitoring source %s: %w", Redact(source), err)
	}
	return schemes[u.Scheme](u, opts) // Check made sure it is known
}

// schemes open the monitoring sources a URL can name, by its scheme: the
// one list Open and Check both go by.
var schemes = map[string]func(u *url.URL, o Options) (Source, error){
	"icinga2+https":   newIcinga2,
	"nagios+https":    newNagiosCGI,
	"nagios+http":     newNagiosCGI,
	"livestatus+unix": func(u *url.URL, _ Options) (Source, error) { return newLivestatus("unix", u.Path), nil },
	"livestatus+tcp":  func(u *url.URL, _ Options) (Source, error) { return newLivestatus("tcp", u.Host), nil },
}

// Schemes are the URL schemes of monitoring sources, sorted.
func Schemes() []string { return slices.Sorted(maps.Keys(schemes)) }

// Check tells whether source is well-formed (a path, or a URL with a known
// scheme) without reading credential files or connecting: for command-line
// validation.
func Check(source string) error {
	if source == "" {
		return errors.New("empty monitoring source; give a status.dat path or a URL")
	}
	if !strings.Contains(source, "://") {
		return nil
	}
	u, err := url.Parse(source)
	if err != nil {
		return fmt.Errorf("monitoring source %q is not a URL: %v", Redact(source), stripURL(err))
	}
	if _, ok := schemes[u.Scheme]; ok {
		return nil
	}
	return fmt.Errorf("monitoring source %s: unknown scheme %q; use a status.dat path, icinga2+https://, "+
		"livestatus+unix://, livestatus+tcp:// or nagios+https://", Redact(source), u.Scheme)
}

// options reads credentials and TLS settings from the URL query.
func options(u *url.URL, def Auth) (Options, error) {
	q := u.Query()
	o := Options{Auth: def}
	if n := q.Get("user"); n != "" {
		o.Auth.User = n
	}
	if u.User != nil {
		o.Auth.User = u.User.Username()
		if p, ok := u.User.Password(); ok {
			o.Auth.Password = p
		}
	}
	if f := q.Get("password_file"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return o, fmt.Errorf("read password_file: %w", err)
		}
		o.Auth.Password = strings.TrimRight(string(b), "\r\n")
	}
	if v := q.Get("password_env"); v != "" {
		p, ok := os.LookupEnv(v)
		if !ok {
			return o, fmt.Errorf("password_env: environment variable %s is not set", v)
		}
		o.Auth.Password = p
	}
	o.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
	if ca := q.Get("ca"); ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return o, fmt.Errorf("read ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return o, fmt.Errorf("ca %s holds no PEM certificate", ca)
		}
		o.TLS.RootCAs = pool
	}
	if q.Get("insecure") == "true" {
		o.TLS.InsecureSkipVerify = true
	}
	return o, nil
}

// Redact hides passwords in a source for messages and logs.
// A URL that does not parse (a bad port, say) still has whatever stands
// between "://" and the last "@" of its host part masked.
func Redact(source string) string {
	scheme, rest, isURL := strings.Cut(source, "://")
	if !isURL {
		return source
	}
	if u, err := url.Parse(source); err == nil {
		return u.Redacted()
	}
	authority := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority = rest[:i]
	}
	at := strings.LastIndex(authority, "@")
	if at < 0 {
		return source
	}
	user, _, _ := strings.Cut(authority[:at], ":")
	return scheme + "://" + user + ":xxxxx" + rest[at:]
}

// stripURL keeps a url.Error from repeating the URL (and its password).
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// sortState orders hosts by name and services by host and name, so a
// source whose answer comes from a map reads the same every time.
func sortState(st *State) {
	slices.SortFunc(st.Hosts, func(a, b Host) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(st.Services, func(a, b Service) int {
		return cmp.Or(strings.Compare(a.Host, b.Host), strings.Compare(a.Name, b.Name))
	})
}

// withDefaultTimeout bounds ctx by d unless the caller already gave it a
// deadline.
func withDefaultTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d)
}
