package monitor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recipeAliases are the host aliases of the test configuration
// (internal/montest/nagios4/objects/hosts.cfg).
var recipeAliases = map[string]string{
	"web01": "Storefront web server", "app01": "Application server",
	"db01": "Primary database", "cache01": "Cache server",
}

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
		t.Errorf("%d hosts, %d services, states %v; want 4, 18, 11 OK, 2 WARNING, 4 CRITICAL, 1 UNKNOWN",
			len(st.Hosts), len(st.Services), count)
	}
	for _, h := range st.Hosts {
		if want := map[bool]string{true: Down, false: Up}[h.Name == "db01"]; h.Status != want {
			t.Errorf("host %s is %s, want %s", h.Name, h.Status, want)
		}
		if h.LastCheck < 1e9 {
			t.Errorf("host %s last_check %d is not unix seconds", h.Name, h.LastCheck)
		}
	}
	want := map[string]string{
		"web01/HTTPS cert": Warning, "web01/NTP": Critical, "app01/HTTP": Critical,
		"db01/MySQL connections": Critical, "db01/PostgreSQL replication lag": Warning,
		"cache01/Memcached": Critical, "cache01/Backup age": Unknown, "cache01/Redis": OK,
	}
	for _, s := range st.Services {
		if w, ok := want[s.Host+"/"+s.Name]; ok && s.Status != w {
			t.Errorf("%s/%s is %s, want %s", s.Host, s.Name, s.Status, w)
		}
		if s.Host == "app01" && s.Name == "RabbitMQ queues" &&
			!strings.HasPrefix(s.Output, "QUEUES OK - 3 queues, 12 messages ready\norders: 10 ready, 2 consumers\n"+
				"emails: 2 ready, 3 consumers\nrefunds: 0 ready, 1 consumers") {
			t.Errorf("long output not joined and unescaped: %q", s.Output)
		}
		if s.LastCheck < 1e9 {
			t.Errorf("%s/%s last_check %d is not unix seconds", s.Host, s.Name, s.LastCheck)
		}
	}
}

// checkAliases asserts the hosts' aliases.
func checkAliases(t *testing.T, st *State, want map[string]string) {
	t.Helper()
	for _, h := range st.Hosts {
		if h.Alias != want[h.Name] {
			t.Errorf("host %s alias %q, want %q", h.Name, h.Alias, want[h.Name])
		}
	}
}

func TestStatusDatFixtures(t *testing.T) {
	t.Run("checked", func(t *testing.T) {
		st, err := newStatusDat(filepath.Join("testdata", "status.dat")).Fetch(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		checkRecipeStates(t, st)
		checkAliases(t, st, recipeAliases) // from testdata/objects.cache
	})
	t.Run("pending and odd output", func(t *testing.T) {
		st, err := ParseStatusDat(strings.NewReader(string(readFixture(t, "status-pending.dat"))))
		if err != nil {
			t.Fatal(err)
		}
		checkExtraStates(t, st)
		if got := serviceOutput(st, "odd01", "Odd output"); got != oddOutput {
			t.Errorf("odd output:\n got %q\nwant %q", got, oddOutput)
		}
		checkAliases(t, st, nil) // ParseStatusDat alone has no aliases
	})
}

// TestStatusDatAliasLocation: objects.cache is looked for next to
// status.dat, then in Debian's cache directory; absent, aliases are empty.
func TestStatusDatAliasLocation(t *testing.T) {
	dat, cache := readFixture(t, "status.dat"), readFixture(t, "objects.cache")
	tests := []struct {
		name, statusDat, objectsCache string
		want                          map[string]string
	}{
		{"same directory (debian nagios4)", "var/lib/nagios4/status.dat", "var/lib/nagios4/objects.cache", recipeAliases},
		{"lib and cache (debian icinga 1)", "var/lib/icinga/status.dat", "var/cache/icinga/objects.cache", recipeAliases},
		{"other directory", "var/lib/nagios4/status.dat", "etc/nagios4/objects.cache", nil},
		{"cache of another daemon", "var/lib/nagios4/status.dat", "var/cache/icinga/objects.cache", nil},
		{"none", "srv/status.dat", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			writeFile(t, filepath.Join(root, tt.statusDat), dat)
			if tt.objectsCache != "" {
				writeFile(t, filepath.Join(root, tt.objectsCache), cache)
			}
			st, err := newStatusDat(filepath.Join(root, tt.statusDat)).Fetch(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			checkAliases(t, st, tt.want)
		})
	}
	t.Run("unreadable objects.cache is an error", func(t *testing.T) {
		root := t.TempDir()
		writeFile(t, filepath.Join(root, "status.dat"), dat)
		writeFile(t, filepath.Join(root, "objects.cache"), cache[:len(cache)/2])
		_, err := newStatusDat(filepath.Join(root, "status.dat")).Fetch(context.Background())
		if err == nil || !strings.Contains(err.Error(), "objects.cache") || !strings.Contains(err.Error(), "truncated") {
			t.Errorf("err = %v, want a truncated objects.cache named", err)
		}
	})
}

func writeFile(t *testing.T, name string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestParseStatusDatBlocks(t *testing.T) {
	tests := []struct {
		name, in string
		want     Host
	}{
		{"up", "hoststatus {\n\thost_name=h\n\thas_been_checked=1\n\tcurrent_state=0\n\tlast_check=100\n\tlast_state_change=90\n\tplugin_output=PING OK\n\t}\n",
			Host{Name: "h", Status: Up, LastCheck: 100, LastStateChange: 90, Output: "PING OK"}},
		{"down", "hoststatus {\n\thost_name=h\n\thas_been_checked=1\n\tcurrent_state=1\n\t}\n", Host{Name: "h", Status: Down}},
		{"unreachable", "hoststatus {\n\thost_name=h\n\thas_been_checked=1\n\tcurrent_state=2\n\t}\n", Host{Name: "h", Status: Unreachable}},
		{"pending whatever current_state says", "hoststatus {\n\thost_name=h\n\thas_been_checked=0\n\tcurrent_state=0\n\t}\n", Host{Name: "h", Status: Pending}},
		{"long output unescaped, plugin output raw", "hoststatus {\n\thost_name=h\n\tcurrent_state=0\n\tplugin_output=C:\\new \\\\ b \n\tlong_plugin_output=l1\\nl2 C:\\\\new\\x \\n\n\t}\n",
			Host{Name: "h", Status: Up, Output: "C:\\new \\\\ b\nl1\nl2 C:\\new\\x"}},
		{"value with = and CRLF", "hoststatus {\r\n\thost_name=h\r\n\tcurrent_state=0\r\n\tplugin_output=a=b\r\n\t}\r\n", Host{Name: "h", Status: Up, Output: "a=b"}},
		{"values ending in braces", "hoststatus {\n\thost_name=h\n\tcurrent_state=0\n\tplugin_output=JSON {\n\tlong_plugin_output=}\n\t}\n",
			Host{Name: "h", Status: Up, Output: "JSON {\n}"}},
		{"other blocks skipped", "info {\n\tversion=4.4.6\n\t}\nhostcomment {\n\thost_name=x\n\tcomment_data=a=b\n\t}\n" +
			"hoststatus {\n\thost_name=h\n\tcurrent_state=0\n\t}\n", Host{Name: "h", Status: Up}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := ParseStatusDat(strings.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if len(st.Hosts) != 1 || st.Hosts[0] != tt.want {
				t.Errorf("hosts = %+v, want [%+v]", st.Hosts, tt.want)
			}
		})
	}
}

func TestParseStatusDatServices(t *testing.T) {
	in := "servicestatus {\n\thost_name=h\n\tservice_description=%s\n\thas_been_checked=%s\n\tcurrent_state=%s\n\t}\n"
	tests := []struct{ checked, state, want string }{
		{"1", "0", OK}, {"1", "1", Warning}, {"1", "2", Critical}, {"1", "3", Unknown}, {"0", "0", Pending}, {"0", "2", Pending},
	}
	var b strings.Builder
	for i, tt := range tests {
		fmt.Fprintf(&b, in, string(rune('a'+i)), tt.checked, tt.state)
	}
	st, err := ParseStatusDat(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Services) != len(tests) {
		t.Fatalf("%d services, want %d", len(st.Services), len(tests))
	}
	for i, tt := range tests {
		if s := st.Services[i]; s.Status != tt.want || s.Host != "h" {
			t.Errorf("has_been_checked=%s current_state=%s: %+v, want %s", tt.checked, tt.state, s, tt.want)
		}
	}
}

func TestParseStatusDatErrors(t *testing.T) {
	real := string(readFixture(t, "status.dat"))
	svc := strings.Index(real, "servicestatus {")
	svcLine := strings.Count(real[:svc], "\n") + 1
	tests := []struct{ name, in, want string }{
		{"truncated in a block", real[:svc+300],
			fmt.Sprintf("truncated: block servicestatus opened at line %d not closed; is Nagios writing it right now?", svcLine)},
		{"truncated after the opening line", real[:svc+len("servicestatus {\n")],
			fmt.Sprintf("block servicestatus opened at line %d not closed", svcLine)},
		{"cut in the middle of a key", real[:svc+len("servicestatus {\n\thost_na")],
			fmt.Sprintf("truncated: block servicestatus opened at line %d not closed", svcLine)},
		{"cut in a block's first line", "info {\n\t}\nservicesta", "truncated: line 3 is cut off; is Nagios writing it right now?"},
		{"unterminated last line is fine when complete", "info {\n\t}\nhoststatus {\n\thost_name=h\n\tcurrent_state=9\n\t}",
			`current_state="9" is not one of 0..2`},
		{"empty", "", "does not look like a status.dat"},
		{"comments only", "# status\n\n", "does not look like a status.dat"},
		{"a nagios.cfg", "log_file=/var/log/nagios4/nagios.log\ncfg_dir=/etc/nagios4/conf.d\n", `line 1: "log_file=/var/log/nagios4/nagios.log" outside a block; does not look like a status.dat`},
		{"only unknown blocks", "define host {\n\thost_name\tx\n\t}\n", "does not look like a status.dat"},
		{"over-long line", "info {\n\tx=" + strings.Repeat("a", MaxStatusDatLine) + "\n}\n", "line 2 is longer than 4194304 bytes"},
		{"nested block", "hoststatus {\n\thost_name=h\nservicestatus {\n", "line 3: block servicestatus opens inside block hoststatus (opened at line 1"},
		{"close without open", "info {\n}\n}\n", "line 3: } without an open block"},
		{"not key=value", "hoststatus {\n\thost_name h\n\t}\n", `line 2 in block hoststatus (opened at line 1): "host_name h" is not key=value`},
		{"no host_name", "hoststatus {\n\tcurrent_state=0\n\t}\n", "block hoststatus at line 1 has no host_name"},
		{"no service_description", "servicestatus {\n\thost_name=h\n\tcurrent_state=0\n\t}\n", "lacks host_name or service_description"},
		{"host state out of range", "hoststatus {\n\thost_name=h\n\thas_been_checked=1\n\tcurrent_state=3\n\t}\n", `(host h): current_state="3" is not one of 0..2`},
		{"service state not a number", "servicestatus {\n\thost_name=h\n\tservice_description=s\n\tcurrent_state=x\n\t}\n", `(s on h): current_state="x" is not one of 0..3`},
		{"no current_state", "servicestatus {\n\thost_name=h\n\tservice_description=s\n\t}\n", "no current_state"},
		{"bad last_check", "hoststatus {\n\thost_name=h\n\tcurrent_state=0\n\tlast_check=soon\n\t}\n", `last_check="soon" is not a number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := ParseStatusDat(strings.NewReader(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if st != nil {
				t.Errorf("got a partial state with the error: %+v", st)
			}
		})
	}
}

func TestStatusDatFetchErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct{ name, path, want string }{
		{"missing file", filepath.Join(dir, "nope", "status.dat"),
			"status.dat " + filepath.Join(dir, "nope", "status.dat") + ": open "},
		{"a directory", dir, "status.dat " + dir + ": "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newStatusDat(tt.path).Fetch(context.Background())
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to start with %q", err, tt.want)
			}
		})
	}
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		big := strings.Repeat("info {\n\tversion=4\n\t}\n", ctxCheckLines)
		_, err := parseStatusDat(ctx, strings.NewReader(big))
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	})
}
