package analyze

import (
	"testing"

	"github.com/lwindolf/dotm/store"
)

// TestUnusedDefaultIsDays: with the default settings, a nightly job's
// database (last used a day ago) is no decommission candidate; a service
// without a client for 8 days is.
func TestUnusedDefaultIsDays(t *testing.T) {
	now := int64(1795000000)
	m := NewModel(now, nil, []*Node{{
		Node: store.Node{Name: "db01", FetchStatus: "OK", LastFetch: now},
		Services: []store.Service{
			{Node: "db01", Port: 5432, Process: "postgres", FirstSeen: now - 30*86400, LastSeen: now, LastConnection: now - 86400},
			{Node: "db01", Port: 6379, Process: "redis-server", FirstSeen: now - 30*86400, LastSeen: now, LastConnection: now - 8*86400},
		},
	}})
	if m.Conf.UnusedServices.Hours() != 7*24 {
		t.Errorf("unused default %v, want 7 days", m.Conf.UnusedServices)
	}
	f := FindingsOf(m, 0)
	if len(f.Unused) != 1 || f.Unused[0].Port != 6379 {
		t.Errorf("unused = %+v, want only redis-server (8 days without a client)", f.Unused)
	}
}
