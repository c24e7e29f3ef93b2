package netinfo

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

// mkIface builds an Interface from text prefixes.
func mkIface(name string, prefixes ...string) Interface {
	ifc := Interface{Name: name}
	for _, p := range prefixes {
		ifc.Addrs = append(ifc.Addrs, netip.MustParsePrefix(p))
	}
	return ifc
}

// The interfaces of testdata/ip-addr.txt. vethdotm0 is the real
// "vethdotm0@if7" with a point-to-point address and a labelled one.
var (
	fixLo   = mkIface("lo", "127.0.0.1/8", "::1/128")
	fixEth0 = mkIface("eth0", "192.0.2.2/24", "fd00::2/64", "fe80::fc:ff:fe00:1/64")
	fixVeth = mkIface("vethdotm0", "198.51.100.1/24", "10.9.9.1/32", "198.51.100.5/24", "fe80::cba:83ff:fe8e:7423/64")
)

func TestParseIPAddrFixtures(t *testing.T) {
	tests := []struct {
		file string
		want []Interface
	}{
		{"ip-addr.txt", []Interface{fixLo, {Name: "ifb0"}, {Name: "ifb1"}, fixEth0, fixVeth}},
		// ip -o addr lists addresses only, so interfaces without are missing.
		{"ip-o-addr.txt", []Interface{fixLo, fixEth0, fixVeth}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := ParseIPAddr(strings.NewReader(readTestdata(t, tt.file)))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestParseIPAddrForms(t *testing.T) {
	tests := []struct {
		name, in string
		want     []Interface
	}{
		{"peer name", "12: veth1a2b@if5: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500\n    inet 10.1.0.1/16 scope global veth1a2b\n",
			[]Interface{mkIface("veth1a2b", "10.1.0.1/16")}},
		{"vlan", "5: eth0.10@eth0: <BROADCAST> mtu 1500\n", []Interface{{Name: "eth0.10"}}},
		{"ip -o link", "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n",
			[]Interface{{Name: "lo"}}},
		{"same name twice", "2: eth0    inet 10.0.0.1/8 scope global eth0\n3: eth1    inet 10.0.0.2/8 scope global eth1\n2: eth0    inet 10.0.0.3/8 scope global secondary eth0\n",
			[]Interface{mkIface("eth0", "10.0.0.1/8", "10.0.0.3/8"), mkIface("eth1", "10.0.0.2/8")}},
		{"details and blank lines", "1: lo: <LOOPBACK>\n    altname loopback0\n\n    inet6 ::1/128 scope host \n       valid_lft forever preferred_lft forever\n",
			[]Interface{mkIface("lo", "::1/128")}},
		{"indented line before any interface", "    link/none \n1: lo: <LOOPBACK>\n", []Interface{{Name: "lo"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseIPAddr(strings.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestParseIPAddrErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "ip addr output: no interfaces; is this ip addr output?"},
		{"garbage", "hello world\n", `ip addr output line 1: unexpected line "hello world"`},
		{"netstat output", readTestdata(t, "netstat-antp.txt"), `ip addr output line 1: unexpected line "Active Internet connections`},
		{"ip -br addr", "lo               UNKNOWN        127.0.0.1/8 ::1/128 \n", "line 1: unexpected line"},
		{"address first", "    inet 10.0.0.1/8 scope global eth0\n", "ip addr output line 1: address line before any interface line"},
		{"bad length", "1: lo: <LOOPBACK>\n    inet 127.0.0.1/33 scope host lo\n", `ip addr output line 2: bad address "127.0.0.1/33"`},
		{"zone", "1: lo: <LOOPBACK>\n    inet6 fe80::1%lo/64 scope link\n", `line 2: bad address "fe80::1%lo/64"`},
		{"wrong family", "1: lo: <LOOPBACK>\n    inet ::1/128 scope host\n", `line 2: address "::1/128" does not match its family`},
		{"empty name", "1: : <LOOPBACK>\n", `line 1: bad interface name ""`},
		{"name with slash", "1: a/b: <LOOPBACK>\n", `line 1: bad interface name "a/b"`},
		{"one-line not an address", "1: lo    is not here\n", `line 1: unexpected "is" after the interface name`},
		{"one-line cut", "4: eth0    inet 192.0.2.", `line 1: bad address "192.0.2."`},
		{"NUL byte", "1: lo\x00: <LOOPBACK>\n", "line 1: NUL byte"},
		{"invalid UTF-8 name", "1: l\xffo: <LOOPBACK>\n", `line 1: bad interface name "l\xffo"`},
		{"over-long line", "1: lo: <LOOPBACK>\n    " + strings.Repeat("x", MaxLineLen) + "\n", "ip addr output line 2: longer than 65536 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseIPAddr(strings.NewReader(tt.in))
			wantErr(t, err, tt.want)
			if got != nil {
				t.Errorf("got interfaces %v with the error", got)
			}
		})
	}
}
