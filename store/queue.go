package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Task is an element of dotm::queue, in the seed's format. ID is the
// task's result key, dotm::queue::result::<uuid4>, which the original
// backend polls (TaskKey); a bare uuid4 from another writer is read the
// same.
type Task struct {
	ID     string         `json:"id"`
	Fn     string         `json:"fn"`
	Args   []any          `json:"args"`
	Kwargs map[string]any `json:"kwargs"`
}

// Result is dotm::queue::result::<id>.
type Result struct {
	Status string          `json:"status"` // pending, processing or ready
	Result json.RawMessage `json:"result,omitempty"`
	// Worker names who is processing the task (host:pid).
	Worker string `json:"worker,omitempty"`
}

// TaskKey is the ID of the task with this uuid4: its result key.
func TaskKey(uuid string) string { return keyResult + uuid }

// TaskUUID is the uuid of a task ID, with or without the result key's
// prefix.
func TaskUUID(id string) string { return strings.TrimPrefix(id, keyResult) }

// Task result states.
const (
	Pending    = "pending"
	Processing = "processing"
	Ready      = "ready"
)

// Enqueue appends tasks to dotm::queue and marks each pending; results
// expire after ttl.
func (s *Store) Enqueue(ctx context.Context, tasks []Task, ttl time.Duration) error {
	pending, _ := json.Marshal(Result{Status: Pending})
	docs := make([][]byte, len(tasks))
	for i, t := range tasks {
		b, err := json.Marshal(t)
		if err != nil {
			return err
		}
		docs[i] = b
	}
	_, err := s.pipelined(ctx, len(tasks), func(p redis.Pipeliner, i int) {
		p.Set(ctx, resultKey(tasks[i].ID), pending, ttl)
		p.RPush(ctx, keyQueue, docs[i])
	})
	if err != nil {
		return fmt.Errorf("enqueue %d tasks on %s: %w", len(tasks), keyQueue, err)
	}
	return nil
}

// SetResult stores a task's status and result.
func (s *Store) SetResult(ctx context.Context, id string, r Result, ttl time.Duration) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := s.rdb.Set(ctx, resultKey(id), b, ttl).Err(); err != nil {
		return fmt.Errorf("store result of task %s: %w", id, err)
	}
	return nil
}

// TaskResult reads a task's status and result; ok is false when there is
// none (unknown or expired).
func (s *Store) TaskResult(ctx context.Context, id string) (r Result, ok bool, err error) {
	b, err := s.rdb.Get(ctx, resultKey(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return r, false, nil
	}
	if err != nil {
		return r, false, fmt.Errorf("read result of task %s: %w", id, err)
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, false, fmt.Errorf("result of task %s is not valid JSON: %w", id, err)
	}
	return r, true, nil
}

// The queue is reliable without a processing list (whose atomic move
// would need dotm::queue and the list in one Redis Cluster slot, which the
// contract's key names do not allow): a worker that takes a task holds a
// lease on it (dotm::queue::lease::<id>, with expiry, renewed while it
// works), and the coordinator puts back every task whose result is not
// ready and that is neither queued nor leased, so a task whose worker died
// becomes available again once its lease ran out. Results are written
// only while not yet ready, and the coordinator applies each task once.

// ErrNotATask is TakeTask's error for a queue entry that is no task
// (written by something else); the entry is gone, the queue goes on.
var ErrNotATask = errors.New("an entry that is not a task")

// TakeTask pops the next task, waiting up to wait; ok is false when none
// came. A task that is not valid JSON is dropped and reported as an error.
func (s *Store) TakeTask(ctx context.Context, wait time.Duration) (t Task, ok bool, err error) {
	kv, err := s.rdb.BLPop(ctx, wait, keyQueue).Result()
	if errors.Is(err, redis.Nil) {
		return t, false, nil
	}
	if err != nil {
		return t, false, fmt.Errorf("take a task from %s: %w", keyQueue, err)
	}
	if err := json.Unmarshal([]byte(kv[1]), &t); err != nil || t.ID == "" {
		return t, false, fmt.Errorf("%w on %s, dropped: %.80q", ErrNotATask, keyQueue, kv[1])
	}
	return t, true, nil
}

// LeaseTask records that worker works on task id, for ttl: the lease, and
// the result's status "processing". RenewLease extends it.
func (s *Store) LeaseTask(ctx context.Context, id, worker string, ttl, resultTTL time.Duration) error {
	b, _ := json.Marshal(Result{Status: Processing, Worker: worker})
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, leaseKey(id), worker, ttl)
		p.Set(ctx, resultKey(id), b, resultTTL)
		return nil
	})
	if err != nil {
		return fmt.Errorf("lease task %s: %w", id, err)
	}
	return nil
}

// RenewLease extends worker's lease on task id to ttl from now.
func (s *Store) RenewLease(ctx context.Context, id, worker string, ttl time.Duration) error {
	if err := s.rdb.Set(ctx, leaseKey(id), worker, ttl).Err(); err != nil {
		return fmt.Errorf("renew the lease on task %s: %w", id, err)
	}
	return nil
}

// finishScript sets a result to ready unless it already is: of two
// workers that ran the same task (one was thought dead), the first wins.
var finishScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur and string.find(cur, '"status":"ready"', 1, true) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`)

// FinishTask stores a task's result as ready and drops the lease. first is
// false when another worker's result was there already (this one is
// dropped).
func (s *Store) FinishTask(ctx context.Context, id string, result json.RawMessage, ttl time.Duration) (first bool, err error) {
	b, err := json.Marshal(Result{Status: Ready, Result: result})
	if err != nil {
		return false, err
	}
	n, err := finishScript.Run(ctx, s.rdb, []string{resultKey(id)}, b, ttl.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("store the result of task %s: %w", id, err)
	}
	if err := s.rdb.Del(ctx, leaseKey(id)).Err(); err != nil {
		return n == 1, fmt.Errorf("drop the lease on task %s: %w", id, err)
	}
	return n == 1, nil
}

// TaskStates reads the results of tasks and whether each is leased.
// A task with no result key (expired) has Status "".
func (s *Store) TaskStates(ctx context.Context, ids []string) (results []Result, leased []bool, err error) {
	gets := make([]*redis.StringCmd, len(ids))
	exists := make([]*redis.IntCmd, len(ids))
	_, err = s.pipelined(ctx, len(ids), func(p redis.Pipeliner, i int) {
		gets[i] = p.Get(ctx, resultKey(ids[i]))
		exists[i] = p.Exists(ctx, leaseKey(ids[i]))
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, nil, fmt.Errorf("read task results: %w", err)
	}
	results, leased = make([]Result, len(ids)), make([]bool, len(ids))
	for i := range ids {
		if b, err := gets[i].Bytes(); err == nil {
			_ = json.Unmarshal(b, &results[i]) // not JSON: treated as lost
		}
		leased[i] = exists[i].Val() > 0
	}
	return results, leased, nil
}

// QueuedTasks lists the ids of the tasks waiting on dotm::queue.
func (s *Store) QueuedTasks(ctx context.Context) (map[string]bool, error) {
	all, err := s.rdb.LRange(ctx, keyQueue, 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", keyQueue, err)
	}
	out := make(map[string]bool, len(all))
	for _, raw := range all {
		var t Task
		if json.Unmarshal([]byte(raw), &t) == nil {
			out[t.ID] = true
		}
	}
	return out, nil
}

// RemoveTasks takes tasks off dotm::queue that nobody took (a coordinator
// that gave up on them) and forgets their results.
func (s *Store) RemoveTasks(ctx context.Context, tasks []Task) error {
	docs := make([][]byte, len(tasks))
	for i, t := range tasks {
		b, err := json.Marshal(t)
		if err != nil {
			return err
		}
		docs[i] = b
	}
	_, err := s.pipelined(ctx, len(tasks), func(p redis.Pipeliner, i int) {
		p.LRem(ctx, keyQueue, 0, docs[i])
		p.Del(ctx, resultKey(tasks[i].ID))
	})
	if err != nil {
		return fmt.Errorf("remove tasks from %s: %w", keyQueue, err)
	}
	return nil
}
