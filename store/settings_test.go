package store

import (
	"context"
	"net/netip"
	"slices"
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

func TestConfigSetExportImport(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		set := map[string]string{
			"service_port_whitelist":  "53,22,5666",
			"other_internal_networks": `["100.64.0.0/10"]`,
			"service_mapping":         `{"^Tomcat":"^java$","^HTTP":""}`,
			"nagios_instance":         `{"source":"/var/lib/nagios4/status.dat","password":"s3cret","use_aliases":true}`,
		}
		for name, in := range set {
			st, _ := domain.Lookup(name)
			v, err := st.ParseValue(in)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.SetSetting(ctx, st, v); err != nil {
				t.Fatal(err)
			}
		}
		cfg, err := s.Config(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, sv := range cfg {
			switch sv.Name {
			case "service_mapping":
				eff := sv.Value().Hash
				if eff["^Tomcat"] != "^java$" || eff["^HTTP"] != "" || eff["^Redis"] == "" {
					t.Errorf("mapping not merged over presets: %v", eff)
				}
			case "nagios_instance":
				if got := sv.Text(sv.Value()); strings.Contains(got, "s3cret") || !strings.Contains(got, domain.Mask) {
					t.Errorf("secret shown: %s", got)
				}
				if sv.Value().Hash["expire"] != "86400" || sv.Value().Hash["use_aliases"] != "1" {
					t.Errorf("nagios_instance = %v", sv.Value().Hash)
				}
			case "aging":
				if sv.IsSet {
					t.Error("aging reported set")
				}
			}
		}

		masked, err := s.ExportConfig(ctx, false)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(masked), "s3cret") {
			t.Errorf("export shows the secret:\n%s", masked)
		}
		full, _ := s.ExportConfig(ctx, true)
		if !strings.Contains(string(full), "s3cret") {
			t.Errorf("export with secrets lacks it:\n%s", full)
		}
		// Importing the masked export keeps the stored password and gives
		// byte-identical exports.
		if err := s.ImportConfig(ctx, masked); err != nil {
			t.Fatal(err)
		}
		again, _ := s.ExportConfig(ctx, true)
		if string(again) != string(full) {
			t.Errorf("round trip changed the export:\n%s\nwant\n%s", again, full)
		}
		// A bad import changes nothing.
		before, _ := s.ExportConfig(ctx, true)
		err = s.ImportConfig(ctx, []byte(`{"aging":{"Services":600},"service_port_whitelist":"abc"}`))
		if err == nil {
			t.Fatal("bad import accepted")
		}
		if after, _ := s.ExportConfig(ctx, true); string(after) != string(before) {
			t.Errorf("bad import changed settings:\n%s", after)
		}
	})
}

// Settings as the original dotm stored them are read (space-separated
// networks, as one string or one list element) or refused with the fix
// (its nagios_instance.url field), never silently ignored.
func TestLoadConfOriginalForms(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		nets := configKey("other_internal_networks")
		has := func(c *domain.Conf, cidrs ...string) bool {
			for _, want := range cidrs {
				if !slices.Contains(c.InternalNets, netip.MustParsePrefix(want)) {
					return false
				}
			}
			return true
		}
		s.rdb.Set(ctx, nets, "100.64.0.0/10 198.18.0.0/15", 0)
		c, err := s.LoadConf(ctx)
		if err != nil || !has(c, "100.64.0.0/10", "198.18.0.0/15") {
			t.Errorf("networks as one string: %v, %v", c, err)
		}
		s.rdb.Del(ctx, nets)
		s.rdb.RPush(ctx, nets, "100.64.0.0/10 198.18.0.0/15", "203.0.113.0/24")
		c, err = s.LoadConf(ctx)
		if err != nil || !has(c, "100.64.0.0/10", "198.18.0.0/15", "203.0.113.0/24") {
			t.Errorf("networks as list elements with spaces: %v, %v", c, err)
		}
		s.rdb.RPush(ctx, nets, "intranet")
		if _, err := s.LoadConf(ctx); err == nil || !strings.Contains(err.Error(), `"intranet" is not a network`) ||
			!strings.Contains(err.Error(), "dotm config unset other_internal_networks") {
			t.Errorf("a stored network that does not parse: %v", err)
		}
		s.rdb.Del(ctx, nets)
		s.rdb.HSet(ctx, configKey("nagios_instance"), "url", "http://mon.example.com/cgi-bin/icinga", "user", "dotm")
		if _, err := s.LoadConf(ctx); err == nil || !strings.Contains(err.Error(), `field "url" (the original dotm's cgi-bin URL; this dotm reads "source"`) ||
			!strings.Contains(err.Error(), "dotm config set nagios_instance '") {
			t.Errorf("the original's nagios_instance.url: %v", err)
		}
	})
}

func TestUDPServicesSetting(t *testing.T) {
	if !domain.ConfFrom(map[string]domain.Value{}).UDPServices {
		t.Error("UDP services are off by default")
	}
	if domain.ConfFrom(map[string]domain.Value{"udp_services": {Hash: map[string]string{"enabled": "0"}}}).UDPServices {
		t.Error("udp_services enabled=0 leaves UDP services on")
	}
}
