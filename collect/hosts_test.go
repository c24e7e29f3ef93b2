package collect

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/lwindolf/dotm/domain"
)

func TestSuggest(t *testing.T) {
	// hosts(5) lines, as getent hosts prints them.
	hosts := ParseHosts(strings.NewReader(`127.0.0.1       localhost
10.0.0.5        web01.dc1.example.com web01
10.0.0.6        db01
10.0.0.7        app01   # comment
192.168.1.9     bad/name
203.0.113.10    www.example.com
100.64.0.3      cgnat01
::ffff:10.0.0.8 mapped01
fd00::9         v6host
not-an-ip       x
`))
	conf := &domain.Conf{InternalNets: append(domain.PrivateNets(),
		mustPrefix(t, "100.64.0.0/10"))}
	got := Suggest(hosts, []string{"db01", "web01"}, map[string]string{"10.0.0.7": "app-one"}, conf)
	var names []string
	for _, h := range got {
		names = append(names, h.Names[0])
	}
	want := "cgnat01 mapped01 v6host"
	if strings.Join(names, " ") != want {
		t.Errorf("suggested %v, want %s (known names, known IPs, loopback, public and invalid names left out)", names, want)
	}
}

func mustPrefix(t *testing.T, s string) netip.Prefix {
	t.Helper()
	p, err := netip.ParsePrefix(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
