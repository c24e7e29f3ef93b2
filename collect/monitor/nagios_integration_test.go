package monitor

import (
	"context"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lwindolf/dotm/internal/montest"
)

// extraObjects adds to the test configuration a host whose checks never
// run (new01, pending forever) and a host whose check prints characters
// that need escaping (odd01, WARNING; see montest's check_odd.sh).
const extraObjects = `
define host {
    use                     generic-host
    host_name               new01
    alias                   New server, not checked yet
    address                 127.0.0.1
    active_checks_enabled   0
}
define service {
    use                     generic-service
    host_name               new01
    service_description     Pending check
    check_command           check_dummy!0!never runs
    active_checks_enabled   0
}
define host {
    use                     generic-host
    host_name               odd01
    alias                   Odd "output" <host>
    address                 127.0.0.1
}
define command {
    command_name            check_odd
    command_line            $USER2$/check_odd.sh
}
define service {
    use                     generic-service
    host_name               odd01
    service_description     Odd output
    check_command           check_odd
}
`

// oddOutput is what check_odd.sh prints, as a Service.Output.
const oddOutput = `WARNING - C:\temp\new is "odd" <b>bold</b> & done` + "\n" +
	"second line: a\\nb stays literal, tab:\tend\n" +
	"third line: ü €"

// cgiServer serves the CGIs of ng over HTTPS with basic auth ci/s3cret; it
// returns the nagios+https base URL (without credentials) and the file
// holding the server's certificate, for ?ca=.
func cgiServer(t *testing.T, ng *montest.Nagios) (base, ca string) {
	t.Helper()
	srv := httptest.NewTLSServer(ng.CGI(t, "ci", "s3cret"))
	t.Cleanup(srv.Close)
	ca = filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(ca, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	return strings.Replace(srv.URL, "https://", "nagios+https://", 1) + montest.CGIPath, ca
}

// fetchNagios opens source with def and fetches it.
func fetchNagios(t *testing.T, source string, def Auth) (*State, error) {
	t.Helper()
	src, err := Open(source, def)
	if err != nil {
		t.Fatalf("Open(%s): %v", Redact(source), err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return src.Fetch(ctx)
}

// TestNagiosDaemon reads a real Nagios 4: its live status.dat with the
// aliases of its objects.cache, and its real statusjson.cgi over HTTPS
// with basic auth; and gives one clear error for each failure.
func TestNagiosDaemon(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Nagios")
	}
	ng := montest.StartNagios(t)
	ng.WaitChecked(t, time.Minute)

	t.Run("status.dat", func(t *testing.T) {
		st, err := fetchNagios(t, ng.StatusDat, Auth{})
		if err != nil {
			t.Fatal(err)
		}
		checkRecipeStates(t, st)
		checkAliases(t, st, recipeAliases)
	})
	base, ca := cgiServer(t, ng)
	t.Run("statusjson.cgi", func(t *testing.T) {
		src := strings.Replace(base, "://", "://ci:s3cret@", 1) + "?ca=" + ca
		st, err := fetchNagios(t, src, Auth{})
		if err != nil {
			t.Fatal(err)
		}
		checkRecipeStates(t, st)
		s, _ := Open(src, Auth{})
		if strings.Contains(s.String(), "s3cret") {
			t.Errorf("String() shows the password: %s", s)
		}
	})
	t.Run("password_file", func(t *testing.T) {
		pw := filepath.Join(t.TempDir(), "pw")
		if err := os.WriteFile(pw, []byte("s3cret\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := fetchNagios(t, base+"?user=ci&password_file="+pw+"&ca="+ca, Auth{}); err != nil {
			t.Error(err)
		}
	})

	live, err := os.ReadFile(ng.StatusDat)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "status.dat")
	at := strings.Index(string(live), "servicestatus {") + 200 // inside the first service block
	if err := os.WriteFile(cut, live[:at], 0o600); err != nil {
		t.Fatal(err)
	}
	openedAt := strings.Count(string(live[:strings.Index(string(live), "servicestatus {")]), "\n") + 1
	errs := []struct {
		name, source string
		auth         Auth
		want         string
	}{
		{"wrong password", base + "?ca=" + ca, Auth{User: "ci", Password: "wrong"},
			"authentication failed (HTTP 401); check user and password"},
		{"refused connection", fmt.Sprintf("nagios+https://127.0.0.1:%d/nagios4/cgi-bin", closedPort(t)), Auth{},
			"connection refused"},
		{"untrusted certificate", base, Auth{User: "ci", Password: "s3cret"}, "certificate"},
		{"truncated status.dat", cut, Auth{},
			fmt.Sprintf("status.dat %s: truncated: block servicestatus opened at line %d not closed", cut, openedAt)},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			st, err := fetchNagios(t, tt.source, tt.auth)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to say %q", err, tt.want)
			}
			if st != nil {
				t.Errorf("a failed fetch returned a state: %+v", st)
			}
			if strings.Contains(err.Error(), "s3cret") || strings.Count(err.Error(), "\n") > 0 {
				t.Errorf("want one line without the password: %q", err)
			}
		})
	}
}

// TestNagiosPendingAndOddOutput: hosts and services that never ran a
// check are Pending in both sources, and output with backslashes, quotes,
// HTML, tabs and UTF-8 reads back from status.dat as the plugin printed
// it. (statusjson.cgi itself garbles that output: see testdata/README.md.)
func TestNagiosPendingAndOddOutput(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Nagios")
	}
	ng := montest.StartNagios(t, extraObjects)
	ng.WaitChecked(t, time.Minute)
	base, ca := cgiServer(t, ng)
	sources := map[string]string{
		"status.dat":     ng.StatusDat,
		"statusjson.cgi": base + "?ca=" + ca,
	}
	for name, src := range sources {
		t.Run(name, func(t *testing.T) {
			st, err := fetchNagios(t, src, Auth{User: "ci", Password: "s3cret"})
			if err != nil {
				t.Fatal(err)
			}
			checkExtraStates(t, st)
			if name == "status.dat" {
				if got := serviceOutput(st, "odd01", "Odd output"); got != oddOutput {
					t.Errorf("odd output:\n got %q\nwant %q", got, oddOutput)
				}
			}
		})
	}
}

// serviceOutput is the output of a service in st.
func serviceOutput(st *State, host, name string) string {
	for _, s := range st.Services {
		if s.Host == host && s.Name == name {
			return s.Output
		}
	}
	return ""
}

// checkExtraStates asserts the states of new01 and odd01 of extraObjects
// (the odd output differs between the sources: see serviceOutput).
func checkExtraStates(t *testing.T, st *State) {
	t.Helper()
	want := map[string]string{"new01": Pending, "new01/Pending check": Pending, "odd01": Up, "odd01/Odd output": Warning}
	got := map[string]string{}
	for _, h := range st.Hosts {
		got[h.Name] = h.Status
	}
	for _, s := range st.Services {
		got[s.Host+"/"+s.Name] = s.Status
		if s.Status == Pending && s.LastCheck != 0 {
			t.Errorf("pending %s/%s has last check %d, want 0", s.Host, s.Name, s.LastCheck)
		}
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s is %q, want %s", k, got[k], w)
		}
	}
}

// closedPort is a loopback port that refuses connections until the test
// ends (a port found free and let go could be taken meanwhile).
func closedPort(t *testing.T) int {
	t.Helper()
	return montest.ClosedPort(t)
}

// TestCaptureNagiosFixtures rewrites the Nagios files of testdata/ from
// real daemons; run it with DOTM_CAPTURE_FIXTURES=1 (see testdata/README.md).
func TestCaptureNagiosFixtures(t *testing.T) {
	if os.Getenv("DOTM_CAPTURE_FIXTURES") != "1" {
		t.Skip("set DOTM_CAPTURE_FIXTURES=1 to rewrite testdata/ from real daemons")
	}
	capture := func(t *testing.T, ng *montest.Nagios, suffix string) {
		snap := ng.Snapshot(t) // the CGI answers from exactly this status.dat
		srv := httptest.NewServer(snap.CGI(t, "ci", "s3cret"))
		defer srv.Close()
		copyFile(t, snap.StatusDat, filepath.Join("testdata", "status"+suffix+".dat"))
		if suffix == "" {
			copyFile(t, snap.ObjectsCache, filepath.Join("testdata", "objects.cache"))
		}
		for _, q := range []string{"hostlist", "servicelist"} {
			req, _ := http.NewRequest("GET", srv.URL+montest.CGIPath+"/statusjson.cgi?query="+q+"&details=true", nil)
			req.SetBasicAuth("ci", "s3cret")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("%s: %s %v", q, resp.Status, err)
			}
			name := filepath.Join("testdata", "statusjson-"+q+suffix+".json")
			if err := os.WriteFile(name, body, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Run("checked", func(t *testing.T) {
		ng := montest.StartNagios(t)
		ng.WaitChecked(t, time.Minute)
		capture(t, ng, "")
	})
	t.Run("pending", func(t *testing.T) {
		ng := montest.StartNagios(t, extraObjects)
		ng.WaitChecked(t, time.Minute)
		capture(t, ng, "-pending")
	})
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
