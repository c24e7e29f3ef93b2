package monitor

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// maxIcinga2Response caps one REST API answer. 18 services take 18 KB;
// 64 MiB is room for about 60 000 services with their check results.
const maxIcinga2Response = 64 << 20

// icinga2Timeout bounds one request when the caller's context has no
// deadline of its own.
const icinga2Timeout = 2 * time.Minute

// Attributes asked for. The API takes them as repeated attrs= query
// parameters (or as a JSON body {"attrs":[...]} with POST and
// X-HTTP-Method-Override: GET; both tried on Icinga 2.13). Sub-attributes
// such as last_check_result.output are refused ("Invalid field
// specified"), so the whole check result comes back, plugin command line
// and performance data included.
var (
	icinga2HostAttrs = []string{"name", "display_name", "state", "last_check", "last_state_change",
		"last_hard_state_change", "last_check_result"}
	icinga2ServiceAttrs = []string{"host_name", "name", "display_name", "state", "last_check",
		"last_state_change", "last_hard_state_change", "last_check_result"}
)

// icinga2 reads hosts and services from the Icinga 2 REST API
// (/v1/objects/hosts and /v1/objects/services).
type icinga2 struct {
	base   url.URL // https://host:port, plus a path prefix of a reverse proxy
	auth   Auth
	client *http.Client
	limit  int64 // the largest answer read, maxIcinga2Response
}

// newIcinga2 makes the source for icinga2+https://host:5665. TLS is
// verified against the system roots or ?ca=, and skipped only with
// ?insecure=true (both in o.TLS).
func newIcinga2(u *url.URL, o Options) (Source, error) {
	if u.Host == "" {
		return nil, fmt.Errorf("monitoring source %s: no host; use icinga2+https://user:password@host:5665",
			Redact(u.String()))
	}
	tc := o.TLS
	if tc == nil {
		tc = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		TLSClientConfig:       tc.Clone(),
		TLSHandshakeTimeout:   30 * time.Second,
		ResponseHeaderTimeout: icinga2Timeout,
		MaxIdleConnsPerHost:   2,
	}
	return &icinga2{
		base:   url.URL{Scheme: "https", Host: u.Host, Path: strings.TrimSuffix(u.Path, "/")},
		auth:   o.Auth,
		client: &http.Client{Transport: tr},
		limit:  maxIcinga2Response,
	}, nil
}

// String names the source as "icinga2 https://host:5665", without
// credentials.
func (s *icinga2) String() string { return "icinga2 " + s.base.String() }

// Fetch reads all hosts and services.
func (s *icinga2) Fetch(ctx context.Context) (*State, error) {
	ctx, cancel := withDefaultTimeout(ctx, icinga2Timeout)
	defer cancel()
	body, err := s.get(ctx, "hosts", icinga2HostAttrs)
	if err != nil {
		return nil, err
	}
	hosts, err := parseIcinga2Hosts(body)
	if err != nil {
		return nil, fmt.Errorf("%s: hosts: %w", s, err)
	}
	body, err = s.get(ctx, "services", icinga2ServiceAttrs)
	if err != nil {
		return nil, err
	}
	services, err := parseIcinga2Services(body)
	if err != nil {
		return nil, fmt.Errorf("%s: services: %w", s, err)
	}
	return &State{Hosts: hosts, Services: services}, nil
}

// get fetches /v1/objects/TYPE with the given attributes and returns the
// body of a 200 answer.
func (s *icinga2) get(ctx context.Context, typ string, attrs []string) ([]byte, error) {
	u := s.base
	u.Path += "/v1/objects/" + typ
	u.RawQuery = url.Values{"attrs": attrs}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", s, stripURL(err))
	}
	if s.auth.User != "" || s.auth.Password != "" {
		req.SetBasicAuth(s.auth.User, s.auth.Password)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, s.connError(err)
	}
	defer resp.Body.Close()
	body, err := readAtMost(resp.Body, s.limit)
	if err != nil {
		return nil, fmt.Errorf("%s: read %s: %w", s, typ, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, s.statusError(resp.StatusCode, typ, body)
	}
	return body, nil
}

// readAtMost reads r to the end, failing when it holds more than limit
// bytes.
func readAtMost(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("response larger than %d MiB", limit>>20)
	}
	return b, nil
}

// statusError explains a non-200 answer.
func (s *icinga2) statusError(code int, typ string, body []byte) error {
	switch code {
	case http.StatusUnauthorized:
		who := "no user given; add user:password@ to the URL or ?user= with ?password_file="
		if s.auth.User != "" {
			who = "user " + s.auth.User
		}
		return fmt.Errorf("%s: authentication failed (HTTP 401); check user and password (%s)", s, who)
	case http.StatusForbidden:
		return fmt.Errorf("%s: the API user %q may not read %s (HTTP 403: %s); grant it "+
			"permissions = [ \"objects/query/Host\", \"objects/query/Service\" ] in its ApiUser",
			s, s.auth.User, typ, icinga2Status(body))
	case http.StatusNotFound:
		return fmt.Errorf("%s: /v1/objects/%s not found (HTTP 404: %s); is this the Icinga 2 API port (5665)?",
			s, typ, icinga2Status(body))
	}
	return fmt.Errorf("%s: /v1/objects/%s: HTTP %d: %s", s, typ, code, icinga2Status(body))
}

// icinga2Status is the message of an API error body such as
// {"error":400,"status":"Invalid field specified: x"}, or the start of a
// body that is not one.
func icinga2Status(body []byte) string {
	var e struct {
		Status string `json:"status"`
	}
	if json.Unmarshal(body, &e) == nil && e.Status != "" {
		return e.Status
	}
	msg := strings.Join(strings.Fields(string(body)), " ")
	if len(msg) > 200 {
		msg = msg[:200] + "..."
	}
	if msg == "" {
		return "empty body"
	}
	return msg
}

// connError explains a failed connection: refused, TLS not trusted, or
// timed out.
func (s *icinga2) connError(err error) error {
	err = stripURL(err)
	var unknownCA x509.UnknownAuthorityError
	var badHost x509.HostnameError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("%s: connection refused; is Icinga 2 running with the api feature "+
			"(icinga2 feature enable api) and is the port right (default 5665)?", s)
	case errors.As(err, &unknownCA):
		return fmt.Errorf("%s: TLS certificate not trusted (%v); give Icinga's CA with "+
			"?ca=/var/lib/icinga2/certs/ca.crt (copy it from the Icinga host), "+
			"or, only for a test, ?insecure=true", s, err)
	case errors.As(err, &badHost):
		return fmt.Errorf("%s: TLS certificate does not match the host (%v); connect by a name "+
			"the certificate holds (Icinga's is usually its NodeName, the FQDN)", s, err)
	case errors.As(err, &invalid):
		return fmt.Errorf("%s: TLS certificate invalid (%v)", s, err)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s: no answer in time: %v", s, err)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("%s: timed out: %v", s, err)
	}
	return fmt.Errorf("%s: %v", s, err)
}

// icinga2CheckResult is the part of last_check_result read here. Output
// holds the whole plugin output: first line, then the long output after a
// newline (performance data removed).
type icinga2CheckResult struct {
	Output string `json:"output"`
}

// icinga2Object is the attributes of one host or service.
type icinga2Object struct {
	HostName            string              `json:"host_name"`
	Name                string              `json:"name"`
	DisplayName         string              `json:"display_name"`
	State               *float64            `json:"state"`
	LastCheck           float64             `json:"last_check"`
	LastStateChange     float64             `json:"last_state_change"`
	LastHardStateChange float64             `json:"last_hard_state_change"`
	LastCheckResult     *icinga2CheckResult `json:"last_check_result"`
}

// icinga2Objects is an /v1/objects answer.
type icinga2Objects struct {
	Results *[]struct {
		Attrs *icinga2Object `json:"attrs"`
	} `json:"results"`
}

// decodeIcinga2 parses an /v1/objects answer into its objects' attributes.
func decodeIcinga2(body []byte) ([]icinga2Object, error) {
	var r icinga2Objects
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("malformed JSON: %w", err)
	}
	if r.Results == nil {
		return nil, errors.New(`malformed answer: no "results" array`)
	}
	objs := make([]icinga2Object, 0, len(*r.Results))
	for n, res := range *r.Results {
		if res.Attrs == nil {
			return nil, fmt.Errorf("result %d: no attrs", n)
		}
		objs = append(objs, *res.Attrs)
	}
	return objs, nil
}

// parseIcinga2Hosts parses an /v1/objects/hosts answer. Any malformed
// object fails the whole answer: no partial data.
func parseIcinga2Hosts(body []byte) ([]Host, error) {
	objs, err := decodeIcinga2(body)
	if err != nil {
		return nil, err
	}
	hosts := make([]Host, 0, len(objs))
	for n, o := range objs {
		h, err := icinga2Host(o)
		if err != nil {
			return nil, fmt.Errorf("host %d (%q): %w", n, o.Name, err)
		}
		hosts = append(hosts, h)
	}
	return hosts, nil
}

// icinga2Host converts one host: state 0 UP, 1 DOWN (2 UNREACHABLE is
// accepted too); no check result yet means Pending, whatever the state
// (Icinga reports pending hosts as DOWN).
func icinga2Host(o icinga2Object) (Host, error) {
	if o.Name == "" {
		return Host{}, errors.New("no name")
	}
	state, err := icinga2State(o.State, []string{Up, Down, Unreachable})
	if err != nil {
		return Host{}, err
	}
	times, err := icinga2Times(o)
	if err != nil {
		return Host{}, err
	}
	h := Host{Name: o.Name, Alias: o.DisplayName, Status: state,
		LastCheck: times[0], LastStateChange: times[1]}
	if o.LastCheckResult == nil {
		h.Status = Pending
	} else {
		h.Output = o.LastCheckResult.Output
	}
	return h, nil
}

// parseIcinga2Services parses an /v1/objects/services answer. Any
// malformed object fails the whole answer: no partial data.
func parseIcinga2Services(body []byte) ([]Service, error) {
	objs, err := decodeIcinga2(body)
	if err != nil {
		return nil, err
	}
	services := make([]Service, 0, len(objs))
	for n, o := range objs {
		s, err := icinga2Service(o)
		if err != nil {
			return nil, fmt.Errorf("service %d (%q!%q): %w", n, o.HostName, o.Name, err)
		}
		services = append(services, s)
	}
	return services, nil
}

// icinga2Service converts one service: state 0 OK, 1 WARNING,
// 2 CRITICAL, 3 UNKNOWN; no check result yet means Pending (Icinga
// reports pending services as UNKNOWN). The name is the display_name,
// what users see, falling back to the object name.
func icinga2Service(o icinga2Object) (Service, error) {
	if o.HostName == "" {
		return Service{}, errors.New("no host_name")
	}
	name := o.DisplayName
	if name == "" {
		name = o.Name
	}
	if name == "" {
		return Service{}, errors.New("no name")
	}
	state, err := icinga2State(o.State, []string{OK, Warning, Critical, Unknown})
	if err != nil {
		return Service{}, err
	}
	times, err := icinga2Times(o)
	if err != nil {
		return Service{}, err
	}
	s := Service{Host: o.HostName, Name: name, Status: state,
		LastCheck: times[0], LastStateChange: times[1]}
	if o.LastCheckResult == nil {
		s.Status = Pending
	} else {
		s.Output = o.LastCheckResult.Output
	}
	return s, nil
}

// icinga2State maps a numeric state onto names[state].
func icinga2State(v *float64, names []string) (string, error) {
	if v == nil {
		return "", errors.New("no state")
	}
	n := *v
	if n != math.Trunc(n) || n < 0 || int(n) >= len(names) {
		return "", fmt.Errorf("state %v is not one of 0..%d", n, len(names)-1)
	}
	return names[int(n)], nil
}

// icinga2Times returns last_check and the last state change in unix
// seconds. Never checked is -1 in the API, 0 here. last_state_change is 0
// when the first result kept the initial state (seen for an UNKNOWN
// service and a DOWN host); then last_hard_state_change is the time.
func icinga2Times(o icinga2Object) ([2]int64, error) {
	check, err := icingaSeconds(o.LastCheck)
	if err != nil {
		return [2]int64{}, fmt.Errorf("last_check: %w", err)
	}
	change, err := icingaSeconds(o.LastStateChange)
	if err != nil {
		return [2]int64{}, fmt.Errorf("last_state_change: %w", err)
	}
	if change == 0 {
		if change, err = icingaSeconds(o.LastHardStateChange); err != nil {
			return [2]int64{}, fmt.Errorf("last_hard_state_change: %w", err)
		}
	}
	return [2]int64{check, change}, nil
}

// maxIcingaTime is the latest timestamp accepted: the year 9999.
const maxIcingaTime = 253402300799

// icingaSeconds converts float seconds to whole seconds; negative (never)
// becomes 0, beyond the year 9999 is an error.
func icingaSeconds(f float64) (int64, error) {
	if f <= 0 {
		return 0, nil
	}
	if f > maxIcingaTime {
		return 0, fmt.Errorf("timestamp %v out of range", f)
	}
	return int64(f), nil
}
