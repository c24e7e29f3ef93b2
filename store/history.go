package store

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/lwindolf/dotm/domain"
	"github.com/redis/go-redis/v9"
)

// History lists the timestamps (unix seconds) of the stored snapshots,
// oldest first. Entries that are not a time are skipped; a dotm::history
// of another type is a Problem.
func (s *Store) History(ctx context.Context) ([]int64, error) {
	raw, err := s.rdb.LRange(ctx, keyHistory, 0, -1).Result()
	if p, err := cmdError(keyHistory, err); p != nil {
		return nil, *p
	} else if err != nil {
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
// gone. A key of another type is a Problem.
func (s *Store) Snapshot(ctx context.Context, ts int64) (doc []byte, ok bool, err error) {
	doc, err = s.rdb.Get(ctx, snapshotKey(ts)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if p, _ := cmdError(snapshotKey(ts), err); p != nil {
		return nil, false, *p
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
				p.Del(ctx, summaryKey(ts))
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("drop snapshots before %d: %w", cutoff, err)
	}
	return nil
}

// SnapshotSummary is what the history list shows of a snapshot: its
// size and its changes against the snapshot before. It is stored beside
// the snapshot (dotm::history::<time>::summary), so the history is shown
// without reading every snapshot.
type SnapshotSummary struct {
	Version int           `json:"version"`
	Time    int64         `json:"time"`
	Totals  domain.Totals `json:"totals"`
	// Changes are against the snapshot before; nil for the first one kept.
	Changes *domain.Changes `json:"changes,omitempty"`
}

// SaveSnapshot stores a as the snapshot taken at a.Time, compressed, with
// its summary: the changes against the newest snapshot before it.
func (s *Store) SaveSnapshot(ctx context.Context, a *domain.Architecture, ttl time.Duration) error {
	sum := SnapshotSummary{Version: domain.ArchitectureVersion, Time: a.Time, Totals: a.Totals()}
	prev, err := s.previousSnapshot(ctx, a.Time)
	if err != nil {
		return err
	}
	if prev != nil {
		sum.Changes = domain.Diff(prev, a)
	}
	b, err := json.Marshal(sum)
	if err != nil {
		return err
	}
	if err := s.AddSnapshot(ctx, a.Time, a.Compressed(), ttl); err != nil {
		return err
	}
	if err := s.rdb.Set(ctx, summaryKey(a.Time), domain.Gzip(b), ttl).Err(); err != nil {
		return fmt.Errorf("store summary of snapshot %d: %w", a.Time, err)
	}
	return nil
}

// previousSnapshot is the newest readable snapshot taken before ts, or
// nil.
func (s *Store) previousSnapshot(ctx context.Context, ts int64) (*domain.Architecture, error) {
	all, err := s.History(ctx)
	if err != nil {
		return nil, err
	}
	slices.Sort(all)
	for i := len(all) - 1; i >= 0; i-- {
		if all[i] >= ts {
			continue
		}
		a, ok, err := s.LoadSnapshot(ctx, all[i])
		if err == nil && ok {
			return a, nil
		}
		if err != nil && ctx.Err() != nil {
			return nil, err
		}
	}
	return nil, nil
}

// LoadSnapshot reads the snapshot taken at ts; ok is false when it is
// gone (expired). A snapshot that cannot be read is a Problem.
func (s *Store) LoadSnapshot(ctx context.Context, ts int64) (a *domain.Architecture, ok bool, err error) {
	doc, ok, err := s.Snapshot(ctx, ts)
	if err != nil || !ok {
		return nil, ok, err
	}
	if a, err = domain.ParseArchitecture(doc); err != nil {
		return nil, false, Problem{Key: snapshotKey(ts), Err: fmt.Errorf("snapshot %d: %w; delete it with redis-cli DEL", ts, err)}
	}
	a.Time = cmp.Or(a.Time, ts)
	return a, true, nil
}

// SnapshotSummaries reads the summaries of the stored snapshots, oldest
// first, skipping snapshots that expired but are still listed. A summary
// that is missing or damaged is computed again from the snapshots; what
// cannot be read is left out and reported in bad, so one damaged document
// does not hide the rest of the history.
func (s *Store) SnapshotSummaries(ctx context.Context) (good []SnapshotSummary, bad []error, err error) {
	all, err := s.History(ctx)
	if DataError(err) {
		return nil, []error{err}, nil
	}
	if err != nil {
		return nil, nil, err
	}
	slices.Sort(all)
	all = slices.Compact(all)
	cmds := make([]*redis.StringCmd, len(all))
	_, err = s.pipelined(ctx, len(all), func(p redis.Pipeliner, i int) {
		cmds[i] = p.Get(ctx, summaryKey(all[i]))
	})
	if err := pipeErr(err, cmds); err != nil {
		return nil, nil, fmt.Errorf("read snapshot summaries: %w", err)
	}
	for i, ts := range all {
		var sum SnapshotSummary
		doc, err := cmds[i].Bytes()
		if err == nil {
			err = parseSummary(doc, &sum)
		}
		if err != nil {
			sum, err = s.summarize(ctx, ts)
		}
		switch {
		case errors.Is(err, errGone):
		case err != nil:
			bad = append(bad, err)
		default:
			good = append(good, sum)
		}
	}
	return good, bad, nil
}

var errGone = errors.New("snapshot expired")

// summarize computes a snapshot's summary from it and the one before.
func (s *Store) summarize(ctx context.Context, ts int64) (SnapshotSummary, error) {
	a, ok, err := s.LoadSnapshot(ctx, ts)
	if err != nil {
		return SnapshotSummary{}, err
	}
	if !ok {
		return SnapshotSummary{}, errGone
	}
	sum := SnapshotSummary{Version: domain.ArchitectureVersion, Time: ts, Totals: a.Totals()}
	prev, err := s.previousSnapshot(ctx, ts)
	if err != nil {
		return sum, err
	}
	if prev != nil {
		sum.Changes = domain.Diff(prev, a)
	}
	return sum, nil
}

func parseSummary(doc []byte, sum *SnapshotSummary) error {
	b, err := domain.Gunzip(doc)
	if err == nil {
		err = json.Unmarshal(b, sum)
	}
	if err == nil && (sum.Version < 1 || sum.Version > domain.ArchitectureVersion) {
		err = fmt.Errorf("version %d", sum.Version)
	}
	return err
}
