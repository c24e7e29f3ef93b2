package collect

import (
	"net/netip"
	"testing"

	"github.com/lwindolf/dotm/collect/netinfo"
	"github.com/lwindolf/dotm/store"
)

func inNs(s netinfo.Socket, ns string) netinfo.Socket { s.Netns = ns; return s }
func udp(s netinfo.Socket) netinfo.Socket             { s.UDP = true; return s }

// A host with a syslog UDP listener and a DNS server on TCP and UDP in
// a container: UDP listeners are services marked udp, or none with the
// udp_services setting off; two namespaces' :53 are two services.
func TestUDPServicesAndContainers(t *testing.T) {
	host := func() *netinfo.Host {
		return &netinfo.Host{Interfaces: iface("10.0.0.1/24"),
			Netns: []netinfo.NetnsInfo{{Netns: netinfo.Netns{Name: "dns", Kind: "docker"}, Addrs: []netip.Addr{netip.MustParseAddr("172.17.0.2")}}},
			Sockets: []netinfo.Socket{
				udp(sock(L, "0.0.0.0:514", "", 10, "rsyslogd")),
				sock(L, "0.0.0.0:5353", "", 11, "avahi-daemon"),
				inNs(sock(L, "0.0.0.0:5353", "", 20, "named"), "dns"),
				inNs(udp(sock(L, "0.0.0.0:5353", "", 20, "named")), "dns"),
			}}
	}
	for _, on := range []bool{true, false} {
		conf := defaultConf(t)
		conf.UDPServices = on
		h := host()
		f := newFleet(conf, map[string]*netinfo.Host{"h1": h}, nil, nil)
		d := f.aggregateNode("h1", h, 1000, map[string]prior{})
		got := map[store.ServiceID]store.Service{}
		for _, sv := range d.Services {
			got[sv.ID()] = sv
		}
		syslog, hasSyslog := got[store.ServiceID{Port: 514}]
		if hasSyslog != on || on && syslog.Protocol != "udp" {
			t.Errorf("udp_services %v: syslog service %+v (present %v)", on, syslog, hasSyslog)
		}
		dns := got[store.ServiceID{Port: 5353, Container: "dns"}]
		wantProto := map[bool]string{true: "tcp,udp", false: ""}[on]
		if dns.Process != "named" || dns.Protocol != wantProto {
			t.Errorf("udp_services %v: container service %+v, want named with protocol %q", on, dns, wantProto)
		}
		if avahi := got[store.ServiceID{Port: 5353}]; avahi.Process != "avahi-daemon" || avahi.Container != "" {
			t.Errorf("the host's :5353 is %+v", avahi)
		}
	}
}
