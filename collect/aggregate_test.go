package collect

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"

	"github.com/lwindolf/dotm/collect/netinfo"
	"github.com/lwindolf/dotm/domain"
	"github.com/lwindolf/dotm/store"
)

// defaultConf is the configuration with every setting at its default.
func defaultConf(t *testing.T) *domain.Conf {
	t.Helper()
	v := map[string]domain.Value{}
	for _, s := range domain.Settings() {
		v[s.Name] = s.Default
	}
	return domain.ConfFrom(v)
}

func sock(state, local, remote string, pid int, prog string) netinfo.Socket {
	s := netinfo.Socket{State: state, PID: pid, Program: prog, Local: netip.MustParseAddrPort(local)}
	if remote != "" {
		s.Remote = netip.MustParseAddrPort(remote)
	}
	return s
}

func iface(addrs ...string) []netinfo.Interface {
	ifc := netinfo.Interface{Name: "eth0"}
	for _, a := range addrs {
		ifc.Addrs = append(ifc.Addrs, netip.MustParsePrefix(a))
	}
	return []netinfo.Interface{{Name: "lo", Addrs: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/8")}}, ifc}
}

const L, E = netinfo.StateListen, netinfo.StateEstablished

// testFleet is a small shop: web01 (nginx) → app01 (java :8080) → db01
// (mysqld), app01 also uses a local memcached and the Internet.
func testFleet() map[string]*netinfo.Host {
	return map[string]*netinfo.Host{
		"web01": {Interfaces: iface("10.0.0.1/24", "172.17.0.1/16"), Sockets: []netinfo.Socket{
			sock(L, "0.0.0.0:80", "", 10, "nginx"),
			sock(L, "0.0.0.0:22", "", 1, "sshd"),
			sock(E, "10.0.0.1:22", "192.168.9.9:50022", 2, "sshd"),           // an admin's ssh session
			sock(E, "10.0.0.1:80", "203.0.113.7:40001", 10, "nginx"),         // a visitor
			sock(E, "10.0.0.1:80", "203.0.113.8:40002", 10, "nginx"),         // another visitor
			sock(E, "10.0.0.1:41000", "10.0.0.2:8080", 10, "nginx"),          // to app01
			sock(E, "10.0.0.1:41001", "[::ffff:10.0.0.2]:8080", 10, "nginx"), // same, IPv4-mapped
			sock("TIME_WAIT", "10.0.0.1:41002", "10.0.0.2:8080", 0, ""),      // not a connection
			sock(E, "10.0.0.1:4848", "10.0.0.99:51515", 0, ""),               // dotm fetching the agent
			sock(E, "10.0.0.1:41003", "172.17.0.2:9000", 10, "nginx"),        // a container (ambiguous net)
		}},
		"app01": {Interfaces: iface("10.0.0.2/24", "172.17.0.1/16"), Sockets: []netinfo.Socket{
			sock(L, "[::]:8080", "", 20, "java"),
			sock(L, "0.0.0.0:8080", "", 20, "java"),
			sock(L, "127.0.0.1:11211", "", 21, "memcached"),
			sock(E, "10.0.0.2:8080", "10.0.0.1:41000", 20, "java"),
			sock(E, "[::ffff:10.0.0.2]:8080", "[::ffff:10.0.0.1]:41001", 20, "java"),
			sock(E, "10.0.0.2:33000", "10.0.0.3:3306", 20, "java"),
			sock(E, "127.0.0.1:45000", "127.0.0.1:11211", 20, "java"),      // client end, loopback
			sock(E, "127.0.0.1:11211", "127.0.0.1:45000", 21, "memcached"), // server end, same connection
			sock(E, "10.0.0.2:45100", "198.51.100.20:443", 20, "java"),
		}},
		"db01": {Interfaces: iface("10.0.0.3/24"), Sockets: []netinfo.Socket{
			sock(L, "0.0.0.0:3306", "", 30, "mysqld"),
			sock(L, "0.0.0.0:9100", "", 31, "node_exporter"), // nobody uses it
			sock(E, "10.0.0.3:3306", "10.0.0.2:33000", 30, "mysqld"),
		}},
	}
}

func aggregateAll(t *testing.T, hosts map[string]*netinfo.Host, old map[string]prior) (map[string]store.NodeData, *fleet) {
	t.Helper()
	f := newFleet(defaultConf(t), hosts, nil, nil)
	out := map[string]store.NodeData{}
	for name, h := range hosts {
		p := old[name]
		if p.services == nil {
			p = prior{services: map[int]store.Service{}, connections: map[store.ConnectionID]store.Connection{}}
		}
		out[name] = f.aggregate(name, h, 1000, p)
	}
	return out, f
}

func conn(d store.NodeData, port, remote string) *store.Connection {
	for i, c := range d.Connections {
		if c.Port == port && c.Remote == remote {
			return &d.Connections[i]
		}
	}
	return nil
}

func TestAggregateServices(t *testing.T) {
	out, _ := aggregateAll(t, testFleet(), nil)
	ports := func(d store.NodeData) (ps []int) {
		for _, s := range d.Services {
			ps = append(ps, s.Port)
		}
		return ps
	}
	if got := ports(out["web01"]); !slices.Equal(got, []int{80}) {
		t.Errorf("web01 services %v: ssh (22) is whitelisted, want only 80", got)
	}
	if got := ports(out["app01"]); !slices.Equal(got, []int{8080, 11211}) {
		t.Errorf("app01 services %v: the IPv4 and IPv6 listeners on 8080 are one service", got)
	}
	for _, s := range out["db01"].Services {
		switch s.Port {
		case 3306:
			if s.LastConnection != 1000 {
				t.Errorf("mysqld had a client: last_connection = %d", s.LastConnection)
			}
		case 9100:
			if s.LastConnection != 0 || s.FirstSeen != 1000 {
				t.Errorf("unused node_exporter: %+v", s)
			}
		}
	}
}

func TestAggregateConnections(t *testing.T) {
	out, f := aggregateAll(t, testFleet(), nil)
	web, app, db := out["web01"], out["app01"], out["db01"]

	cases := []struct {
		name string
		got  *store.Connection
		want store.Connection
	}{
		{"visitors aggregate to Internet", conn(web, "80", domain.Internet), store.Connection{
			Process: "nginx", Connections: 2, Direction: store.In, RemoteHost: domain.Internet, RemotePort: "high", LocalPort: "80",
			RemoteIPs: "203.0.113.7,203.0.113.8"}},
		{"web to app, IPv4 and mapped IPv6 counted together; TIME_WAIT not", conn(web, "8080", "app01"), store.Connection{
			Process: "nginx", Connections: 2, Direction: store.Out, RemoteHost: "app01", RemotePort: "8080", LocalPort: "high"}},
		{"app sees web as client", conn(app, "8080", "web01"), store.Connection{
			Process: "java", Connections: 2, Direction: store.In, RemoteHost: "web01", RemotePort: "high", LocalPort: "8080"}},
		{"app to db", conn(app, "3306", "db01"), store.Connection{
			Process: "java", Connections: 1, Direction: store.Out, RemoteHost: "db01", RemotePort: "3306", LocalPort: "high"}},
		{"db sees app", conn(db, "3306", "app01"), store.Connection{
			Process: "mysqld", Connections: 1, Direction: store.In, RemoteHost: "app01", RemotePort: "high", LocalPort: "3306"}},
		{"loopback is one record at the client end", conn(app, "11211", "app01"), store.Connection{
			Process: "java", Connections: 1, Direction: store.Out, RemoteHost: "app01", RemotePort: "11211",
			LocalPort: "high", LocalService: "11211"}},
		{"app to the Internet", conn(app, "443", domain.Internet), store.Connection{
			Process: "java", Connections: 1, Direction: store.Out, RemoteHost: domain.Internet, RemotePort: "443", LocalPort: "high",
			RemoteIPs: "198.51.100.20"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.got == nil {
				t.Fatal("missing")
			}
			got := *c.got
			got.Port, got.Remote, got.FirstSeen, got.LastSeen, got.LastConnection = "", "", 0, 0, 0
			if got != c.want {
				t.Errorf("got  %+v\nwant %+v", got, c.want)
			}
		})
	}
	if len(web.Connections) != 3 {
		t.Errorf("web01 has %d connections, want 3 (no ssh session, no agent fetch): %+v", len(web.Connections), web.Connections)
	}
	if c := conn(web, "high", "172.17.0.2"); c == nil {
		t.Errorf("connection to an unknown internal IP should keep the IP: %+v", web.Connections)
	}
	if len(app.Connections) != 4 {
		t.Errorf("app01 has %d connections, want 4 (memcached's server end is not a second record)", len(app.Connections))
	}
	for _, s := range app.Services {
		if s.Port == 11211 && s.LastConnection != 1000 {
			t.Error("memcached is used over loopback: last_connection must be set")
		}
	}
	res := f.resolverEntries()
	if res["10.0.0.2"] != "app01" || res["172.17.0.1"] != "" {
		t.Errorf("resolver: 10.0.0.2 → %q, 172.17.0.1 (on two nodes) → %q, want app01 and deleted", res["10.0.0.2"], res["172.17.0.1"])
	}
	if _, ok := res["127.0.0.1"]; ok {
		t.Error("loopback must not enter the resolver")
	}
}

func TestAggregateOrderIndependent(t *testing.T) {
	// One node at a time, as if fetched in different orders, against a
	// fleet built from all: the result must not change.
	hosts := testFleet()
	all, _ := aggregateAll(t, hosts, nil)
	for name := range hosts {
		alone, _ := aggregateAll(t, map[string]*netinfo.Host{name: hosts[name]}, nil)
		if name == "db01" {
			// Alone, db01 cannot know 10.0.0.2 is app01: the fleet-wide
			// view is what makes the names right.
			if conn(alone[name], "3306", "10.0.0.2") == nil {
				t.Errorf("alone, db01 should key its client by IP")
			}
		}
	}
	again, _ := aggregateAll(t, hosts, nil)
	for name := range hosts {
		if !slices.EqualFunc(all[name].Connections, again[name].Connections, func(a, b store.Connection) bool { return a == b }) {
			t.Errorf("%s: aggregation is not deterministic", name)
		}
	}
}

func TestAggregateReplacesIPKeyedTwin(t *testing.T) {
	old := map[string]prior{"db01": {
		services: map[int]store.Service{3306: {Node: "db01", Port: 3306, Process: "mysqld", FirstSeen: 500, LastConnection: 900}},
		connections: map[store.ConnectionID]store.Connection{
			{Port: "3306", Remote: "10.0.0.2"}: {Node: "db01", Port: "3306", Remote: "10.0.0.2", FirstSeen: 400, LastSeen: 900},
			{Port: "3306", Remote: "10.0.0.7"}: {Node: "db01", Port: "3306", Remote: "10.0.0.7", FirstSeen: 300, LastSeen: 300},
		},
	}}
	out, _ := aggregateAll(t, testFleet(), old)
	db := out["db01"]
	if !slices.Contains(db.DropConnections, store.ConnectionID{Port: "3306", Remote: "10.0.0.2"}) {
		t.Errorf("the IP-keyed twin of app01 is not dropped: %v", db.DropConnections)
	}
	if slices.Contains(db.DropConnections, store.ConnectionID{Port: "3306", Remote: "10.0.0.7"}) {
		t.Error("an unrelated old connection was dropped")
	}
	c := conn(db, "3306", "app01")
	if c == nil || c.FirstSeen != 400 {
		t.Errorf("app01 connection should inherit first_seen 400: %+v", c)
	}
	for _, s := range db.Services {
		if s.Port == 3306 && (s.FirstSeen != 500 || s.LastConnection != 1000) {
			t.Errorf("service history not kept: %+v", s)
		}
	}
}

func TestAggregateFleetServicePortIsNotHigh(t *testing.T) {
	hosts := testFleet()
	hosts["web01"].Sockets = append(hosts["web01"].Sockets, sock(E, "10.0.0.1:41010", "10.0.0.3:9100", 40, "prometheus"))
	out, _ := aggregateAll(t, hosts, nil)
	if conn(out["web01"], "9100", "db01") == nil {
		t.Errorf("9100 is db01's service port, so it is not high: %+v", out["web01"].Connections)
	}
}

func TestAggregateRemoteIPs(t *testing.T) {
	hosts := testFleet()
	web := hosts["web01"]
	// 20 more visitors (one of them twice, one IPv4-mapped): sorted,
	// distinct, capped.
	for i := range 20 {
		web.Sockets = append(web.Sockets, sock(E, "10.0.0.1:80", fmt.Sprintf("198.51.100.%d:%d", 30-i, 50000+i), 10, "nginx"))
	}
	web.Sockets = append(web.Sockets,
		sock(E, "10.0.0.1:80", "198.51.100.30:50100", 10, "nginx"),
		sock(E, "10.0.0.1:80", "[::ffff:198.51.100.11]:50101", 10, "nginx"))
	out, _ := aggregateAll(t, hosts, nil)
	c := conn(out["web01"], "80", domain.Internet)
	if c == nil {
		t.Fatal("no Internet connection")
	}
	var want []string
	for i := 11; i < 11+store.MaxRemoteIPs; i++ {
		want = append(want, fmt.Sprintf("198.51.100.%d", i))
	}
	if !slices.Equal(c.RemoteIPList(), want) {
		t.Errorf("remote IPs = %v, want the %d lowest distinct: %v", c.RemoteIPs, store.MaxRemoteIPs, want)
	}
	if c.Connections != 24 {
		t.Errorf("connections = %d, want all 24 counted", c.Connections)
	}
	for _, c := range out["web01"].Connections {
		if c.Remote != domain.Internet && c.RemoteIPs != "" {
			t.Errorf("%s:%s has remote IPs %v: only Internet remotes keep them", c.Port, c.Remote, c.RemoteIPs)
		}
	}
}

// TestAggregateWhitelistAsNetstatPrints: service_name_whitelist entries
// are compared by the program's canonical name, so one written as netstat
// printed it hides the program whatever tool read the host.
func TestAggregateWhitelistAsNetstatPrints(t *testing.T) {
	conf := defaultConf(t)
	conf.IgnoredNames = map[string]bool{"redis-server *": true, "/usr/sbin/rpc.mountd": true}
	redis := sock(netinfo.StateListen, "0.0.0.0:6379", "", 10, "redis-server")
	redis.Title = "redis-server *:6379"
	h := &netinfo.Host{Sockets: []netinfo.Socket{
		redis,
		sock(netinfo.StateListen, "0.0.0.0:20048", "", 11, "rpc.mountd"),
		sock(netinfo.StateListen, "0.0.0.0:80", "", 12, "nginx"),
	}, Interfaces: iface("10.0.0.1/24")}
	hosts := map[string]*netinfo.Host{"db01": h}
	d := newFleet(conf, hosts, nil, nil).aggregate("db01", h, 1000,
		prior{services: map[int]store.Service{}, connections: map[store.ConnectionID]store.Connection{}})
	if len(d.Services) != 1 || d.Services[0].Port != 80 {
		t.Errorf("services %+v: redis-server and rpc.mountd are whitelisted, want only nginx's 80", d.Services)
	}
}
