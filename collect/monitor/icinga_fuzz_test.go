package monitor

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// icingaFixtures are the captured answers the fuzz tests start from.
var icingaFixtures = struct{ api, livestatus []string }{
	api: []string{"icinga2-hosts.json", "icinga2-services.json",
		"icinga2-hosts-pending.json", "icinga2-services-pending.json"},
	livestatus: []string{"livestatus-hosts.json", "livestatus-services.json",
		"livestatus-hosts-pending.json", "livestatus-services-pending.json"},
}

// checkTimes fails for a time outside 0..year 9999.
func checkTimes(t *testing.T, what string, times ...int64) {
	t.Helper()
	for _, v := range times {
		if v < 0 || v > maxIcingaTime {
			t.Fatalf("%s: time %d out of range", what, v)
		}
	}
}

// checkHosts asserts what every parsed host must satisfy.
func checkHosts(t *testing.T, hosts []Host) {
	t.Helper()
	for _, h := range hosts {
		if h.Name == "" {
			t.Fatalf("host without name: %+v", h)
		}
		if !slices.Contains([]string{Up, Down, Unreachable, Pending}, h.Status) {
			t.Fatalf("host %q: status %q", h.Name, h.Status)
		}
		checkTimes(t, h.Name, h.LastCheck, h.LastStateChange)
	}
}

// checkServices asserts what every parsed service must satisfy.
func checkServices(t *testing.T, services []Service) {
	t.Helper()
	for _, s := range services {
		if s.Host == "" || s.Name == "" {
			t.Fatalf("service without host or name: %+v", s)
		}
		if !slices.Contains([]string{OK, Warning, Critical, Unknown, Pending}, s.Status) {
			t.Fatalf("service %s/%s: status %q", s.Host, s.Name, s.Status)
		}
		checkTimes(t, s.Host+"/"+s.Name, s.LastCheck, s.LastStateChange)
	}
}

// FuzzParseIcinga2 feeds REST API answers to both parsers: they return
// data or an error, never both; every object of a parsed answer is in
// the result, valid; and an object without last_check_result is Pending
// with no output.
func FuzzParseIcinga2(f *testing.F) {
	for _, name := range icingaFixtures.api {
		f.Add(readFixture(f, name))
	}
	f.Add([]byte(`{"results":[]}`))
	f.Add([]byte(`{"results":[{"attrs":{"host_name":"h","name":"s","state":3,"last_check":-1,"last_check_result":null}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var generic struct {
			Results []struct {
				Attrs struct {
					LastCheckResult json.RawMessage `json:"last_check_result"`
				} `json:"attrs"`
			} `json:"results"`
		}
		genericErr := json.Unmarshal(data, &generic)
		hosts, err := parseIcinga2Hosts(data)
		if err != nil {
			if hosts != nil {
				t.Fatalf("hosts and error %v", err)
			}
		} else {
			if genericErr != nil {
				t.Fatalf("parsed hosts from JSON encoding/json refuses: %v", genericErr)
			}
			if len(hosts) != len(generic.Results) {
				t.Fatalf("%d hosts from %d results", len(hosts), len(generic.Results))
			}
			checkHosts(t, hosts)
			for k, h := range hosts {
				cr := string(generic.Results[k].Attrs.LastCheckResult)
				if (cr == "" || cr == "null") != (h.Status == Pending) {
					t.Fatalf("host %q: status %s with last_check_result %q", h.Name, h.Status, cr)
				}
			}
		}
		services, err := parseIcinga2Services(data)
		if err != nil {
			if services != nil {
				t.Fatalf("services and error %v", err)
			}
			return
		}
		if len(services) != len(generic.Results) {
			t.Fatalf("%d services from %d results", len(services), len(generic.Results))
		}
		checkServices(t, services)
		for k, s := range services {
			cr := string(generic.Results[k].Attrs.LastCheckResult)
			if (cr == "" || cr == "null") != (s.Status == Pending) {
				t.Fatalf("service %s/%s: status %s with last_check_result %q", s.Host, s.Name, s.Status, cr)
			}
			if s.Status == Pending && s.Output != "" {
				t.Fatalf("pending service %s/%s has output %q", s.Host, s.Name, s.Output)
			}
		}
	})
}

// FuzzParseLivestatus feeds raw answers (fixed16 header and body) to
// readLivestatus and both row parsers: a body is returned only for status
// 200 and exactly as long as announced; parsed rows are valid and their
// output never shorter than the plugin output.
func FuzzParseLivestatus(f *testing.F) {
	for _, name := range icingaFixtures.livestatus {
		f.Add(readFixture(f, name))
	}
	f.Add([]byte("452          10\nError: bad"))
	f.Add([]byte("200          43\n[[\"h\",\"s\",1,true,1,0,2,\"o\",\"a\\\\nb\\\\\\\\c\"]]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		const limit = 1 << 20
		body, err := readLivestatus(bytes.NewReader(data), limit)
		if err != nil {
			if body != nil {
				t.Fatalf("body and error %v", err)
			}
		} else {
			code, length, herr := parseFixed16(data[:livestatusHeaderLen])
			if herr != nil || code != 200 || length != len(body) || length > limit ||
				!bytes.Equal(body, data[livestatusHeaderLen:livestatusHeaderLen+length]) {
				t.Fatalf("body %q from header %q (%d %d %v)", body, data[:livestatusHeaderLen], code, length, herr)
			}
		}
		if err != nil {
			body = data // the parsers must cope with any bytes too
		}
		var rows [][]json.RawMessage
		rowsErr := json.Unmarshal(body, &rows)
		if hosts, err := parseLivestatusHosts(body); err == nil {
			if rowsErr != nil || len(hosts) != len(rows) {
				t.Fatalf("%d hosts from %d rows (%v)", len(hosts), len(rows), rowsErr)
			}
			checkHosts(t, hosts)
		} else if hosts != nil {
			t.Fatalf("hosts and error %v", err)
		}
		if services, err := parseLivestatusServices(body); err == nil {
			if rowsErr != nil || len(services) != len(rows) {
				t.Fatalf("%d services from %d rows (%v)", len(services), len(rows), rowsErr)
			}
			checkServices(t, services)
			for k, s := range services {
				var plugin string
				_ = json.Unmarshal(rows[k][7], &plugin)
				if !strings.HasPrefix(s.Output, plugin) {
					t.Fatalf("output %q does not start with plugin_output %q", s.Output, plugin)
				}
			}
		} else if services != nil {
			t.Fatalf("services and error %v", err)
		}
	})
}

// FuzzUnescapeLongOutput checks the unescaping never grows the text and
// leaves text without backslashes alone.
func FuzzUnescapeLongOutput(f *testing.F) {
	f.Add(`orders: 10 ready\nemails: 2 ready`)
	f.Add(`C:\\temp\n\\n\`)
	f.Fuzz(func(t *testing.T, s string) {
		got := unescapeLongOutput(s)
		if len(got) > len(s) {
			t.Fatalf("%q grew to %q", s, got)
		}
		if !strings.Contains(s, `\`) && got != s {
			t.Fatalf("%q changed to %q", s, got)
		}
		if strings.Count(got, "\n") < strings.Count(s, "\n") {
			t.Fatalf("%q lost newlines: %q", s, got)
		}
	})
}
