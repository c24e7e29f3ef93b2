package monitor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxCGIAnswer caps one statusjson.cgi answer.
const maxCGIAnswer = 64 << 20

// nagiosCGI reads Nagios Core 4's statusjson.cgi, as served by the web
// server of a Nagios installation (Debian: /nagios4/cgi-bin).
type nagiosCGI struct {
	base   *url.URL // .../cgi-bin, without credentials
	auth   Auth
	client *http.Client
}

func newNagiosCGI(u *url.URL, o Options) (Source, error) {
	base := *u
	base.Scheme = strings.TrimPrefix(u.Scheme, "nagios+")
	base.User, base.RawQuery = nil, ""
	base.Path = strings.TrimSuffix(base.Path, "/")
	return &nagiosCGI{base: &base, auth: o.Auth, client: &http.Client{
		Transport: &http.Transport{TLSClientConfig: o.TLS, Proxy: http.ProxyFromEnvironment},
		Timeout:   2 * time.Minute,
	}}, nil
}

func (n *nagiosCGI) String() string { return "nagios " + n.base.String() }

// Fetch asks for the host list and the service list with details.
func (n *nagiosCGI) Fetch(ctx context.Context) (*State, error) {
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
	return st, nil
}

func (n *nagiosCGI) query(ctx context.Context, q string) ([]byte, error) {
	u := n.base.JoinPath("statusjson.cgi")
	u.RawQuery = "query=" + q + "&details=true"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	if n.auth.User != "" {
		req.SetBasicAuth(n.auth.User, n.auth.Password)
	}
	resp, err := n.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", n, stripURL(err))
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return nil, fmt.Errorf("%s: authentication failed (HTTP 401); check user and password (user %q)", n, n.auth.User)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("%s: %s answered %s; is this the cgi-bin URL of Nagios 4?", n, u.Path, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxCGIAnswer+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", n, err)
	}
	if len(body) > maxCGIAnswer {
		return nil, fmt.Errorf("%s: answer larger than %d MiB", n, maxCGIAnswer>>20)
	}
	return body, nil
}

// cgiResult is the envelope of every statusjson.cgi answer.
type cgiResult struct {
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
	Name            string `json:"name"`
	HostName        string `json:"host_name"`
	Description     string `json:"description"`
	Status          int    `json:"status"`
	HasBeenChecked  bool   `json:"has_been_checked"`
	LastCheck       int64  `json:"last_check"`
	LastStateChange int64  `json:"last_state_change"`
	PluginOutput    string `json:"plugin_output"`
	LongOutput      string `json:"long_plugin_output"`
}

// statusjson.cgi's state bit values.
var (
	cgiHostStates    = map[int]string{1: Pending, 2: Up, 4: Down, 8: Unreachable}
	cgiServiceStates = map[int]string{1: Pending, 2: OK, 4: Warning, 8: Unknown, 16: Critical}
)

// parseStatusJSON reads the hostlist and servicelist answers.
func parseStatusJSON(hostsJSON, servicesJSON []byte) (*State, error) {
	var h, s cgiResult
	for _, p := range []struct {
		b    []byte
		into *cgiResult
		q    string
	}{{hostsJSON, &h, "hostlist"}, {servicesJSON, &s, "servicelist"}} {
		if err := json.Unmarshal(p.b, p.into); err != nil {
			return nil, fmt.Errorf("%s answer is not statusjson.cgi JSON: %w", p.q, err)
		}
		if p.into.Result.TypeCode != 0 {
			return nil, fmt.Errorf("%s query failed: %s %s", p.q, p.into.Result.TypeText, p.into.Result.Message)
		}
	}
	if h.Data.HostList == nil || s.Data.ServiceList == nil {
		return nil, errors.New("answer lacks data.hostlist or data.servicelist; is this Nagios Core 4's statusjson.cgi?")
	}
	st := &State{}
	for name, o := range h.Data.HostList {
		st.Hosts = append(st.Hosts, Host{Name: name, Status: cgiState(o, cgiHostStates, Unreachable),
			LastCheck: o.LastCheck / 1000, LastStateChange: o.LastStateChange / 1000, Output: cgiOutput(o)})
	}
	for host, svcs := range s.Data.ServiceList {
		for desc, o := range svcs {
			st.Services = append(st.Services, Service{Host: host, Name: desc, Status: cgiState(o, cgiServiceStates, Unknown),
				LastCheck: o.LastCheck / 1000, LastStateChange: o.LastStateChange / 1000, Output: cgiOutput(o)})
		}
	}
	sortState(st)
	return st, nil
}

func cgiState(o cgiObject, names map[int]string, other string) string {
	if !o.HasBeenChecked {
		return Pending
	}
	if n, ok := names[o.Status]; ok {
		return n
	}
	return other
}

func cgiOutput(o cgiObject) string {
	if o.LongOutput != "" {
		return o.PluginOutput + "\n" + o.LongOutput
	}
	return o.PluginOutput
}
