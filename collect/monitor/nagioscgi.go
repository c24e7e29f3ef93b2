package monitor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxCGIAnswer caps one statusjson.cgi answer, in bytes.
const maxCGIAnswer = 64 << 20

// defaultCGITimeout bounds a Fetch whose context has no deadline.
const defaultCGITimeout = 2 * time.Minute

// nagiosCGI reads Nagios Core 4's statusjson.cgi, as the web server of a
// Nagios installation serves it (Debian: https://HOST/nagios4/cgi-bin).
type nagiosCGI struct {
	base   *url.URL // .../cgi-bin, without credentials and query
	auth   Auth
	client *http.Client
}

// newNagiosCGI returns the source for a nagios+https:// (or nagios+http://,
// for plain HTTP to a local proxy) URL of the cgi-bin directory. It uses
// o.Auth for HTTP basic auth and o.TLS for https. Host aliases are not in
// statusjson.cgi's answers: Alias stays empty.
func newNagiosCGI(u *url.URL, o Options) (Source, error) {
	if u.Host == "" {
		return nil, fmt.Errorf("monitoring source %s: no host; use nagios+https://HOST/nagios4/cgi-bin",
			Redact(u.String()))
	}
	base := &url.URL{Scheme: strings.TrimPrefix(u.Scheme, "nagios+"), Host: u.Host,
		Path: strings.TrimSuffix(u.Path, "/")}
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		TLSClientConfig:       o.TLS,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: time.Minute,
		MaxIdleConnsPerHost:   2,
	}
	return &nagiosCGI{base: base, auth: o.Auth, client: &http.Client{Transport: tr}}, nil
}

// String names the source by its URL, without credentials.
func (n *nagiosCGI) String() string { return "nagios " + n.base.String() }

// Fetch asks statusjson.cgi for the host list and the service list.
func (n *nagiosCGI) Fetch(ctx context.Context) (*State, error) {
	ctx, cancel := withDefaultTimeout(ctx, defaultCGITimeout)
	defer cancel()
	hosts, err := n.query(ctx, "hostlist")
	if err != nil {
		return nil, err
	}
	services, err := n.query(ctx, "servicelist")
	if err != nil {
		return nil, err
	}
	st, err := parseStatusJSON(hosts, services)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", n, err)
	}
	if len(st.Hosts) == 0 {
		return nil, fmt.Errorf("%s: statusjson.cgi shows user %q no hosts; authorize the user in cgi.cfg "+
			"(authorized_for_all_hosts, authorized_for_all_services) or make it a contact of the hosts", n, n.auth.User)
	}
	return st, nil
}

// query GETs statusjson.cgi?query=q&details=true and returns the body.
func (n *nagiosCGI) query(ctx context.Context, q string) ([]byte, error) {
	u := n.base.JoinPath("statusjson.cgi")
	u.RawQuery = url.Values{"query": {q}, "details": {"true"}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", n, err)
	}
	req.Header.Set("Accept", "application/json")
	if n.auth.User != "" || n.auth.Password != "" {
		req.SetBasicAuth(n.auth.User, n.auth.Password)
	}
	resp, err := n.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", n, stripURL(err))
	}
	defer resp.Body.Close()
	if err := n.checkStatus(resp); err != nil {
		return nil, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxCGIAnswer+1))
	if err != nil {
		return nil, fmt.Errorf("%s: read %s answer: %v", n, q, stripURL(err))
	}
	if len(body) > maxCGIAnswer {
		return nil, fmt.Errorf("%s: %s answer is larger than %d MiB", n, q, maxCGIAnswer>>20)
	}
	return body, nil
}

// checkStatus turns an HTTP error or a non-JSON answer into an error that
// says what to do.
func (n *nagiosCGI) checkStatus(resp *http.Response) error {
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusUnauthorized:
		return fmt.Errorf("%s: authentication failed (HTTP 401); check user and password (user %q)", n, n.auth.User)
	case http.StatusForbidden:
		return fmt.Errorf("%s: access denied (HTTP 403) for user %q; check the web server's access rules", n, n.auth.User)
	case http.StatusNotFound:
		return fmt.Errorf("%s: statusjson.cgi not found (HTTP 404); give the cgi-bin URL of Nagios Core 4, "+
			"like nagios+https://HOST/nagios4/cgi-bin", n)
	default:
		return fmt.Errorf("%s: HTTP %s%s", n, resp.Status, snippet(resp.Body))
	}
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if ct != "application/json" {
		return fmt.Errorf("%s: answer is %q, not JSON; is this the cgi-bin URL of Nagios Core 4 (statusjson.cgi)?",
			n, resp.Header.Get("Content-Type"))
	}
	return nil
}

// snippet is the start of an error page, for a message.
func snippet(r io.Reader) string {
	b, _ := io.ReadAll(io.LimitReader(r, 200))
	s := strings.Join(strings.Fields(string(b)), " ")
	if s == "" {
		return ""
	}
	return ": " + clip(s)
}

// cgiAnswer is a statusjson.cgi answer to hostlist or servicelist with
// details=true (Nagios Core 4.4).
type cgiAnswer struct {
	Result struct {
		TypeCode int    `json:"type_code"`
		TypeText string `json:"type_text"`
		Message  string `json:"message"`
	} `json:"result"`
	Data struct {
		HostList    map[string]cgiObject            `json:"hostlist"`
		ServiceList map[string]map[string]cgiObject `json:"servicelist"`
	} `json:"data"`
}

// cgiObject is a host or service with details. Times are milliseconds.
type cgiObject struct {
	Status          int    `json:"status"`
	HasBeenChecked  bool   `json:"has_been_checked"`
	LastCheck       int64  `json:"last_check"`
	LastStateChange int64  `json:"last_state_change"`
	PluginOutput    string `json:"plugin_output"`
	LongOutput      string `json:"long_plugin_output"`
}

// statusjson.cgi's state bits.
var (
	cgiHostStates    = map[int]string{1: Pending, 2: Up, 4: Down, 8: Unreachable}
	cgiServiceStates = map[int]string{1: Pending, 2: OK, 4: Warning, 8: Unknown, 16: Critical}
)

// parseStatusJSON reads the hostlist and servicelist answers into a State
// sorted by host and service name.
func parseStatusJSON(hostsJSON, servicesJSON []byte) (*State, error) {
	h, err := decodeCGI(hostsJSON, "hostlist")
	if err != nil {
		return nil, err
	}
	s, err := decodeCGI(servicesJSON, "servicelist")
	if err != nil {
		return nil, err
	}
	if h.Data.HostList == nil || s.Data.ServiceList == nil {
		return nil, errors.New("answer lacks data.hostlist or data.servicelist; is this Nagios Core 4's statusjson.cgi?")
	}
	st := &State{}
	for name, o := range h.Data.HostList {
		if name == "" {
			return nil, errors.New("hostlist has a host without a name")
		}
		c, err := cgiCheck(o, cgiHostStates)
		if err != nil {
			return nil, fmt.Errorf("host %s: %w", name, err)
		}
		st.Hosts = append(st.Hosts, Host{Name: name, Status: c.status,
			LastCheck: c.lastCheck, LastStateChange: c.lastChange, Output: c.output})
	}
	for host, svcs := range s.Data.ServiceList {
		for desc, o := range svcs {
			if host == "" || desc == "" {
				return nil, fmt.Errorf("servicelist has a service without a host or a name (%q on %q)", desc, host)
			}
			c, err := cgiCheck(o, cgiServiceStates)
			if err != nil {
				return nil, fmt.Errorf("service %s on %s: %w", desc, host, err)
			}
			st.Services = append(st.Services, Service{Host: host, Name: desc, Status: c.status,
				LastCheck: c.lastCheck, LastStateChange: c.lastChange, Output: c.output})
		}
	}
	sortState(st)
	return st, nil
}

// decodeCGI decodes one answer and checks its result code.
func decodeCGI(b []byte, q string) (*cgiAnswer, error) {
	var a cgiAnswer
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&a); err != nil {
		return nil, fmt.Errorf("%s answer is not statusjson.cgi JSON: %w", q, err)
	}
	if a.Result.TypeCode != 0 {
		return nil, fmt.Errorf("%s query failed: %s: %s", q, a.Result.TypeText, a.Result.Message)
	}
	return &a, nil
}

// cgiCheck maps a host's or service's status bits, times and output.
func cgiCheck(o cgiObject, states map[int]string) (check, error) {
	c := check{lastCheck: o.LastCheck / 1000, lastChange: o.LastStateChange / 1000,
		output: joinOutput(o.PluginOutput, o.LongOutput)}
	if !o.HasBeenChecked {
		c.status = Pending
		return c, nil
	}
	name, ok := states[o.Status]
	if !ok {
		return c, fmt.Errorf("unknown status %d", o.Status)
	}
	c.status = name
	return c, nil
}
