package store

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

// A task is taken, leased and finished once: a second worker's result
// for the same task (it was thought dead and ran it again) is dropped.
func TestTaskLeaseAndFinish(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		task := Task{ID: "3f1c8a52-1b7e-4c55-9a3e-0d2f6b1c9e77", Fn: "fetch", Args: []any{"web01"}}
		if err := s.Enqueue(ctx, []Task{task}, time.Hour); err != nil {
			t.Fatal(err)
		}
		if q, _ := s.QueuedTasks(ctx); !q[task.ID] {
			t.Fatalf("queued = %v", q)
		}
		got, ok, err := s.TakeTask(ctx, time.Second)
		if err != nil || !ok || got.ID != task.ID {
			t.Fatalf("take = %+v %v %v", got, ok, err)
		}
		if err := s.LeaseTask(ctx, task.ID, "w1", time.Minute, time.Hour); err != nil {
			t.Fatal(err)
		}
		res, leased, err := s.TaskStates(ctx, []string{task.ID})
		if err != nil || res[0].Status != Processing || res[0].Worker != "w1" || !leased[0] {
			t.Fatalf("states = %+v %v %v", res, leased, err)
		}
		first, err := s.FinishTask(ctx, task.ID, json.RawMessage(`{"n":1}`), time.Hour)
		if err != nil || !first {
			t.Fatalf("first finish: %v %v", first, err)
		}
		again, err := s.FinishTask(ctx, task.ID, json.RawMessage(`{"n":2}`), time.Hour)
		if err != nil || again {
			t.Errorf("second finish: applied=%v %v; want dropped", again, err)
		}
		res, leased, _ = s.TaskStates(ctx, []string{task.ID})
		if res[0].Status != Ready || string(res[0].Result) != `{"n":1}` || leased[0] {
			t.Errorf("after finishing: %+v leased=%v; want the first result, no lease", res[0], leased[0])
		}
		if _, ok, _ := s.TakeTask(ctx, time.Second); ok {
			t.Error("the queue still had a task")
		}
		// Something else's entry on the queue is dropped with an error the
		// worker can tell from a store that went away.
		if err := s.rdb.RPush(ctx, keyQueue, "not json").Err(); err != nil {
			t.Fatal(err)
		}
		if _, ok, err := s.TakeTask(ctx, time.Second); ok || !errors.Is(err, ErrNotATask) {
			t.Errorf("take of a foreign entry: ok=%v err=%v; want ErrNotATask", ok, err)
		}
	})
}

// A task's id is its result key, as the original backend polls it
// (GET <id>); a bare uuid addresses the same key.
func TestTaskIDIsTheResultKey(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		const uuid = "9b2d4e61-7a3c-4f08-8e5d-1c6a0b9f3d24"
		id := TaskKey(uuid)
		if id != "dotm::queue::result::"+uuid {
			t.Fatalf("TaskKey = %q", id)
		}
		if err := s.Enqueue(ctx, []Task{{ID: id, Fn: "fetch", Args: []any{"web01"}}}, time.Hour); err != nil {
			t.Fatal(err)
		}
		raw, err := s.rdb.Get(ctx, id).Result()
		if err != nil || raw != `{"status":"pending"}` {
			t.Fatalf("GET %s = %q, %v; want the pending result under the task's id", id, raw, err)
		}
		if _, err := s.FinishTask(ctx, uuid, json.RawMessage(`true`), time.Hour); err != nil {
			t.Fatal(err)
		}
		res, _, err := s.TaskStates(ctx, []string{id})
		if err != nil || res[0].Status != Ready {
			t.Errorf("finished by bare uuid, read by key: %+v %v", res, err)
		}
		if n, _ := s.rdb.Exists(ctx, keyResult+id).Result(); n != 0 {
			t.Error("a doubled key prefix was written")
		}
	})
}
