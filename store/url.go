package store

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/lwindolf/dotm/domain"
	"github.com/redis/go-redis/v9"
)

// newClient builds a client for a --redis value:
//
//   - redis://[user:password@]host:port[/db], rediss:// for TLS,
//     unix:///path/to/redis.sock[?db=N]: one server;
//   - several addresses, either as comma-separated URLs
//     (redis://h1:7000,redis://h2:7001) or go-redis's ?addr=h2:7001 form:
//     a Redis Cluster;
//   - ?master_name=NAME (addresses are then the sentinels'): Sentinel.
func newClient(raw string) (*Store, error) {
	parts := strings.Split(raw, ",")
	first := parts[0]
	u, err := url.Parse(first)
	if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss" && u.Scheme != "unix") {
		return nil, fmt.Errorf("bad Redis URL %q: want redis://host:port, rediss://host:port or unix:///path "+
			"(several comma-separated for a Cluster, ?master_name=NAME for Sentinel)", domain.Redact(raw))
	}
	q := u.Query()
	for _, p := range parts[1:] {
		pu, err := url.Parse(strings.TrimSpace(p))
		if err != nil || pu.Host == "" {
			return nil, fmt.Errorf("bad Redis URL %q in %q: want redis://host:port", domain.Redact(p), domain.Redact(raw))
		}
		q.Add("addr", pu.Host)
	}
	u.RawQuery = q.Encode()
	full := u.String()
	where := domain.Redact(raw)

	switch {
	case q.Get("master_name") != "":
		o, err := redis.ParseFailoverURL(full)
		if err != nil {
			return nil, fmt.Errorf("bad Sentinel URL %q: %w", where, err)
		}
		return &Store{rdb: redis.NewFailoverClient(o), kind: "sentinel", where: where}, nil
	case q.Has("addr"):
		o, err := redis.ParseClusterURL(full)
		if err != nil {
			return nil, fmt.Errorf("bad Redis Cluster URL %q: %w", where, err)
		}
		return &Store{rdb: redis.NewClusterClient(o), kind: "cluster", cluster: true, where: where}, nil
	default:
		o, err := redis.ParseURL(full)
		if err != nil {
			return nil, fmt.Errorf("bad Redis URL %q: %w", where, err)
		}
		return &Store{rdb: redis.NewClient(o), kind: "single", where: where}, nil
	}
}
