package monitor

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// checkRecipeStates asserts the states of the test configuration: 4
// hosts (db01 DOWN), 18 services: 11 OK, 2 WARNING, 4 CRITICAL, 1 UNKNOWN.
func checkRecipeStates(t *testing.T, st *State) {
	t.Helper()
	count := map[string]int{}
	for _, s := range st.Services {
		count[s.Status]++
	}
	if len(st.Hosts) != 4 || len(st.Services) != 18 ||
		count[OK] != 11 || count[Warning] != 2 || count[Critical] != 4 || count[Unknown] != 1 {
		t.Errorf("%d hosts, %d services, states %v", len(st.Hosts), len(st.Services), count)
	}
	for _, h := range st.Hosts {
		if want := map[bool]string{true: Down, false: Up}[h.Name == "db01"]; h.Status != want {
			t.Errorf("host %s is %s, want %s", h.Name, h.Status, want)
		}
	}
	for _, s := range st.Services {
		if s.Host == "app01" && s.Name == "RabbitMQ queues" &&
			!strings.Contains(s.Output, "QUEUES OK - 3 queues, 12 messages ready\norders: 10 ready, 2 consumers\n") {
			t.Errorf("long output not joined and unescaped: %q", s.Output)
		}
		if s.LastCheck < 1e9 {
			t.Errorf("%s/%s last_check %d is not unix seconds", s.Host, s.Name, s.LastCheck)
		}
	}
}

func TestParseStatusDat(t *testing.T) {
	st, err := newStatusDat(filepath.Join("testdata", "status.dat")).Fetch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	checkRecipeStates(t, st)
	for _, h := range st.Hosts {
		if h.Name == "web01" && h.Alias != "Storefront web server" {
			t.Errorf("web01 alias %q, want it from objects.cache", h.Alias)
		}
	}
}

// TestStatusJSONMatchesStatusDat: statusjson.cgi answers captured from
// the same status.dat give the same state.
func TestStatusJSONMatchesStatusDat(t *testing.T) {
	fromDat, err := ParseStatusDat(strings.NewReader(string(readFixture(t, "status.dat"))))
	if err != nil {
		t.Fatal(err)
	}
	sortState(fromDat)
	fromCGI, err := parseStatusJSON(readFixture(t, "statusjson-hostlist.json"), readFixture(t, "statusjson-servicelist.json"))
	if err != nil {
		t.Fatal(err)
	}
	checkRecipeStates(t, fromCGI)
	for i := range fromDat.Services {
		if fromDat.Services[i] != fromCGI.Services[i] {
			t.Errorf("service %d:\n dat %+v\n cgi %+v", i, fromDat.Services[i], fromCGI.Services[i])
		}
	}
	for i := range fromDat.Hosts {
		if fromDat.Hosts[i] != fromCGI.Hosts[i] {
			t.Errorf("host %d:\n dat %+v\n cgi %+v", i, fromDat.Hosts[i], fromCGI.Hosts[i])
		}
	}
}

func TestParseStatusDatBad(t *testing.T) {
	real := string(readFixture(t, "status.dat"))
	// A pending service: a real block with has_been_checked=0, as Nagios
	// writes it before the first check.
	pending := strings.Replace(real, "has_been_checked=1", "has_been_checked=0", 1)
	st, err := ParseStatusDat(strings.NewReader(pending))
	if err != nil {
		t.Fatal(err)
	}
	if st.Hosts[0].Status != Pending {
		t.Errorf("unchecked host is %s, want PENDING", st.Hosts[0].Status)
	}
	cases := []struct{ name, in, want string }{
		{"truncated", real[:len(real)/2], "truncated: block"},
		{"not a status.dat", "hello world\n", "outside any block"},
		{"empty", "", "does not look like a status.dat"},
		{"over-long line", "info {\n\tx=" + strings.Repeat("a", 2<<20) + "\n}\n", "longer than"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseStatusDat(strings.NewReader(c.in))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want %q", err, c.want)
			}
		})
	}
	if _, err := newStatusDat("/nonexistent/status.dat").Fetch(context.Background()); err == nil ||
		!strings.Contains(err.Error(), "status.dat /nonexistent/status.dat") {
		t.Errorf("missing file: %v", err)
	}
}

func FuzzParseStatusDat(f *testing.F) {
	f.Add(string(readFixture(f, "status.dat")))
	f.Add("hoststatus {\n\thost_name=a\n\tcurrent_state=9\n\tplugin_output=x\\ny\\\\\n}\n")
	f.Fuzz(func(t *testing.T, in string) {
		st, err := ParseStatusDat(strings.NewReader(in))
		if err != nil {
			return
		}
		for _, s := range st.Services {
			switch s.Status {
			case OK, Warning, Critical, Unknown, Pending:
			default:
				t.Fatalf("service state %q", s.Status)
			}
		}
		for _, h := range st.Hosts {
			switch h.Status {
			case Up, Down, Unreachable, Pending:
			default:
				t.Fatalf("host state %q", h.Status)
			}
		}
	})
}
