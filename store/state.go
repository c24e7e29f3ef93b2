package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
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
	fRunningOwner  = "update_running_owner"
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

// SetLastUpdated records when a collect run finished (t in unix seconds).
func (s *Store) SetLastUpdated(ctx context.Context, t int64) error {
	return s.SetState(ctx, map[string]string{fLastUpdated: itoa(t)})
}

var lockScript = redis.NewScript(`
local running = redis.call('HGET', KEYS[1], 'update_running')
local until_ = tonumber(redis.call('HGET', KEYS[1], 'update_running_until') or '0') or 0
if running == '1' and until_ > tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'update_running', '1', 'update_running_until', ARGV[3], 'update_running_owner', ARGV[1])
return 1`)

var unlockScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'update_running_owner') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'update_running', '0')
redis.call('HDEL', KEYS[1], 'update_running_until', 'update_running_owner')
return 1`)

// UpdateLock is the collect lock held in dotm::state.
type UpdateLock struct {
	s     *Store
	token string
}

// LockUpdate takes the collect lock (update_running) for at most ttl, after
// which a crashed holder's lock counts as gone. ok is false when another
// run holds it.
func (s *Store) LockUpdate(ctx context.Context, ttl time.Duration) (l *UpdateLock, ok bool, err error) {
	var b [16]byte
	_, _ = rand.Read(b[:])
	token := hex.EncodeToString(b[:])
	now := time.Now()
	got, err := lockScript.Run(ctx, s.rdb, []string{keyState}, token,
		now.Unix(), now.Add(ttl).Unix()).Int()
	if err != nil {
		return nil, false, fmt.Errorf("take the update lock in %s: %w", keyState, err)
	}
	if got == 0 {
		return nil, false, nil
	}
	return &UpdateLock{s: s, token: token}, true, nil
}

// Unlock releases the lock if this holder still has it.
func (l *UpdateLock) Unlock(ctx context.Context) error {
	if err := unlockScript.Run(ctx, l.s.rdb, []string{keyState}, l.token).Err(); err != nil {
		return fmt.Errorf("release the update lock in %s: %w", keyState, err)
	}
	return nil
}
