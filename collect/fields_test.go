package collect

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/lwindolf/dotm/collect/netinfo"
	"github.com/lwindolf/dotm/store"
)

// TestAggregateFieldsAsTheOriginal checks the fields the original wrote in
// its own way: "-" for a hidden owner, age old once a stored service has
// not been seen for the aging setting, last_connection absent until an
// incoming connection is seen (through a real redis-server).
func TestAggregateFieldsAsTheOriginal(t *testing.T) {
	ctx := context.Background()
	srv, st := startRedisStore(t)
	rc := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { rc.Close() })
	conf := defaultConf(t) // aging: 300 s

	host := func(socks ...netinfo.Socket) *netinfo.Host {
		return &netinfo.Host{Interfaces: iface("10.0.0.1/24"), Sockets: socks}
	}
	run := func(h *netinfo.Host, now int64) store.NodeData {
		t.Helper()
		old := prior{services: map[int]store.Service{}, connections: map[store.ConnectionID]store.Connection{}}
		svcs, err := st.Services(ctx, "n1")
		if err != nil {
			t.Fatal(err)
		}
		for _, sv := range svcs {
			old.services[sv.Port] = sv
		}
		d := newFleet(conf, map[string]*netinfo.Host{"n1": h}, nil, nil).aggregate("n1", h, now, old)
		if err := st.WriteNodeData(ctx, d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	field := func(key, f string) (string, bool) {
		t.Helper()
		v, err := rc.HGet(ctx, key, f).Result()
		if err == redis.Nil {
			return "", false
		}
		if err != nil {
			t.Fatal(err)
		}
		return v, true
	}

	d := run(host(
		sock(L, "0.0.0.0:8080", "", 0, ""), // owner hidden
		sock(L, "0.0.0.0:6379", "", 5, "redis-server"),
		sock(E, "10.0.0.1:41000", "10.9.0.1:5432", 0, ""),
	), 1000)
	if p, _ := field("dotm::services::n1::8080", "process"); p != "-" {
		t.Errorf("hidden owner stored as %q, want -", p)
	}
	if len(d.Connections) != 1 || d.Connections[0].Process != "-" {
		t.Errorf("connection of a hidden owner: %+v", d.Connections)
	}
	if v, ok := field("dotm::services::n1::6379", "last_connection"); ok {
		t.Errorf("last_connection %q on a service never used; want the field absent", v)
	}
	if a, _ := field("dotm::services::n1::6379", "age"); a != "fresh" {
		t.Errorf("age %q of a service seen now, want fresh", a)
	}

	// 6379 gets a client; 8080 is gone and ages.
	run(host(
		sock(L, "0.0.0.0:6379", "", 5, "redis-server"),
		sock(E, "10.0.0.1:6379", "10.9.0.2:50000", 5, "redis-server"),
	), 1200)
	if v, _ := field("dotm::services::n1::6379", "last_connection"); v != "1200" {
		t.Errorf("last_connection %q after a connection, want 1200", v)
	}
	if a, _ := field("dotm::services::n1::8080", "age"); a != "fresh" {
		t.Errorf("age %q 200 s after last seen, want fresh", a)
	}
	run(host(sock(L, "0.0.0.0:6379", "", 5, "redis-server")), 1301)
	if a, _ := field("dotm::services::n1::8080", "age"); a != "old" {
		t.Errorf("age %q 301 s after last seen (aging 300 s), want old", a)
	}
	if a, _ := field("dotm::services::n1::6379", "age"); a != "fresh" {
		t.Errorf("age %q of a service seen now, want fresh", a)
	}
	if ls, _ := field("dotm::services::n1::8080", "last_seen"); ls != "1000" {
		t.Errorf("ageing rewrote last_seen to %q, want 1000", ls)
	}
}
