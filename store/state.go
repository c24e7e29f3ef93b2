package store

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// State is dotm::state: when data was last updated, whether a collect
// run holds the update lock, and when the last history snapshot was taken.
type State struct {
	LastUpdated   int64
	UpdateRunning bool
	// RunningUntil is when the update lock expires (unix seconds).
	RunningUntil int64
	LastSnapshot int64
	// Fields holds every field, including ones other parts add (such as
	// the status of monitoring sources).
	Fields map[string]string
}

const (
	fLastUpdated   = "last_updated"
	fUpdateRunning = "update_running"
	fRunningUntil  = "update_running_until"
	fLastSnapshot  = "last_snapshot"
	fMonitoring    = "monitoring"
)

// State reads dotm::state.
func (s *Store) State(ctx context.Context) (State, error) {
	h, err := s.rdb.HGetAll(ctx, keyState).Result()
	if err != nil {
		return State{}, fmt.Errorf("read %s: %w", keyState, err)
	}
	st := State{
		LastUpdated:  atoi64(h[fLastUpdated]),
		RunningUntil: atoi64(h[fRunningUntil]),
		LastSnapshot: atoi64(h[fLastSnapshot]),
		Fields:       h,
	}
	st.UpdateRunning = h[fUpdateRunning] == "1" && st.RunningUntil > time.Now().Unix()
	return st, nil
}

// SetState sets fields of dotm::state.
func (s *Store) SetState(ctx context.Context, fields map[string]string) error {
	if err := s.rdb.HSet(ctx, keyState, fields).Err(); err != nil {
		return fmt.Errorf("write %s: %w", keyState, err)
	}
	return nil
}

// MonitoringStatus is how the monitoring sources fared in the last collect
// run: field "monitoring" of dotm::state, as JSON.
type MonitoringStatus struct {
	Time    int64          `json:"time"`
	Sources []SourceStatus `json:"sources"`
	// UnknownHosts are monitored hosts that map to no node.
	UnknownHosts []string `json:"unknown_hosts"`
}

// SourceStatus is one monitoring source's outcome.
type SourceStatus struct {
	Source string `json:"source"` // without credentials
	Status string `json:"status"` // "OK" or the error
	Hosts  int    `json:"hosts"`
	Checks int    `json:"checks"`
}

// SetMonitoringStatus records how the monitoring sources fared.
func (s *Store) SetMonitoringStatus(ctx context.Context, m MonitoringStatus) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return s.SetState(ctx, map[string]string{fMonitoring: string(b)})
}

// Monitoring is what SetMonitoringStatus stored; ok is false when no run
// read monitoring yet.
func (st State) Monitoring() (m MonitoringStatus, ok bool, err error) {
	v, ok := st.Fields[fMonitoring]
	if !ok {
		return m, false, nil
	}
	if err := json.Unmarshal([]byte(v), &m); err != nil {
		return m, false, fmt.Errorf("%s field %s is not valid JSON: %w", keyState, fMonitoring, err)
	}
	return m, true, nil
}

// SetLastUpdated records when a collect run finished (t in unix seconds),
// unless a later run did (see Newest): a backfill does not make the data
// look older than it is.
func (s *Store) SetLastUpdated(ctx context.Context, t int64) error {
	clock := time.Now().Unix()
	err := s.scriptTx(ctx, func(p redis.Pipeliner) error {
		evalNewer(ctx, p, keyState, clock, fLastUpdated, t)
		return nil
	})
	if err != nil {
		return fmt.Errorf("write %s: %w", keyState, err)
	}
	return nil
}

// The update lock's fields in dotm::state: update_running is "1" while a
// run holds it (DESIGN.md); the others say until when, which run (a
// random token, so only the holder releases it), and, for the messages
// of the runs that find it held, by whom and since when.
var lockScript = redis.NewScript(`
local h = redis.call('HMGET', KEYS[1], 'update_running', 'update_running_until', 'update_running_by', 'update_running_since')
local until_ = tonumber(h[2] or '0') or 0
if h[1] == '1' and until_ > tonumber(ARGV[2]) then return {0, h[3] or '', h[4] or '', h[2]} end
redis.call('HSET', KEYS[1], 'update_running', '1', 'update_running_until', ARGV[3], 'update_running_owner', ARGV[1],
  'update_running_by', ARGV[4], 'update_running_since', ARGV[2])
return {1}`)

// unlockScript releases the lock if ARGV[1] still owns it. It deletes
// first: HDEL is allowed when Redis is out of memory (maxmemory with
// noeviction), where HSET is not, so a run that failed for lack of memory
// still releases its lock. update_running is then set to "0" or, if even
// that is refused, deleted: both mean free.
var unlockScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'update_running_owner') ~= ARGV[1] then return 0 end
redis.call('HDEL', KEYS[1], 'update_running_owner', 'update_running_until', 'update_running_by', 'update_running_since')
local r = redis.pcall('HSET', KEYS[1], 'update_running', '0')
if type(r) == 'table' and r.err then redis.call('HDEL', KEYS[1], 'update_running') end
return 1`)

// UpdateLock is the collect lock held in dotm::state.
type UpdateLock struct {
	s     *Store
	token string
}

// LockHolder is the run that holds the update lock, as LockUpdate found
// it.
type LockHolder struct {
	// By names the holding process ("HOST pid PID"); empty when the lock
	// was taken by a dotm that did not record it.
	By string
	// Since is when the holder took the lock (its clock; zero when not
	// recorded), Until when the lock lapses if the holder never releases
	// it.
	Since, Until time.Time
}

// maxHolderName bounds By: the lock is in a shared store.
const maxHolderName = 200

// LockUpdate takes the collect lock (update_running) for at most ttl, after
// which a crashed holder's lock counts as gone. When another run holds
// it, the lock is nil and holder says who.
func (s *Store) LockUpdate(ctx context.Context, ttl time.Duration) (l *UpdateLock, holder *LockHolder, err error) {
	var b [16]byte
	_, _ = rand.Read(b[:])
	token := hex.EncodeToString(b[:])
	host, _ := os.Hostname()
	now := time.Now()
	got, err := lockScript.Run(ctx, s.rdb, []string{keyState}, token,
		now.Unix(), now.Add(ttl).Unix(), fmt.Sprintf("%s pid %d", cmp.Or(host, "unknown host"), os.Getpid())).Slice()
	if err != nil {
		return nil, nil, fmt.Errorf("take the update lock in %s: %w", keyState, err)
	}
	if len(got) == 4 {
		str := func(v any) string { s, _ := v.(string); return s }
		at := func(v any) time.Time {
			if n := atoi64(str(v)); n > 0 {
				return time.Unix(n, 0)
			}
			return time.Time{}
		}
		by := str(got[1])
		if len(by) > maxHolderName {
			by = strings.ToValidUTF8(by[:maxHolderName], "") + "…"
		}
		return nil, &LockHolder{By: by, Since: at(got[2]), Until: at(got[3])}, nil
	}
	return &UpdateLock{s: s, token: token}, nil, nil
}

// Unlock releases the lock if this holder still has it.
func (l *UpdateLock) Unlock(ctx context.Context) error {
	if err := unlockScript.Run(ctx, l.s.rdb, []string{keyState}, l.token).Err(); err != nil {
		return fmt.Errorf("release the update lock in %s: %w", keyState, err)
	}
	return nil
}
