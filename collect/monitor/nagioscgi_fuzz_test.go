package monitor

import (
	"testing"
)

// FuzzParseStatusJSON feeds statusjson.cgi answers (a hostlist and a
// servicelist) to parseStatusJSON: it returns a state or an error, never
// both, and every host and service of a state is valid and sorted.
func FuzzParseStatusJSON(f *testing.F) {
	for _, pair := range [][2]string{
		{"statusjson-hostlist.json", "statusjson-servicelist.json"},
		{"statusjson-hostlist-pending.json", "statusjson-servicelist-pending.json"},
	} {
		f.Add(readFixture(f, pair[0]), readFixture(f, pair[1]))
	}
	f.Add([]byte(`{"result":{"type_code":0},"data":{"hostlist":{}}}`),
		[]byte(`{"result":{"type_code":0},"data":{"servicelist":{"h":{"s":{"status":16,"last_check":-5}}}}}`))
	f.Fuzz(func(t *testing.T, hosts, services []byte) {
		st, err := parseStatusJSON(hosts, services)
		if err != nil {
			if st != nil {
				t.Fatalf("state and error %v", err)
			}
			return
		}
		checkHosts(t, st.Hosts)
		checkServices(t, st.Services)
		for i := 1; i < len(st.Hosts); i++ {
			if st.Hosts[i-1].Name > st.Hosts[i].Name {
				t.Fatalf("hosts not sorted: %q before %q", st.Hosts[i-1].Name, st.Hosts[i].Name)
			}
		}
	})
}
