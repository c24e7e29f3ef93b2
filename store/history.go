package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// History lists the timestamps (unix seconds) of the stored snapshots,
// oldest first.
func (s *Store) History(ctx context.Context) ([]int64, error) {
	raw, err := s.rdb.LRange(ctx, keyHistory, 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", keyHistory, err)
	}
	out := make([]int64, 0, len(raw))
	for _, r := range raw {
		if ts, err := strconv.ParseInt(r, 10, 64); err == nil {
			out = append(out, ts)
		}
	}
	return out, nil
}

// AddSnapshot stores a snapshot document taken at ts, lists it in
// dotm::history and records it as the state's last_snapshot. The document
// expires after ttl (0: never).
func (s *Store) AddSnapshot(ctx context.Context, ts int64, doc []byte, ttl time.Duration) error {
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, snapshotKey(ts), doc, ttl)
		p.RPush(ctx, keyHistory, itoa(ts))
		p.HSet(ctx, keyState, fLastSnapshot, itoa(ts))
		return nil
	})
	if err != nil {
		return fmt.Errorf("store snapshot %d: %w", ts, err)
	}
	return nil
}

// Snapshot reads the snapshot document taken at ts; ok is false when it is
// gone.
func (s *Store) Snapshot(ctx context.Context, ts int64) (doc []byte, ok bool, err error) {
	doc, err = s.rdb.Get(ctx, snapshotKey(ts)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read snapshot %d: %w", ts, err)
	}
	return doc, true, nil
}

// DropSnapshots forgets the snapshots taken before cutoff.
func (s *Store) DropSnapshots(ctx context.Context, cutoff int64) error {
	all, err := s.History(ctx)
	if err != nil {
		return err
	}
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, ts := range all {
			if ts < cutoff {
				p.LRem(ctx, keyHistory, 0, itoa(ts))
				p.Del(ctx, snapshotKey(ts))
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("drop snapshots before %d: %w", cutoff, err)
	}
	return nil
}

// SaveSnapshot stores a as the snapshot taken at a.Time, compressed.
func (s *Store) SaveSnapshot(ctx context.Context, a *Architecture, ttl time.Duration) error {
	return s.AddSnapshot(ctx, a.Time, a.compress(), ttl)
}

// LoadSnapshot reads the snapshot taken at ts; ok is false when it is
// gone (expired).
func (s *Store) LoadSnapshot(ctx context.Context, ts int64) (a *Architecture, ok bool, err error) {
	doc, ok, err := s.Snapshot(ctx, ts)
	if err != nil || !ok {
		return nil, ok, err
	}
	if a, err = ParseArchitecture(doc); err != nil {
		return nil, false, fmt.Errorf("snapshot %d: %w", ts, err)
	}
	a.Time = cmp.Or(a.Time, ts)
	return a, true, nil
}

// Snapshots reads every stored snapshot, oldest first, skipping those
// that expired but are still listed. A snapshot that cannot be read is
// left out and reported in bad, so one damaged document does not hide
// the rest of the history.
func (s *Store) Snapshots(ctx context.Context) (good []*Architecture, bad []error, err error) {
	all, err := s.History(ctx)
	if err != nil {
		return nil, nil, err
	}
	cmds := make([]*redis.StringCmd, len(all))
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, ts := range all {
			cmds[i] = p.Get(ctx, snapshotKey(ts))
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, nil, fmt.Errorf("read snapshots: %w", err)
	}
	for i, ts := range all {
		doc, err := cmds[i].Bytes()
		if err != nil {
			continue // expired since it was listed
		}
		a, err := ParseArchitecture(doc)
		if err != nil {
			bad = append(bad, fmt.Errorf("snapshot %d (key %s): %w; delete it with redis-cli DEL", ts, snapshotKey(ts), err))
			continue
		}
		a.Time = cmp.Or(a.Time, ts)
		good = append(good, a)
	}
	slices.SortStableFunc(good, func(x, y *Architecture) int { return cmp.Compare(x.Time, y.Time) })
	return good, bad, nil
}
