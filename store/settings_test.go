package store

import (
	"strings"
	"testing"

	"github.com/lwindolf/dotm/domain"
)

func TestSettingsCatalogue(t *testing.T) {
	all := domain.Settings()
	want := []string{"fetch_parameters", "other_internal_networks", "user_node_aliases", "nagios_instance",
		"history", "aging", "unused", "expire", "hiding", "service_mapping", "udp_services", "service_port_whitelist", "service_name_whitelist"}
	if len(all) != len(want) {
		t.Fatalf("%d settings, want %d", len(all), len(want))
	}
	for i, s := range all {
		if s.Name != want[i] || s.Description == "" || s.Title == "" {
			t.Errorf("setting %d = %q (description %q)", i, s.Name, s.Description)
		}
		if err := s.Validate(s.Default); err != nil {
			t.Errorf("default of %s does not validate: %v", s.Name, err)
		}
	}
	m, _ := domain.Lookup("service_mapping")
	if got := m.Default.Hash["^Postgres.*"]; !strings.Contains(got, "^postgres") {
		t.Errorf("PostgreSQL preset %q does not match the process name postgres", got)
	}
	if p, _ := domain.Lookup("service_port_whitelist"); p.Default.Text != "53,953,22,5666,4949,4848,25,631,24007,24009,111,2049" {
		t.Errorf("port whitelist default = %q", p.Default.Text)
	}
}

func TestParseValueErrors(t *testing.T) {
	cases := []struct{ setting, in, want string }{
		{"service_port_whitelist", "abc", `"abc" is not a TCP port`},
		{"service_port_whitelist", "22,70000", `"70000" is not a TCP port`},
		{"other_internal_networks", `["100.64.0.0/10","10.0.0.0/33"]`, `"10.0.0.0/33" is not a network`},
		{"other_internal_networks", `100.64.0.0/10`, "takes a JSON array"},
		{"service_mapping", `{"^HTTP(":"nginx"}`, `check regex "^HTTP(" does not compile`},
		{"service_mapping", `{"^HTTP":"ngin[x"}`, `process regex "ngin[x"`},
		{"aging", `{"Services":"soon"}`, `want a whole number`},
		{"aging", `{"Servces":600}`, `has no field "Servces"`},
		{"history", `{"enabled":"maybe"}`, "want true or false"},
		{"fetch_parameters", `{"method":"telnet"}`, `fetch method "telnet" is not one of`},
		{"user_node_aliases", `{"web01.mon":"bad/name"}`, `character '/' is not allowed`},
		{"nagios_instance", `{"expire":[1]}`, "not an array"},
	}
	for _, c := range cases {
		t.Run(c.setting+" "+c.in, func(t *testing.T) {
			s, err := domain.Lookup(c.setting)
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.ParseValue(c.in)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want it to contain %q", err, c.want)
			}
		})
	}
	if _, err := domain.Lookup("colour"); err == nil || !strings.Contains(err.Error(), "service_mapping") {
		t.Errorf("unknown setting: err = %v, want the list of settings", err)
	}
}

func TestUDPServicesSetting(t *testing.T) {
	if !domain.ConfFrom(map[string]domain.Value{}).UDPServices {
		t.Error("UDP services are off by default")
	}
	if domain.ConfFrom(map[string]domain.Value{"udp_services": {Hash: map[string]string{"enabled": "0"}}}).UDPServices {
		t.Error("udp_services enabled=0 leaves UDP services on")
	}
}
