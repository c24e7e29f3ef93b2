package analyze

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/lwindolf/dotm/domain"
	"github.com/lwindolf/dotm/store"
)

func TestCoverageOf(t *testing.T) {
	services := []store.Service{
		{Node: "web01", Port: 80, Process: "nginx"},
		{Node: "web01", Port: 9100, Process: "node_exporter"},
		{Node: "db01", Port: 3306, Process: "mysqld"},
		{Node: "new01", Port: 8080, Process: "java"},
	}
	checks := map[string]store.Checks{
		"web01": {Services: []store.ServiceCheck{
			{Node: "web01", Service: "HTTP", Mapping: "nginx"},
			{Node: "web01", Service: "Disk /var", Status: "WARNING"}, // host-level: the node's
			{Node: "web01", Service: "Load"},
			{Node: "web01", Service: "Redis memory"}, // meant for redis, which web01 does not run
		}},
		"db01": {Services: []store.ServiceCheck{{Node: "db01", Service: "MySQL connections", Mapping: "mysqld"}}},
	}
	rules := []domain.MappingRule{
		{Check: regexp.MustCompile("(?i)http"), Process: regexp.MustCompile("(?i)nginx")},
		{Check: regexp.MustCompile("(?i)redis"), Process: regexp.MustCompile("(?i)redis")},
		{Check: regexp.MustCompile("(?i)mysql"), Process: regexp.MustCompile("(?i)mysqld")},
	}
	c := CoverageOf([]string{"web01", "db01", "new01"}, services, checks, rules)
	if got := fmt.Sprint(c.Unmonitored); got != fmt.Sprint([]store.Service{services[1]}) {
		t.Errorf("unmonitored = %s, want only web01's node_exporter (new01 is missing monitoring as a whole)", got)
	}
	if len(c.UnmappedChecks) != 1 || c.UnmappedChecks[0].Service != "Redis memory" || c.HostChecks != 2 {
		t.Errorf("unmapped checks = %v, host checks %d; want only Redis memory, and Disk /var and Load as the node's",
			c.UnmappedChecks, c.HostChecks)
	}
	if fmt.Sprint(c.MissingMonitoring) != "[new01]" {
		t.Errorf("missing monitoring = %v", c.MissingMonitoring)
	}
}
