package monitor

import (
	"strings"
	"testing"
)

// FuzzParseStatusDat: no input panics, and a State is only returned when
// it is whole: every host and service named, with an allowed status, and
// every service has a host name.
func FuzzParseStatusDat(f *testing.F) {
	for _, name := range []string{"status.dat", "status-pending.dat"} {
		f.Add(string(readFixture(f, name)))
	}
	f.Add("hoststatus {\n\thost_name=a\n\tcurrent_state=9\n\tplugin_output=x\\ny\\\\\n}\n")
	f.Add("servicestatus {\n\thost_name=a\n\tservice_description=s\n\thas_been_checked=0\n\tlong_plugin_output=\\\\n\\\n\t}\n")
	f.Add("info {\n}\nservicestatus {\n")
	f.Fuzz(func(t *testing.T, in string) {
		st, err := ParseStatusDat(strings.NewReader(in))
		if err != nil {
			if st != nil {
				t.Fatalf("state %+v returned with error %v", st, err)
			}
			return
		}
		for _, h := range st.Hosts {
			switch h.Status {
			case Up, Down, Unreachable, Pending:
			default:
				t.Fatalf("host %q has status %q", h.Name, h.Status)
			}
			if h.Name == "" {
				t.Fatalf("host without a name: %+v", h)
			}
		}
		for _, s := range st.Services {
			switch s.Status {
			case OK, Warning, Critical, Unknown, Pending:
			default:
				t.Fatalf("service %q has status %q", s.Name, s.Status)
			}
			if s.Host == "" || s.Name == "" {
				t.Fatalf("service without host or name: %+v", s)
			}
		}
		if n := countBlocks(in, "servicestatus"); len(st.Services) != n {
			t.Fatalf("%d services from %d servicestatus blocks", len(st.Services), n)
		}
		if n := countBlocks(in, "hoststatus"); len(st.Hosts) != n {
			t.Fatalf("%d hosts from %d hoststatus blocks", len(st.Hosts), n)
		}
	})
}

// countBlocks counts the lines that open a block named name.
func countBlocks(in, name string) int {
	n := 0
	for _, l := range strings.Split(in, "\n") {
		l = strings.TrimSpace(l)
		if strings.HasSuffix(l, "{") && strings.TrimSpace(strings.TrimSuffix(l, "{")) == name {
			n++
		}
	}
	return n
}
