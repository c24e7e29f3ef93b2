package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Task is an element of dotm::queue, in the seed's format.
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
}

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
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, t := range tasks {
			b, err := json.Marshal(t)
			if err != nil {
				return err
			}
			p.Set(ctx, resultKey(t.ID), pending, ttl)
			p.RPush(ctx, keyQueue, b)
		}
		return nil
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
