package collect

import (
	"context"
	"slices"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/lwindolf/dotm/collect/netinfo"
	"github.com/lwindolf/dotm/domain"
	"github.com/lwindolf/dotm/store"
)

// servesAndCalls443 is a web server that serves :443 to two Internet
// visitors and calls an Internet API on :443 from php-fpm.
func servesAndCalls443(reverse bool) map[string]*netinfo.Host {
	socks := []netinfo.Socket{
		sock(L, "0.0.0.0:443", "", 10, "nginx"),
		sock(E, "10.0.0.1:443", "203.0.113.7:50000", 11, "nginx"),
		sock(E, "10.0.0.1:41000", "198.51.100.20:443", 20, "php-fpm"),
		sock(E, "10.0.0.1:443", "203.0.113.8:50001", 11, "nginx"),
	}
	if reverse {
		slices.Reverse(socks)
	}
	return map[string]*netinfo.Host{"web": {Interfaces: iface("10.0.0.1/24"), Sockets: socks}}
}

func TestAggregateInAndOutSharePortAndRemote(t *testing.T) {
	a, _ := aggregateAll(t, servesAndCalls443(false), nil)
	b, _ := aggregateAll(t, servesAndCalls443(true), nil)
	if !slices.Equal(a["web"].Connections, b["web"].Connections) {
		t.Fatalf("socket order changed the records:\n%+v\n%+v", a["web"].Connections, b["web"].Connections)
	}
	conns := a["web"].Connections
	if len(conns) != 2 {
		t.Fatalf("%d connections, want an incoming and an outgoing one: %+v", len(conns), conns)
	}
	in, out := conns[0], conns[1]
	if in.Direction != store.In || in.Process != "nginx" || in.Connections != 2 || in.Split {
		t.Errorf("incoming: %+v; want nginx, 2 sockets, the seed's key", in)
	}
	if out.Direction != store.Out || out.Process != "php-fpm" || out.Connections != 1 || !out.Split {
		t.Errorf("outgoing: %+v; want php-fpm, 1 socket, the ::out key", out)
	}
	for _, c := range conns {
		if c.Port != "443" || c.Remote != domain.Internet {
			t.Errorf("key parts %s %s, want 443 Internet", c.Port, c.Remote)
		}
	}
}

// TestCollectInAndOutKeys writes the two through a real redis-server and
// checks the keys, then that they stay put when the incoming one is not
// seen (it is still stored) and that an outgoing connection alone goes
// back to the seed's key once the incoming one is gone.
func TestCollectInAndOutKeys(t *testing.T) {
	ctx := context.Background()
	srv, st := startRedisStore(t)
	rc := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { rc.Close() })
	conf := defaultConf(t)
	run := func(h *netinfo.Host, now int64) {
		t.Helper()
		old := prior{services: map[int]store.Service{}, connections: map[store.ConnectionID]store.Connection{}}
		stored, err := st.Connections(ctx, "web")
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range stored {
			old.connections[c.ID()] = c
		}
		hosts := map[string]*netinfo.Host{"web": h}
		d := newFleet(conf, hosts, nil, nil).aggregate("web", h, now, old)
		if err := st.WriteNodeData(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	keys := func() []string {
		t.Helper()
		k, err := rc.Keys(ctx, "dotm::connections::*").Result()
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(k)
		return k
	}
	both := []string{"dotm::connections::web::443::Internet", "dotm::connections::web::443::Internet::out"}

	run(servesAndCalls443(false)["web"], 1000)
	if got := keys(); !slices.Equal(got, both) {
		t.Fatalf("keys %q, want %q", got, both)
	}
	if p, _ := rc.HGet(ctx, both[1], "process").Result(); p != "php-fpm" {
		t.Errorf("the ::out key holds process %q, want php-fpm", p)
	}
	read, err := st.Connections(ctx, "web")
	if err != nil || len(read) != 2 || read[0].Split || !read[1].Split || read[1].Remote != domain.Internet {
		t.Fatalf("read back %+v, %v", read, err)
	}

	// Only the API call now: the visitors' record is still stored, so the
	// call keeps its key and its first_seen.
	calls := &netinfo.Host{Interfaces: iface("10.0.0.1/24"), Sockets: []netinfo.Socket{
		sock(L, "0.0.0.0:443", "", 10, "nginx"),
		sock(E, "10.0.0.1:41001", "198.51.100.20:443", 20, "php-fpm"),
	}}
	run(calls, 2000)
	if got := keys(); !slices.Equal(got, both) {
		t.Fatalf("after a run without visitors: keys %q, want %q", got, both)
	}
	if fs, _ := rc.HGet(ctx, both[1], "first_seen").Result(); fs != "1000" {
		t.Errorf("first_seen %s, want 1000", fs)
	}

	// The visitors' record is gone (expired): the call returns to the
	// seed's key.
	if err := rc.Del(ctx, both[0]).Err(); err != nil {
		t.Fatal(err)
	}
	run(calls, 3000)
	if got := keys(); !slices.Equal(got, both[:1]) {
		t.Fatalf("without an incoming twin: keys %q, want %q", got, both[:1])
	}
	if d, _ := rc.HGet(ctx, both[0], "direction").Result(); d != store.Out {
		t.Errorf("the seed key holds direction %q, want out", d)
	}
	if fs, _ := rc.HGet(ctx, both[0], "first_seen").Result(); fs != "1000" {
		t.Errorf("first_seen %s after the move, want 1000", fs)
	}
}
