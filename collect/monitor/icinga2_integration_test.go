package monitor

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lwindolf/dotm/internal/montest"
	"github.com/lwindolf/dotm/internal/redistest"
)

// startIcinga2 starts the real daemon for a test, or skips under -short.
func startIcinga2(t *testing.T) *montest.Icinga2 {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a real Icinga 2 (about 3 s); not with -short")
	}
	i := montest.StartIcinga2(t)
	t.Logf("%s started and checked everything in %v", i, i.Started.Round(time.Millisecond))
	return i
}

// icinga2Sources are the three ways to read the daemon i.
func icinga2Sources(i *montest.Icinga2) map[string]string {
	return map[string]string{
		"api": fmt.Sprintf("icinga2+https://%s:%s@%s?ca=%s", i.User, i.Password,
			strings.TrimPrefix(i.APIURL, "https://"), url.QueryEscape(i.CAFile)),
		"livestatus unix": "livestatus+unix://" + i.LivestatusSocket,
		"livestatus tcp":  "livestatus+tcp://" + i.LivestatusTCP,
	}
}

// fetch opens source and reads it once.
func fetch(t *testing.T, source string) (*State, error) {
	t.Helper()
	src, err := Open(source, Auth{})
	if err != nil {
		t.Fatalf("Open(%s): %v", Redact(source), err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return src.Fetch(ctx)
}

// TestIcinga2Integration starts one real Icinga 2 and reads it: the
// states through all three interfaces, then what goes wrong.
func TestIcinga2Integration(t *testing.T) {
	i := startIcinga2(t)
	t.Run("states", func(t *testing.T) { testIcinga2States(t, i) })
	t.Run("errors", func(t *testing.T) { testIcinga2Errors(t, i) })
}

// testIcinga2States reads the daemon through the REST API, the
// Livestatus unix socket and Livestatus TCP, and checks that all three
// give exactly the recipe's states, and the same outputs.
func testIcinga2States(t *testing.T, i *montest.Icinga2) {
	states := map[string]*State{}
	for name, source := range icinga2Sources(i) {
		t.Run(name, func(t *testing.T) {
			st, err := fetch(t, source)
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			checkRecipeState(t, st)
			states[name] = st
		})
	}
	t.Run("same outputs", func(t *testing.T) {
		api, unix, tcp := states["api"], states["livestatus unix"], states["livestatus tcp"]
		if api == nil || unix == nil || tcp == nil {
			t.Skip("a source failed above")
		}
		// Checks whose output does not change between two runs.
		for _, key := range []string{"app01/RabbitMQ queues", "app01/HTTP", "db01/MySQL connections",
			"db01/PostgreSQL replication lag", "cache01/Backup age", "cache01/Memcached", "web01/NTP"} {
			a, u, c := serviceByKey(api)[key], serviceByKey(unix)[key], serviceByKey(tcp)[key]
			if a.Output == "" || a.Output != u.Output || a.Output != c.Output {
				t.Errorf("%s output differs:\napi  %q\nunix %q\ntcp  %q", key, a.Output, u.Output, c.Output)
			}
		}
	})
}

// testIcinga2Errors checks the messages of what goes wrong: TLS not
// trusted, wrong password, closed port, missing socket, a Livestatus
// error answer.
func testIcinga2Errors(t *testing.T, i *montest.Icinga2) {
	host := strings.TrimPrefix(i.APIURL, "https://")
	closed := redistest.FreePort(t)
	tests := []struct {
		name, source string
		want         []string // substrings of the error; none: must work
		notWant      []string
	}{
		{name: "system roots refuse the self-signed API",
			source: "icinga2+https://ci:ci-secret@" + host,
			want: []string{"icinga2 https://" + host + ": TLS certificate not trusted",
				"x509: certificate signed by unknown authority", "?ca="},
			notWant: []string{"ci-secret"}},
		{name: "insecure=true skips verification",
			source: "icinga2+https://ci:ci-secret@" + host + "?insecure=true"},
		{name: "ca and localhost",
			source: "icinga2+https://ci:ci-secret@localhost:" + fmt.Sprint(i.APIPort()) + "?ca=" + i.CAFile},
		{name: "wrong password",
			source:  "icinga2+https://ci:wrong@" + host + "?ca=" + i.CAFile,
			want:    []string{"icinga2 https://" + host + ": authentication failed (HTTP 401); check user and password (user ci)"},
			notWant: []string{"wrong"}},
		{name: "password from password_env",
			source: "icinga2+https://" + host + "?user=ci&password_env=DOTM_TEST_I2_PASSWORD&ca=" + i.CAFile},
		{name: "closed API port",
			source: fmt.Sprintf("icinga2+https://ci:ci-secret@127.0.0.1:%d?ca=%s", closed, i.CAFile),
			want:   []string{fmt.Sprintf("icinga2 https://127.0.0.1:%d: connection refused", closed)}},
		{name: "closed livestatus port",
			source: fmt.Sprintf("livestatus+tcp://127.0.0.1:%d", closed),
			want:   []string{fmt.Sprintf("livestatus tcp://127.0.0.1:%d: connection refused", closed)}},
		{name: "missing livestatus socket",
			source: "livestatus+unix://" + filepath.Join(i.Dir, "run", "nosuch"),
			want:   []string{"livestatus unix://" + filepath.Join(i.Dir, "run", "nosuch") + ": socket does not exist"}},
		{name: "livestatus socket is the API port",
			source: "livestatus+tcp://" + host,
			want:   []string{"livestatus tcp://" + host + ": "}},
	}
	t.Setenv("DOTM_TEST_I2_PASSWORD", i.Password)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, err := fetch(t, tc.source)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Fetch: %v", err)
				}
				checkRecipeState(t, st)
				return
			}
			if err == nil {
				t.Fatalf("Fetch worked, want an error with %q", tc.want)
			}
			t.Logf("error: %v", err)
			if st != nil {
				t.Errorf("Fetch returned data with its error: %+v", st)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(err.Error(), w) {
					t.Errorf("error %q contains %q", err, w)
				}
			}
		})
	}
	t.Run("livestatus error answer", func(t *testing.T) {
		l := newLivestatus("unix", i.LivestatusSocket).(*livestatus)
		_, err := l.query(context.Background(), livestatusQuery("hosts", []string{"name", "nosuchcol"}))
		want := "query failed with status 452: Error: Column 'nosuchcol' does not exist in table 'hosts'."
		if err == nil || !strings.HasSuffix(err.Error(), want) {
			t.Errorf("error %v, want one ending in %q (without Icinga's stack trace)", err, want)
		}
		_, err = l.query(context.Background(), livestatusQuery("nosuchtable", []string{"name"}))
		want = "query failed with status 404: Table 'nosuchtable' does not exist."
		if err == nil || !strings.HasSuffix(err.Error(), want) {
			t.Errorf("error %v, want one ending in %q", err, want)
		}
	})
	t.Run("String has no password", func(t *testing.T) {
		src, err := Open("icinga2+https://ci:ci-secret@"+host+"?ca="+i.CAFile, Auth{})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := src.String(), "icinga2 https://"+host; got != want {
			t.Errorf("String() = %q, want %q", got, want)
		}
	})
}

// TestIcinga2IntegrationPending reads a daemon right after its start,
// before its first checks: whatever has no result must be Pending, with
// no last check and no output (Icinga says DOWN / UNKNOWN for those).
func TestIcinga2IntegrationPending(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real Icinga 2; not with -short")
	}
	i := montest.StartIcinga2Unchecked(t)
	for name, source := range icinga2Sources(i) {
		t.Run(name, func(t *testing.T) {
			st, err := fetch(t, source)
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if len(st.Hosts) != 4 || len(st.Services) != 18 {
				t.Fatalf("%d hosts, %d services; want 4, 18", len(st.Hosts), len(st.Services))
			}
			pending := 0
			for _, s := range st.Services {
				if s.Status == Pending {
					pending++
					if s.LastCheck != 0 || s.Output != "" {
						t.Errorf("pending %s/%s: last check %d, output %q", s.Host, s.Name, s.LastCheck, s.Output)
					}
				} else if s.LastCheck == 0 || s.Output == "" {
					t.Errorf("checked %s/%s (%s): last check %d, output %q", s.Host, s.Name, s.Status, s.LastCheck, s.Output)
				}
			}
			for _, h := range st.Hosts {
				if (h.Status == Pending) != (h.LastCheck == 0) {
					t.Errorf("host %s: status %s, last check %d", h.Name, h.Status, h.LastCheck)
				}
			}
			t.Logf("%d of 18 services pending", pending)
		})
	}
}

// TestCaptureIcinga2Fixtures rewrites testdata/ from a real daemon when
// DOTM_CAPTURE_FIXTURES=1: the fixtures of the parser and fuzz tests.
func TestCaptureIcinga2Fixtures(t *testing.T) {
	if os.Getenv("DOTM_CAPTURE_FIXTURES") != "1" {
		t.Skip("set DOTM_CAPTURE_FIXTURES=1 to rewrite testdata/icinga2-*.json and livestatus-*.json")
	}
	capture := func(t *testing.T, i *montest.Icinga2, suffix string) {
		src, err := Open(icinga2Sources(i)["api"], Auth{})
		if err != nil {
			t.Fatal(err)
		}
		api := src.(*icinga2)
		ctx := context.Background()
		for typ, attrs := range map[string][]string{"hosts": icinga2HostAttrs, "services": icinga2ServiceAttrs} {
			body, err := api.get(ctx, typ, attrs)
			if err != nil {
				t.Fatal(err)
			}
			writeFixture(t, "icinga2-"+typ+suffix+".json", body)
		}
		for typ, cols := range map[string][]string{"hosts": livestatusHostColumns, "services": livestatusServiceColumns} {
			writeFixture(t, "livestatus-"+typ+suffix+".json", rawLivestatus(t, i.LivestatusSocket, livestatusQuery(typ, cols)))
		}
	}
	t.Run("checked", func(t *testing.T) { capture(t, montest.StartIcinga2(t), "") })
	t.Run("pending", func(t *testing.T) { capture(t, montest.StartIcinga2Unchecked(t), "-pending") })
}

// rawLivestatus sends q to the unix socket and returns all bytes of the
// answer, fixed16 header included.
func rawLivestatus(t *testing.T, socket, q string) []byte {
	t.Helper()
	c, err := net.Dial("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, q); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// writeFixture writes testdata/name.
func writeFixture(t *testing.T, name string, b []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join("testdata", name), b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote testdata/%s (%d bytes)", name, len(b))
}
