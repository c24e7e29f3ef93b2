package collect

import (
	"slices"
	"strconv"
	"testing"

	"github.com/lwindolf/dotm/collect/netinfo"
	"github.com/lwindolf/dotm/collect/simfleet"
	"github.com/lwindolf/dotm/impact"
	"github.com/lwindolf/dotm/store"
)

// TestImpactDemoFleet aggregates the demo fleet's socket tables and asks,
// for every service of every host, whom its failure hits: the monitoring
// host (it scrapes every exporter) is hit only by a service it uses itself,
// and every client process that uses the service is hit.
func TestImpactDemoFleet(t *testing.T) {
	fleet := simfleet.Generate(60, 1, 14870)
	hosts := map[string]*netinfo.Host{}
	for _, h := range fleet.Hosts {
		hosts[h.Name] = h.Report()
	}
	out, _ := aggregateAll(t, hosts, nil)
	var conns []store.Connection
	var services []store.Service
	for name, d := range out {
		for _, c := range d.Connections {
			c.Node = name
			conns = append(conns, c)
		}
		for _, sv := range d.Services {
			sv.Node = name
			services = append(services, sv)
		}
	}
	g := impact.New(conns, services)
	checked := 0
	for _, h := range fleet.Hosts {
		for _, sv := range h.Services {
			impact := g.Impact(h.Name, strconv.Itoa(int(sv.Port)))
			hit := map[string]bool{}
			for _, d := range impact {
				hit[d.Node] = true
			}
			for _, e := range h.In {
				if e.Port == sv.Port && e.From != nil && !hit[e.From.Name] {
					t.Errorf("%s %s:%d: its client %s is not hit: %v", h.Name, sv.Process, sv.Port, e.From.Name, impact)
				}
			}
			for _, m := range fleet.Hosts {
				if m.Tier != "mon" && m.Tier != "bastion" {
					continue
				}
				uses := slices.ContainsFunc(m.Out, func(e *simfleet.Edge) bool { return e.To == h && e.Port == sv.Port })
				if hit[m.Name] != uses {
					t.Errorf("%s %s:%d: %s hit = %v, uses it = %v: %v", h.Name, sv.Process, sv.Port, m.Name, hit[m.Name], uses, impact)
				}
			}
			checked++
		}
	}
	if checked < 100 {
		t.Fatalf("only %d services checked", checked)
	}
}
