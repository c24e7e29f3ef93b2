package monitor

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// livestatusFixture reads a captured answer and returns its body.
func livestatusFixture(t testing.TB, name string) []byte {
	t.Helper()
	body, err := readLivestatus(bytes.NewReader(readFixture(t, name)), maxLivestatusResponse)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return body
}

func TestParseLivestatusFixtures(t *testing.T) {
	hosts, err := parseLivestatusHosts(livestatusFixture(t, "livestatus-hosts.json"))
	if err != nil {
		t.Fatal(err)
	}
	services, err := parseLivestatusServices(livestatusFixture(t, "livestatus-services.json"))
	if err != nil {
		t.Fatal(err)
	}
	checkRecipeState(t, &State{Hosts: hosts, Services: services})
}

func TestParseLivestatusPending(t *testing.T) {
	hosts, err := parseLivestatusHosts(livestatusFixture(t, "livestatus-hosts-pending.json"))
	if err != nil {
		t.Fatal(err)
	}
	services, err := parseLivestatusServices(livestatusFixture(t, "livestatus-services-pending.json"))
	if err != nil {
		t.Fatal(err)
	}
	checkPendingFixture(t, &State{Hosts: hosts, Services: services})
}

// TestLivestatusSameAsAPI compares the fixtures captured from one daemon
// through both interfaces: the same objects, states and outputs.
func TestLivestatusSameAsAPI(t *testing.T) {
	lsServices, err := parseLivestatusServices(livestatusFixture(t, "livestatus-services.json"))
	if err != nil {
		t.Fatal(err)
	}
	apiServices, err := parseIcinga2Services(readFixture(t, "icinga2-services.json"))
	if err != nil {
		t.Fatal(err)
	}
	ls, api := serviceByKey(&State{Services: lsServices}), serviceByKey(&State{Services: apiServices})
	for key, a := range api {
		l, ok := ls[key]
		if !ok {
			t.Errorf("%s missing in livestatus", key)
			continue
		}
		if l.Status != a.Status || l.LastStateChange != a.LastStateChange {
			t.Errorf("%s: livestatus %s changed %d, api %s changed %d", key, l.Status, l.LastStateChange, a.Status, a.LastStateChange)
		}
		// Load and Disk may have been re-checked between the two captures.
		if !strings.HasSuffix(key, "/Load") && !strings.HasSuffix(key, "/Disk /var") && l.Output != a.Output {
			t.Errorf("%s output:\nlivestatus %q\napi        %q", key, l.Output, a.Output)
		}
	}
}

func TestParseFixed16(t *testing.T) {
	tests := []struct {
		header       string
		code, length int
		wantErr      bool
	}{
		{"200         483\n", 200, 483, false},
		{"452        1995\n", 452, 1995, false},
		{"200           0\n", 200, 0, false},
		{"404 00000000035\n", 404, 35, false},
		{"200         483 ", 0, 0, true},
		{"200-        483\n", 0, 0, true},
		{"2x0         483\n", 0, 0, true},
		{"000         483\n", 0, 0, true},
		{"200          -1\n", 0, 0, true},
		{"200      12 483\n", 0, 0, true},
		{"[[\"cache01\",\"Ca", 0, 0, true},
		{"200  483\n", 0, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.header, func(t *testing.T) {
			code, length, err := parseFixed16([]byte(tc.header))
			if tc.wantErr {
				if err == nil {
					t.Errorf("no error, got %d %d", code, length)
				}
				return
			}
			if err != nil || code != tc.code || length != tc.length {
				t.Errorf("got %d %d %v, want %d %d", code, length, err, tc.code, tc.length)
			}
		})
	}
}

func TestReadLivestatus(t *testing.T) {
	stack := "Error: Column 'nosuchcol' does not exist in table 'hosts'.\n\nStacktrace:\n 0# __cxa_throw in icinga2\n"
	tests := []struct {
		name, answer string
		limit        int
		want         string
		wantErr      string
	}{
		{name: "ok", answer: "200           2\n[]", want: "[]"},
		{name: "ok, trailing bytes ignored", answer: "200           2\n[]\n", want: "[]"},
		{name: "error with stack trace", answer: fmt.Sprintf("452 %11d\n%s", len(stack), stack),
			wantErr: "query failed with status 452: Error: Column 'nosuchcol' does not exist in table 'hosts'."},
		{name: "404", answer: "404          35\nTable 'nosuchtable' does not exist.",
			wantErr: "query failed with status 404: Table 'nosuchtable' does not exist."},
		{name: "error without message", answer: "400           0\n", wantErr: "status 400: no message"},
		{name: "closed without answer", answer: "", wantErr: "connection closed without an answer"},
		{name: "short header", answer: "200    ", wantErr: "read response header"},
		{name: "no fixed16 header", answer: "[[\"web01\",\"Storefront web server\"]]", wantErr: "malformed response header"},
		{name: "truncated body", answer: "200          10\n[[]", wantErr: "read 10-byte answer"},
		{name: "over the limit", answer: "200   999999999\n[]", limit: 1 << 20, wantErr: "larger than the 1 MiB limit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			limit := tc.limit
			if limit == 0 {
				limit = maxLivestatusResponse
			}
			got, err := readLivestatus(strings.NewReader(tc.answer), limit)
			if tc.wantErr != "" {
				if err == nil || !strings.HasSuffix(err.Error(), tc.wantErr) && !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "Stacktrace") {
					t.Errorf("error %q keeps the stack trace", err)
				}
				return
			}
			if err != nil || string(got) != tc.want {
				t.Errorf("got %q %v, want %q", got, err, tc.want)
			}
		})
	}
}

func TestParseLivestatusServices(t *testing.T) {
	tests := []struct {
		name    string
		row     string
		want    Service
		wantErr string
	}{
		{name: "critical with long output",
			row: `["app01","HTTP",2,1,1795466916,1795466898,1795466898,"connect refused","HTTP CRITICAL - Unable\\nsecond"]`,
			want: Service{Host: "app01", Name: "HTTP", Status: Critical, LastCheck: 1795466916, LastStateChange: 1795466898,
				Output: "connect refused\nHTTP CRITICAL - Unable\nsecond"}},
		{name: "escaped backslash, Nagios style",
			row:  `["h","s",0,1,5,4,4,"ok","C:\\\\temp\\nnext"]`,
			want: Service{Host: "h", Name: "s", Status: OK, LastCheck: 5, LastStateChange: 4, Output: "ok\nC:\\temp\nnext"}},
		{name: "last_state_change 0",
			row:  `["cache01","Backup age",3,1,1795466916,0,1795466898,"UNKNOWN - x",""]`,
			want: Service{Host: "cache01", Name: "Backup age", Status: Unknown, LastCheck: 1795466916, LastStateChange: 1795466898, Output: "UNKNOWN - x"}},
		{name: "pending is not UNKNOWN",
			row:  `["h","s",3,0,-1,0,0,"",""]`,
			want: Service{Host: "h", Name: "s", Status: Pending}},
		{name: "has_been_checked as boolean",
			row:  `["h","s",1,true,7,6,6,"warn",""]`,
			want: Service{Host: "h", Name: "s", Status: Warning, LastCheck: 7, LastStateChange: 6, Output: "warn"}},
		{name: "pending as boolean false",
			row:  `["h","s",0,false,0,0,0,"",""]`,
			want: Service{Host: "h", Name: "s", Status: Pending}},
		{name: "float times", row: `["h","s",0,1,7.9,6.2,6,"ok",""]`,
			want: Service{Host: "h", Name: "s", Status: OK, LastCheck: 7, LastStateChange: 6, Output: "ok"}},
		{name: "state 4", row: `["h","s",4,1,7,6,6,"",""]`, wantErr: "state 4 is not one of 0..3"},
		{name: "state as string", row: `["h","s","0",1,7,6,6,"",""]`, wantErr: "state: want a number"},
		{name: "name as number", row: `[1,"s",0,1,7,6,6,"",""]`, wantErr: "name: want a string"},
		{name: "output null", row: `["h","s",0,1,7,6,6,null,""]`, wantErr: "plugin_output: want a string"},
		{name: "too few columns", row: `["h","s",0,1,7,6,6,""]`, wantErr: "8 columns, want 9"},
		{name: "too many columns", row: `["h","s",0,1,7,6,6,"","",""]`, wantErr: "10 columns, want 9"},
		{name: "empty description", row: `["h","",0,1,7,6,6,"",""]`, wantErr: "empty host name or service description"},
		{name: "time out of range", row: `["h","s",0,1,1e19,6,6,"",""]`, wantErr: "last_check: timestamp"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseLivestatusServices([]byte("[" + tc.row + "]"))
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
	for _, body := range []string{``, `null`, `{}`, `[[`, `[["h"]] x`, `[{"a":1}]`} {
		if got, err := parseLivestatusServices([]byte(body)); err == nil {
			t.Errorf("%q: no error, got %+v", body, got)
		}
	}
}

func TestParseLivestatusHosts(t *testing.T) {
	tests := []struct {
		row  string
		want Host
	}{
		{`["web01","Storefront web server",0,1,9,8,8,"TCP OK",""]`,
			Host{Name: "web01", Alias: "Storefront web server", Status: Up, LastCheck: 9, LastStateChange: 8, Output: "TCP OK"}},
		{`["db01","Primary database",1,1,9,0,8,"refused",""]`,
			Host{Name: "db01", Alias: "Primary database", Status: Down, LastCheck: 9, LastStateChange: 8, Output: "refused"}},
		{`["sw01","",2,1,9,8,8,"parent down",""]`,
			Host{Name: "sw01", Status: Unreachable, LastCheck: 9, LastStateChange: 8, Output: "parent down"}},
		{`["cache01","Cache server",1,0,-1,0,0,"",""]`,
			Host{Name: "cache01", Alias: "Cache server", Status: Pending}},
	}
	for _, tc := range tests {
		t.Run(tc.want.Name, func(t *testing.T) {
			got, err := parseLivestatusHosts([]byte("[" + tc.row + "]"))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0] != tc.want {
				t.Errorf("got %+v,\nwant %+v", got, tc.want)
			}
		})
	}
	for _, row := range []string{`["h","",3,1,9,8,8,"",""]`, `["","",0,1,9,8,8,"",""]`} {
		if got, err := parseLivestatusHosts([]byte("[" + row + "]")); err == nil {
			t.Errorf("%s: no error, got %+v", row, got)
		}
	}
}

// fakeLivestatus serves answers on a unix socket or TCP: for each
// connection it reads the query up to the empty line, records it, and
// writes answer(query).
func fakeLivestatus(t *testing.T, network string, answer func(q string) []byte) (addr string, queries chan string) {
	t.Helper()
	addr = "127.0.0.1:0"
	if network == "unix" {
		dir, err := os.MkdirTemp("", "ls-") // short: socket paths have 108 bytes
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		addr = filepath.Join(dir, "live")
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	queries = make(chan string, 10)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				r := bufio.NewReader(c)
				var q strings.Builder
				for {
					line, err := r.ReadString('\n')
					q.WriteString(line)
					if err != nil || line == "\n" {
						break
					}
				}
				queries <- q.String()
				if a := answer(q.String()); a != nil {
					c.Write(a)
				}
			}()
		}
	}()
	return ln.Addr().String(), queries
}

// TestLivestatusFetch runs both queries against a fake server that
// answers with the captured fixtures, over unix and TCP.
func TestLivestatusFetch(t *testing.T) {
	hosts, services := readFixture(t, "livestatus-hosts.json"), readFixture(t, "livestatus-services.json")
	wantHosts := "GET hosts\nColumns: name alias state has_been_checked last_check last_state_change " +
		"last_hard_state_change plugin_output long_plugin_output\nOutputFormat: json\nResponseHeader: fixed16\n\n"
	wantServices := "GET services\nColumns: host_name description state has_been_checked last_check last_state_change " +
		"last_hard_state_change plugin_output long_plugin_output\nOutputFormat: json\nResponseHeader: fixed16\n\n"
	for _, network := range []string{"unix", "tcp"} {
		t.Run(network, func(t *testing.T) {
			addr, queries := fakeLivestatus(t, network, func(q string) []byte {
				if strings.HasPrefix(q, "GET hosts") {
					return hosts
				}
				return services
			})
			source := "livestatus+" + network + "://" + addr
			src, err := Open(source, Auth{})
			if err != nil {
				t.Fatal(err)
			}
			if want := "livestatus " + network + "://" + addr; src.String() != want {
				t.Errorf("String() = %q, want %q", src, want)
			}
			st, err := src.Fetch(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			checkRecipeState(t, st)
			if q := <-queries; q != wantHosts {
				t.Errorf("hosts query %q,\nwant %q", q, wantHosts)
			}
			if q := <-queries; q != wantServices {
				t.Errorf("services query %q,\nwant %q", q, wantServices)
			}
		})
	}
}

func TestLivestatusFetchErrors(t *testing.T) {
	hosts := readFixture(t, "livestatus-hosts.json")
	tests := []struct {
		name   string
		answer func(q string) []byte
		want   string
	}{
		{"closes without answer", func(string) []byte { return nil }, ": connection closed without an answer"},
		{"error status", func(string) []byte { return []byte("403          13\nnot permitted") },
			": query failed with status 403: not permitted"},
		{"malformed services", func(q string) []byte {
			if strings.HasPrefix(q, "GET hosts") {
				return hosts
			}
			return []byte("200           9\n[[1,2,3]]")
		}, ": services: row 0: 3 columns, want 9"},
		{"never answers", func(string) []byte { time.Sleep(3 * time.Second); return nil }, "context deadline exceeded"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			addr, _ := fakeLivestatus(t, "unix", tc.answer)
			src := newLivestatus("unix", addr)
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			st, err := src.Fetch(ctx)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), src.String()+": ") {
				t.Errorf("error %q does not start with %q", err, src)
			}
			if st != nil {
				t.Errorf("data with the error: %+v", st)
			}
		})
	}
	t.Run("over the limit", func(t *testing.T) {
		addr, _ := fakeLivestatus(t, "tcp", func(string) []byte { return hosts })
		l := newLivestatus("tcp", addr).(*livestatus)
		l.limit = 100
		if _, err := l.Fetch(context.Background()); err == nil || !strings.Contains(err.Error(), "larger than") {
			t.Errorf("error %v", err)
		}
	})
	t.Run("not a socket", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "file")
		os.WriteFile(f, nil, 0o644)
		_, err := newLivestatus("unix", f).Fetch(context.Background())
		if err == nil || !strings.Contains(err.Error(), "livestatus unix://"+f+": ") {
			t.Errorf("error %v", err)
		}
	})
}

// TestLivestatusCanceled checks that a canceled context ends a query at
// once, even without a deadline.
func TestLivestatusCanceled(t *testing.T) {
	addr, queries := fakeLivestatus(t, "tcp", func(string) []byte { time.Sleep(3 * time.Second); return nil })
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-queries; cancel() }()
	start := time.Now()
	_, err := newLivestatus("tcp", addr).Fetch(ctx)
	if err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Errorf("error %v, want context canceled", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v", d)
	}
}
