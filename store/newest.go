package store

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Newest is what a time field holds after a write of t where it held old,
// with clock the writer's system clock: the later of the two, so that a
// backfill (a run with an earlier --now) never moves last_seen,
// last_connection or last_fetch back, unless old is ahead of the clock. A
// time from the future (a run with a clock that jumped) is not newer
// knowledge, and the next run corrects it instead of being held to it.
func Newest(old, t, clock int64) int64 {
	if old > t && old <= clock {
		return old
	}
	return t
}

// RetentionStep bounds how far one run moves the time retention measures
// age against past the run before it.
const RetentionStep = 24 * time.Hour

// RetentionTime is the time against which a run at t measures what to
// forget (old services, connections and history snapshots), given the
// system clock and the time of the run before it (prev, 0 when unknown):
// t, but never later than the clock, and never more than RetentionStep past
// prev. So a --now in the future ages nothing early, and one run with a
// clock that jumped ahead (months, years) forgets at most a day more than
// it should, instead of every snapshot and every record not seen in it.
// A backfill (t in the past) forgets less, never more.
func RetentionTime(t, clock, prev int64) int64 {
	ref := min(t, clock)
	if prev > 0 {
		ref = min(ref, prev+int64(RetentionStep/time.Second))
	}
	return ref
}

// recordScript writes a service or connection hash (KEYS[1]) with the
// fields and values in ARGV[2:], replacing it entirely, but for
// last_seen and last_connection: each keeps its stored value when that is
// newer and not ahead of the clock ARGV[1] (see Newest). One script per
// key, so it is atomic on a Redis Cluster too.
var recordScript = redis.NewScript(`
local clock = tonumber(ARGV[1])
local fields = {'last_seen', 'last_connection'}
local old = redis.call('HMGET', KEYS[1], unpack(fields))
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
local new = redis.call('HMGET', KEYS[1], unpack(fields))
for i, f in ipairs(fields) do
  local o = old[i] and tonumber(old[i])
  local n = new[i] and tonumber(new[i]) or 0
  if o and o > n and o <= clock then redis.call('HSET', KEYS[1], f, old[i]) end
end
return 1`)

// newerScript sets the fields and values in ARGV[4:] and the time field
// ARGV[2] to ARGV[3] in the hash KEYS[1], unless the hash's time field is
// newer and not ahead of the clock ARGV[1] (see Newest): the fields
// describe the newest run, whichever order the runs wrote in.
var newerScript = redis.NewScript(`
local clock, t = tonumber(ARGV[1]), tonumber(ARGV[3])
local last = redis.call('HGET', KEYS[1], ARGV[2])
last = last and tonumber(last)
if last and last > t and last <= clock then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
return 1`)

// writeScripts are the scripts that write pipelines run by their SHA.
var writeScripts = []*redis.Script{recordScript, newerScript}

// loadScripts makes the write scripts known to the server (every master
// of a cluster), once per Store: inside MULTI/EXEC an unknown script fails
// on its own while the rest of the transaction runs, so the scripts must
// be there before.
func (s *Store) loadScripts(ctx context.Context, again bool) error {
	if s.scriptsLoaded.Load() && !again {
		return nil
	}
	for _, sc := range writeScripts {
		if err := sc.Load(ctx, s.rdb).Err(); err != nil {
			return fmt.Errorf("load write scripts into %s: %w", s.where, err)
		}
	}
	s.scriptsLoaded.Store(true)
	return nil
}

// scriptTx runs fn as s.tx does, with the write scripts loaded. When the
// server lost them meanwhile (a restart, SCRIPT FLUSH), it loads them and
// runs fn once more: every write fn makes with the scripts gives the same
// result when repeated.
func (s *Store) scriptTx(ctx context.Context, fn func(redis.Pipeliner) error) error {
	if err := s.loadScripts(ctx, false); err != nil {
		return err
	}
	err := s.tx(ctx, fn)
	if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
		if err := s.loadScripts(ctx, true); err != nil {
			return err
		}
		err = s.tx(ctx, fn)
	}
	return err
}

// evalNewer queues newerScript: set time field to t and the other fields
// in key, unless key holds a newer time (see Newest).
func evalNewer(ctx context.Context, p redis.Pipeliner, key string, clock int64, field string, t int64, fields ...any) {
	args := append([]any{itoa(clock), field, itoa(t)}, fields...)
	p.EvalSha(ctx, newerScript.Hash(), []string{key}, args...)
}

// evalRecord queues recordScript for a service or connection hash.
func evalRecord(ctx context.Context, p redis.Pipeliner, key string, clock int64, fields []any) {
	p.EvalSha(ctx, recordScript.Hash(), []string{key}, append([]any{itoa(clock)}, fields...)...)
}
