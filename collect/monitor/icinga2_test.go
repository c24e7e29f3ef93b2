package monitor

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// recipeHosts are the hosts of the test configuration
// (internal/montest/icinga2): name → status, alias.
var recipeHosts = map[string][2]string{
	"web01":   {Up, "Storefront web server"},
	"app01":   {Up, "Application server"},
	"db01":    {Down, "Primary database"},
	"cache01": {Up, "Cache server"},
}

// recipeServices are its 18 services, "host/name" → status.
var recipeServices = map[string]string{
	"web01/HTTP": OK, "web01/HTTPS cert": Warning, "web01/NTP": Critical,
	"web01/Load": OK, "web01/Disk /var": OK,
	"app01/HTTP": Critical, "app01/RabbitMQ queues": OK, "app01/Load": OK, "app01/Disk /var": OK,
	"db01/MySQL connections": Critical, "db01/PostgreSQL replication lag": Warning,
	"db01/Load": OK, "db01/Disk /var": OK,
	"cache01/Redis": OK, "cache01/Memcached": Critical, "cache01/Backup age": Unknown,
	"cache01/Load": OK, "cache01/Disk /var": OK,
}

// rabbitOutput is the multi-line output of app01/RabbitMQ queues, with
// the performance data removed (the spaces before "|" stay).
const rabbitOutput = "QUEUES OK - 3 queues, 12 messages ready \norders: 10 ready, 2 consumers\n" +
	"emails: 2 ready, 3 consumers\nrefunds: 0 ready, 1 consumers "

// checkRecipeState checks st against the recipe's table: 4 hosts (db01
// DOWN), 18 services (11 OK, 2 WARNING, 4 CRITICAL, 1 UNKNOWN), aliases,
// the long output, and times set everywhere.
func checkRecipeState(t *testing.T, st *State) {
	t.Helper()
	if len(st.Hosts) != len(recipeHosts) {
		t.Errorf("%d hosts, want %d", len(st.Hosts), len(recipeHosts))
	}
	for _, h := range st.Hosts {
		want, ok := recipeHosts[h.Name]
		if !ok {
			t.Errorf("unexpected host %q", h.Name)
			continue
		}
		if h.Status != want[0] || h.Alias != want[1] {
			t.Errorf("host %s: status %s alias %q, want %s %q", h.Name, h.Status, h.Alias, want[0], want[1])
		}
		if h.LastCheck <= 0 || h.LastStateChange <= 0 || h.Output == "" {
			t.Errorf("host %s: last check %d, last change %d, output %q", h.Name, h.LastCheck, h.LastStateChange, h.Output)
		}
	}
	got := serviceByKey(st)
	if len(st.Services) != len(recipeServices) || len(got) != len(recipeServices) {
		t.Errorf("%d services (%d distinct), want %d", len(st.Services), len(got), len(recipeServices))
	}
	count := map[string]int{}
	for key, s := range got {
		count[s.Status]++
		if want, ok := recipeServices[key]; !ok || s.Status != want {
			t.Errorf("service %s: %s, want %q", key, s.Status, want)
		}
		if s.LastCheck <= 0 || s.LastStateChange <= 0 || s.Output == "" {
			t.Errorf("service %s: last check %d, last change %d, output %q", key, s.LastCheck, s.LastStateChange, s.Output)
		}
	}
	want := map[string]int{OK: 11, Warning: 2, Critical: 4, Unknown: 1}
	if fmt.Sprint(count) != fmt.Sprint(want) {
		t.Errorf("service states %v, want %v", count, want)
	}
	if o := got["app01/RabbitMQ queues"].Output; o != rabbitOutput {
		t.Errorf("RabbitMQ queues output %q,\nwant %q", o, rabbitOutput)
	}
	if o := got["app01/HTTP"].Output; !strings.HasSuffix(o, "\nHTTP CRITICAL - Unable to open TCP socket") {
		t.Errorf("app01/HTTP output %q lacks its second line", o)
	}
}

// serviceByKey indexes services by "host/name".
func serviceByKey(st *State) map[string]Service {
	m := map[string]Service{}
	for _, s := range st.Services {
		m[s.Host+"/"+s.Name] = s
	}
	return m
}

// readFixture reads testdata/name.
func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseIcinga2Fixtures(t *testing.T) {
	hosts, err := parseIcinga2Hosts(readFixture(t, "icinga2-hosts.json"))
	if err != nil {
		t.Fatal(err)
	}
	services, err := parseIcinga2Services(readFixture(t, "icinga2-services.json"))
	if err != nil {
		t.Fatal(err)
	}
	st := &State{Hosts: hosts, Services: services}
	checkRecipeState(t, st)
	// The quirk: last_state_change 0, last_hard_state_change set.
	for _, key := range []string{"cache01/Backup age"} {
		if s := serviceByKey(st)[key]; s.LastStateChange == 0 {
			t.Errorf("%s: no last state change", key)
		}
	}
}

func TestParseIcinga2Pending(t *testing.T) {
	hosts, err := parseIcinga2Hosts(readFixture(t, "icinga2-hosts-pending.json"))
	if err != nil {
		t.Fatal(err)
	}
	services, err := parseIcinga2Services(readFixture(t, "icinga2-services-pending.json"))
	if err != nil {
		t.Fatal(err)
	}
	checkPendingFixture(t, &State{Hosts: hosts, Services: services})
}

// checkPendingFixture checks the pending fixtures: captured right after
// the start, most objects without a result; those must be Pending with no
// time and no output, the others checked.
func checkPendingFixture(t *testing.T, st *State) {
	t.Helper()
	if len(st.Hosts) != 4 || len(st.Services) != 18 {
		t.Fatalf("%d hosts, %d services", len(st.Hosts), len(st.Services))
	}
	pending := 0
	for _, s := range st.Services {
		if s.Status == Pending {
			pending++
		}
		if (s.Status == Pending) != (s.LastCheck == 0) || (s.Status == Pending) != (s.Output == "") {
			t.Errorf("%s/%s: status %s, last check %d, output %q", s.Host, s.Name, s.Status, s.LastCheck, s.Output)
		}
	}
	for _, h := range st.Hosts {
		if h.Status == Pending {
			pending++
		}
		if (h.Status == Pending) != (h.LastCheck == 0) {
			t.Errorf("host %s: status %s, last check %d", h.Name, h.Status, h.LastCheck)
		}
	}
	if pending == 0 {
		t.Error("no pending object in the pending fixture")
	}
}

func TestParseIcinga2(t *testing.T) {
	obj := func(attrs string) string {
		return `{"results":[{"attrs":{` + attrs + `},"name":"x","type":"Service"}]}`
	}
	cr := `"last_check_result":{"output":"out","state":0}`
	tests := []struct {
		name    string
		body    string
		want    Service
		wantErr string
	}{
		{name: "display name wins",
			body: obj(`"host_name":"h","name":"http","display_name":"HTTP","state":2,"last_check":1795466907.9,` +
				`"last_state_change":1795466898.3,` + cr),
			want: Service{Host: "h", Name: "HTTP", Status: Critical, LastCheck: 1795466907, LastStateChange: 1795466898, Output: "out"}},
		{name: "name without display name",
			body: obj(`"host_name":"h","name":"http","state":0,"last_check":5,"last_state_change":4,` + cr),
			want: Service{Host: "h", Name: "http", Status: OK, LastCheck: 5, LastStateChange: 4, Output: "out"}},
		{name: "last_state_change 0 falls back to last_hard_state_change",
			body: obj(`"host_name":"h","name":"b","state":3,"last_check":5,"last_state_change":0,"last_hard_state_change":3.5,` + cr),
			want: Service{Host: "h", Name: "b", Status: Unknown, LastCheck: 5, LastStateChange: 3, Output: "out"}},
		{name: "no check result is pending, not OK",
			body: obj(`"host_name":"h","name":"b","state":0,"last_check":-1,"last_state_change":0,"last_check_result":null`),
			want: Service{Host: "h", Name: "b", Status: Pending}},
		{name: "state out of range", body: obj(`"host_name":"h","name":"b","state":4,` + cr), wantErr: "state 4 is not one of 0..3"},
		{name: "fractional state", body: obj(`"host_name":"h","name":"b","state":1.5,` + cr), wantErr: "state 1.5"},
		{name: "no state", body: obj(`"host_name":"h","name":"b",` + cr), wantErr: "no state"},
		{name: "no host", body: obj(`"name":"b","state":0,` + cr), wantErr: "no host_name"},
		{name: "state as string", body: obj(`"host_name":"h","name":"b","state":"0"`), wantErr: "malformed JSON"},
		{name: "timestamp beyond 9999", body: obj(`"host_name":"h","name":"b","state":0,"last_check":1e300,` + cr), wantErr: "out of range"},
		{name: "truncated", body: obj(`"host_name":"h","name":"b","state":0`)[:30], wantErr: "malformed JSON"},
		{name: "trailing garbage", body: obj(`"host_name":"h","name":"b","state":0,`+cr) + "x", wantErr: "malformed JSON"},
		{name: "no results", body: `{"error":400}`, wantErr: `no "results" array`},
		{name: "results not an array", body: `{"results":{}}`, wantErr: "malformed JSON"},
		{name: "result without attrs", body: `{"results":[{"name":"x"}]}`, wantErr: "no attrs"},
		{name: "empty body", body: ``, wantErr: "malformed JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseIcinga2Services([]byte(tc.body))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				if got != nil {
					t.Errorf("partial data with the error: %+v", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0] != tc.want {
				t.Errorf("got %+v,\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestParseIcinga2Hosts(t *testing.T) {
	tests := []struct {
		name, attrs string
		want        Host
	}{
		{"up", `"name":"a","display_name":"A","state":0,"last_check":2,"last_state_change":1,"last_check_result":{"output":"o"}`,
			Host{Name: "a", Alias: "A", Status: Up, LastCheck: 2, LastStateChange: 1, Output: "o"}},
		{"down", `"name":"a","state":1,"last_check":2,"last_state_change":0,"last_hard_state_change":1,"last_check_result":{"output":"o"}`,
			Host{Name: "a", Status: Down, LastCheck: 2, LastStateChange: 1, Output: "o"}},
		{"unreachable", `"name":"a","state":2,"last_check":2,"last_state_change":1,"last_check_result":{"output":"o"}`,
			Host{Name: "a", Status: Unreachable, LastCheck: 2, LastStateChange: 1, Output: "o"}},
		{"pending says DOWN", `"name":"a","state":1,"last_check":-1,"last_state_change":0,"last_check_result":null`,
			Host{Name: "a", Status: Pending}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseIcinga2Hosts([]byte(`{"results":[{"attrs":{` + tc.attrs + `}}]}`))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0] != tc.want {
				t.Errorf("got %+v,\nwant %+v", got, tc.want)
			}
		})
	}
	for _, bad := range []string{`"state":0`, `"name":"a","state":3`, `"name":"a","state":-1`} {
		if got, err := parseIcinga2Hosts([]byte(`{"results":[{"attrs":{` + bad + `}}]}`)); err == nil {
			t.Errorf("%s: no error, got %+v", bad, got)
		}
	}
}

// fakeIcinga2 is an httptest TLS server answering /v1/objects/* with
// handler, and the Options that trust it.
func fakeIcinga2(t *testing.T, handler http.HandlerFunc) (*httptest.Server, Options) {
	t.Helper()
	srv := httptest.NewUnstartedServer(handler)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused TLS handshakes are on purpose
	srv.StartTLS()
	t.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	return srv, Options{Auth: Auth{User: "ci", Password: "pw"},
		TLS: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
}

// newTestIcinga2 makes the source for srv.
func newTestIcinga2(t *testing.T, srv *httptest.Server, o Options) *icinga2 {
	t.Helper()
	u, _ := url.Parse("icinga2+" + srv.URL)
	src, err := newIcinga2(u, o)
	if err != nil {
		t.Fatal(err)
	}
	return src.(*icinga2)
}

// TestIcinga2Requests checks what the source asks: the attributes as
// query parameters, basic auth, Accept.
func TestIcinga2Requests(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	srv, o := fakeIcinga2(t, func(w http.ResponseWriter, r *http.Request) {
		u, p, _ := r.BasicAuth()
		mu.Lock()
		seen = append(seen, fmt.Sprintf("%s %s %s:%s %s", r.Method, r.URL.Path, u, p, r.Header.Get("Accept")))
		mu.Unlock()
		attrs := r.URL.Query()["attrs"]
		want := icinga2HostAttrs
		if r.URL.Path == "/v1/objects/services" {
			want = icinga2ServiceAttrs
		}
		if !slices.Equal(attrs, want) {
			http.Error(w, `{"error":400,"status":"attrs `+strings.Join(attrs, ",")+`"}`, 400)
			return
		}
		w.Write(readFixture(t, "icinga2-"+strings.TrimPrefix(r.URL.Path, "/v1/objects/")+".json"))
	})
	st, err := newTestIcinga2(t, srv, o).Fetch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	checkRecipeState(t, st)
	sort.Strings(seen)
	want := []string{"GET /v1/objects/hosts ci:pw application/json", "GET /v1/objects/services ci:pw application/json"}
	if !slices.Equal(seen, want) {
		t.Errorf("requests %q, want %q", seen, want)
	}
}

func TestIcinga2Errors(t *testing.T) {
	hosts := readFixture(t, "icinga2-hosts.json")
	tests := []struct {
		name    string
		handler http.HandlerFunc
		opts    func(*Options)
		limit   int64
		want    string
	}{
		{name: "401",
			handler: func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, "<h1>Unauthorized. Please check your user credentials.</h1>", http.StatusUnauthorized)
			},
			want: ": authentication failed (HTTP 401); check user and password (user ci)"},
		{name: "401 without user",
			handler: func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusUnauthorized) },
			opts:    func(o *Options) { o.Auth = Auth{} },
			want:    "authentication failed (HTTP 401); check user and password (no user given"},
		{name: "403",
			handler: func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, `{"error":403,"status":"No permission to access object."}`, http.StatusForbidden)
			},
			want: `may not read hosts (HTTP 403: No permission to access object.)`},
		{name: "400 with status",
			handler: func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, `{"error":400,"status":"Invalid field specified: x"}`, 400)
			},
			want: "/v1/objects/hosts: HTTP 400: Invalid field specified: x"},
		{name: "malformed JSON",
			handler: func(w http.ResponseWriter, r *http.Request) { w.Write(hosts[:len(hosts)/2]) },
			want:    ": hosts: malformed JSON"},
		{name: "malformed services after good hosts",
			handler: func(w http.ResponseWriter, r *http.Request) {
				if strings.HasSuffix(r.URL.Path, "/hosts") {
					w.Write(hosts)
					return
				}
				w.Write([]byte(`{"results":[{"attrs":{"name":"x","state":0}}]}`))
			},
			want: ": services: service 0 (\"\"!\"x\"): no host_name"},
		{name: "too large",
			handler: func(w http.ResponseWriter, r *http.Request) { w.Write(hosts) },
			limit:   100,
			want:    "read hosts: response larger than",
		},
		{name: "system roots do not trust the server",
			handler: func(w http.ResponseWriter, r *http.Request) { w.Write(hosts) },
			opts:    func(o *Options) { o.TLS = &tls.Config{MinVersion: tls.VersionTLS12} },
			want:    ": TLS certificate not trusted (",
		},
		{name: "deadline",
			handler: func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() },
			want:    "context deadline exceeded",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, o := fakeIcinga2(t, tc.handler)
			if tc.opts != nil {
				tc.opts(&o)
			}
			s := newTestIcinga2(t, srv, o)
			if tc.limit > 0 {
				s.limit = tc.limit
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			st, err := s.Fetch(ctx)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v,\nwant one containing %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), s.String()+": ") {
				t.Errorf("error %q does not start with %q", err, s.String())
			}
			if strings.Contains(err.Error(), "pw") {
				t.Errorf("error %q shows the password", err)
			}
			if st != nil {
				t.Errorf("data with the error: %+v", st)
			}
		})
	}
}

func TestIcinga2Refused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	src, err := Open("icinga2+https://ci:secret@"+addr, Auth{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = src.Fetch(context.Background())
	want := "icinga2 https://" + addr + ": connection refused; is Icinga 2 running"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %v, want %q...", err, want)
	}
	if err != nil && strings.Contains(err.Error(), "secret") {
		t.Errorf("error %q shows the password", err)
	}
}

func TestIcinga2String(t *testing.T) {
	tests := []struct{ source, want string }{
		{"icinga2+https://ci:secret@mon.example.com:5665", "icinga2 https://mon.example.com:5665"},
		{"icinga2+https://mon.example.com:5665/?user=ci&password_env=HOME", "icinga2 https://mon.example.com:5665"},
		{"icinga2+https://ci:secret@proxy.example.com/icinga/", "icinga2 https://proxy.example.com/icinga"},
	}
	for _, tc := range tests {
		t.Run(tc.source, func(t *testing.T) {
			src, err := Open(tc.source, Auth{})
			if err != nil {
				t.Fatal(err)
			}
			if got := src.String(); got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
		})
	}
	if _, err := Open("icinga2+https:///v1", Auth{}); err == nil || !strings.Contains(err.Error(), "no host") {
		t.Errorf("no host: error %v", err)
	}
}
