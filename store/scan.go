package store

import (
	"context"
	"sync"

	"github.com/redis/go-redis/v9"
)

// scanBatch is the COUNT hint of SCAN: big enough to keep round trips few
// on large fleets, small enough not to stall the server.
const scanBatch = 1000

// scanKeys returns every key matching pattern, with SCAN (never KEYS). On a
// Cluster it scans every master.
func (s *Store) scanKeys(ctx context.Context, pattern string) ([]string, error) {
	if cc, ok := s.rdb.(*redis.ClusterClient); ok {
		var mu sync.Mutex
		var all []string
		err := cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
			keys, err := scanOne(ctx, c, pattern)
			mu.Lock()
			all = append(all, keys...)
			mu.Unlock()
			return err
		})
		return all, err
	}
	return scanOne(ctx, s.rdb, pattern)
}

func scanOne(ctx context.Context, c redis.Cmdable, pattern string) ([]string, error) {
	var keys []string
	iter := c.Scan(ctx, 0, pattern, scanBatch).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	return keys, iter.Err()
}

// hgetAll reads many hashes in pipelines of pipeBatch (split per Cluster
// slot group by go-redis). Hashes that vanished in between
// come back empty; so does a key of another type, whose Problem is
// returned.
func (s *Store) hgetAll(ctx context.Context, keys []string) ([]map[string]string, []Problem, error) {
	if len(keys) == 0 {
		return nil, nil, nil
	}
	cmds := make([]*redis.MapStringStringCmd, len(keys))
	_, err := s.pipelined(ctx, len(keys), func(p redis.Pipeliner, i int) {
		cmds[i] = p.HGetAll(ctx, keys[i])
	})
	if err := pipeErr(err, cmds); err != nil {
		return nil, nil, err
	}
	var bad []Problem
	out := make([]map[string]string, len(keys))
	for i, c := range cmds {
		if p, _ := cmdError(keys[i], c.Err()); p != nil {
			bad = append(bad, *p)
			continue
		}
		out[i] = c.Val()
	}
	return out, bad, nil
}

// scanHashes finds the hashes matching pattern and reads them all.
func (s *Store) scanHashes(ctx context.Context, pattern string) ([]string, []map[string]string, []Problem, error) {
	keys, err := s.scanKeys(ctx, pattern)
	if err != nil {
		return nil, nil, nil, err
	}
	hashes, bad, err := s.hgetAll(ctx, keys)
	return keys, hashes, bad, err
}

// tx runs fn in MULTI/EXEC, so its writes land together or not at all. A
// Redis Cluster cannot run a transaction over keys in several slots, and
// dotm's key names (fixed by the data contract) spread one node's keys over
// many; there the writes go out as one pipeline instead, which is atomic
// per key but not as a whole.
func (s *Store) tx(ctx context.Context, fn func(redis.Pipeliner) error) error {
	if s.cluster {
		_, err := s.rdb.Pipelined(ctx, fn)
		return err
	}
	_, err := s.rdb.TxPipelined(ctx, fn)
	return err
}
