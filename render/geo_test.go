package render

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
	"github.com/oschwald/geoip2-golang/v2"

	"github.com/lwindolf/dotm/analyze"
	"github.com/lwindolf/dotm/store"
)

// writeMMDB writes a small database of type dbType with the networks in
// nets (CIDR → record) to dir/name.
func writeMMDB(t *testing.T, dir, name, dbType string, nets map[string]mmdbtype.Map) string {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: dbType, IncludeReservedNetworks: true, RecordSize: 24})
	if err != nil {
		t.Fatal(err)
	}
	for cidr, rec := range nets {
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			t.Fatal(err)
		}
		if err := tree.Insert(n, rec); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func cityRec(iso, country, city string) mmdbtype.Map {
	rec := mmdbtype.Map{"country": mmdbtype.Map{"iso_code": mmdbtype.String(iso),
		"names": mmdbtype.Map{"en": mmdbtype.String(country)}}}
	if city != "" {
		rec["city"] = mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String(city)}}
	}
	return rec
}

func asnRec(n uint32, org string) mmdbtype.Map {
	return mmdbtype.Map{"autonomous_system_number": mmdbtype.Uint32(n),
		"autonomous_system_organization": mmdbtype.String(org)}
}

func testGeoFiles(t *testing.T) (city, asn string) {
	dir := t.TempDir()
	city = writeMMDB(t, dir, "city.mmdb", "GeoLite2-City", map[string]mmdbtype.Map{
		"203.0.113.0/24":  cityRec("DE", "Germany", "Berlin"),
		"198.51.100.0/24": cityRec("US", "United States", ""),
		"10.0.0.0/8":      cityRec("DE", "Germany", "Frankfurt am Main"),
	})
	asn = writeMMDB(t, dir, "asn.mmdb", "GeoLite2-ASN", map[string]mmdbtype.Map{
		"203.0.113.0/25":   asnRec(64500, "Example Org"),
		"203.0.113.128/25": asnRec(64501, "<script>alert(1)</script>"),
		"198.51.100.0/24":  asnRec(64502, "Other Net"),
	})
	return city, asn
}

func TestGeoLookup(t *testing.T) {
	city, asn := testGeoFiles(t)
	g, err := analyze.OpenGeo([]string{city, asn})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	cases := []struct {
		ip    string
		want  analyze.GeoInfo
		label string
	}{
		{"203.0.113.7", analyze.GeoInfo{CountryCode: "DE", Country: "Germany", City: "Berlin", ASN: 64500, Org: "Example Org"},
			"AS64500 Example Org (DE)"},
		{"::ffff:203.0.113.200", analyze.GeoInfo{CountryCode: "DE", Country: "Germany", City: "Berlin", ASN: 64501,
			Org: "<script>alert(1)</script>"}, "AS64501 <script>alert(1)</script> (DE)"},
		{"198.51.100.20", analyze.GeoInfo{CountryCode: "US", Country: "United States", ASN: 64502, Org: "Other Net"},
			"AS64502 Other Net (US)"},
		{"10.1.0.1", analyze.GeoInfo{CountryCode: "DE", Country: "Germany", City: "Frankfurt am Main"}, "DE"},
		{"192.0.2.1", analyze.GeoInfo{}, ""},
		{"2001:db8::1", analyze.GeoInfo{}, ""},
	}
	for _, c := range cases {
		got := g.Lookup(netip.MustParseAddr(c.ip))
		if got != c.want || got.Label() != c.label {
			t.Errorf("Lookup(%s) = %+v (%q), want %+v (%q)", c.ip, got, got.Label(), c.want, c.label)
		}
	}
	if !g.HasCity() {
		t.Error("a City database is open")
	}

	var none *analyze.Geo
	if none.Lookup(netip.MustParseAddr("203.0.113.7")) != (analyze.GeoInfo{}) || none.HasCity() || none.Close() != nil {
		t.Error("a nil Geo must know nothing")
	}
	if g, err := analyze.OpenGeo(nil); g != nil || err != nil {
		t.Errorf("no files: %v, %v", g, err)
	}
}

func TestOpenGeoRefuses(t *testing.T) {
	dir := t.TempDir()
	anon := writeMMDB(t, dir, "anon.mmdb", "GeoIP2-Anonymous-IP", map[string]mmdbtype.Map{
		"203.0.113.0/24": {"is_anonymous": mmdbtype.Bool(true)}})
	odd := writeMMDB(t, dir, "odd.mmdb", "Example-Thing", map[string]mmdbtype.Map{
		"203.0.113.0/24": {"x": mmdbtype.Bool(true)}})
	notDB := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notDB, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{anon, odd, notDB, filepath.Join(dir, "missing.mmdb")} {
		g, err := analyze.OpenGeo([]string{f})
		if err == nil || g != nil {
			t.Errorf("%s: opened", f)
			continue
		}
		if !strings.Contains(err.Error(), f) || !strings.Contains(err.Error(), "City, Country or ASN") {
			t.Errorf("%s: error %q must name the file and what is wanted", f, err)
		}
	}
}

func TestAddGeo(t *testing.T) {
	city, asn := testGeoFiles(t)
	g, err := analyze.OpenGeo([]string{city, asn})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	web := &analyze.Node{Node: store.Node{Name: "web01", IPs: []string{"10.0.0.1", "fe80::1"}},
		Connections: []store.Connection{
			{Port: "443", Remote: "Internet", Direction: store.In, Process: "nginx",
				RemoteIPs: "198.51.100.20,203.0.113.7,203.0.113.8,203.0.113.200"},
			{Port: "3306", Remote: "db01", Direction: store.Out, Process: "nginx"},
		}}
	m := analyze.NewModel(1000, nil, []*analyze.Node{web, {Node: store.Node{Name: "db01"}}})
	m.AddGeo(g)
	n := m.Node("web01")
	p := &nodePage{N: n}
	if got := p.RemoteLabel(n.Connections[1]); got != "Internet: AS64502 Other Net (US), +2 more" {
		t.Errorf("label %q", got)
	}
	if got := p.RemoteLabel(n.Connections[0]); got != "db01" {
		t.Errorf("a node remote is left as it is: %q", got)
	}
	if len(n.Locations) != 1 || n.Locations[0].Location() != "Frankfurt am Main, Germany" {
		t.Errorf("locations %+v", n.Locations)
	}
	var ips []string
	for _, e := range m.Endpoints {
		ips = append(ips, e.IP)
	}
	if strings.Join(ips, " ") != "198.51.100.20 203.0.113.7 203.0.113.8 203.0.113.200" {
		t.Errorf("endpoints not sorted by address: %v", ips)
	}
	if DOT := string(NodeDOT(m, "web01")); strings.Contains(DOT, "AS6450") {
		t.Error("geo labels must stay out of the graphs")
	}
}

// TestGeoDamagedDatabase: a database whose data section is damaged opens
// (its metadata is intact) but fails every lookup; that is reported, not
// taken for "nothing known".
func TestGeoDamagedDatabase(t *testing.T) {
	city, _ := testGeoFiles(t)
	b, err := os.ReadFile(city)
	if err != nil {
		t.Fatal(err)
	}
	r, err := geoip2.Open(city)
	if err != nil {
		t.Fatal(err)
	}
	md := r.Metadata()
	r.Close()
	// The search tree, 16 zero bytes, the data section, then the metadata
	// after its marker (MaxMind DB format, "Data Section Separator").
	start := int(md.NodeCount*md.RecordSize/4) + 16
	end := strings.LastIndex(string(b), "\xab\xcd\xefMaxMind.com")
	if start >= end {
		t.Fatalf("data section %d..%d", start, end)
	}
	for i := start; i < end; i++ {
		b[i] = 0xff
	}
	damaged := filepath.Join(t.TempDir(), "damaged.mmdb")
	if err := os.WriteFile(damaged, b, 0o600); err != nil {
		t.Fatal(err)
	}
	g, err := analyze.OpenGeo([]string{damaged})
	if err != nil {
		t.Fatalf("a damaged data section is found at lookup, not open: %v", err)
	}
	defer g.Close()
	if info := g.Lookup(netip.MustParseAddr("203.0.113.9")); info != (analyze.GeoInfo{}) {
		t.Errorf("lookup in a damaged database gave %+v", info)
	}
	errs := g.Errors()
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "geoip database "+damaged+": lookups fail (") ||
		!strings.Contains(errs[0].Error(), "download it again") {
		t.Errorf("errors %v, want the damaged file named with the fix", errs)
	}
	m := &analyze.Model{}
	m.AddGeo(g)
	if len(m.GeoErrors) != 1 {
		t.Errorf("model GeoErrors %v", m.GeoErrors)
	}
}
