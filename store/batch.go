package store

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// pipeBatch is how many items one pipeline carries. A pipeline's replies
// are read under one socket deadline (go-redis's ReadTimeout), so no
// pipeline may grow with the fleet: a large fleet is read in more
// pipelines, each as long as one of a small fleet, and a slow store is
// slow, not broken.
const pipeBatch = 500

// pipelined queues fn(p, i) for every i in [0, n), pipeBatch items to a
// pipeline, and runs the pipelines one after the other. Like
// Pipelined it runs every command and returns them all with the first
// error any of them had.
func (s *Store) pipelined(ctx context.Context, n int, fn func(p redis.Pipeliner, i int)) ([]redis.Cmder, error) {
	var all []redis.Cmder
	var first error
	for lo := 0; lo < n; lo += pipeBatch {
		hi := min(lo+pipeBatch, n)
		cmds, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i := lo; i < hi; i++ {
				fn(p, i)
			}
			return nil
		})
		all = append(all, cmds...)
		if first == nil {
			first = err
		}
		if ctx.Err() != nil {
			return all, ctx.Err()
		}
	}
	return all, first
}
