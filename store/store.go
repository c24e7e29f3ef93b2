// Package store is dotm's data contract in Redis: the one package that
// knows the key names, with typed reads and writes for nodes, services,
// connections, the resolver, monitoring checks, settings, state, the task
// queue and history. What the records mean (architecture, settings, node
// specs) is package domain.
//
// A Store talks to a Redis server (single, Cluster or Sentinel) or, when no
// server is given, to an embedded store kept in a local data directory.
// Both go through the same go-redis client code, so everything above this
// package behaves the same on either.
package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Options says which store to open.
type Options struct {
	// URL selects a Redis server (see ParseURL). Empty means the embedded
	// store in DataDir.
	URL string
	// DataDir is the embedded store's directory (see DefaultDataDir).
	DataDir string
	// LockWait bounds how long Open waits for another process that holds
	// the embedded store. Zero means DefaultLockWait.
	LockWait time.Duration
}

// DefaultLockWait is how long a process waits for the embedded store
// while another dotm process holds it.
const DefaultLockWait = 60 * time.Second

// Store is an open connection to dotm's data.
type Store struct {
	rdb     redis.UniversalClient
	emb     *embedded // nil when talking to a Redis server
	cluster bool
	kind    string // single, cluster, sentinel or embedded
	where   string // the address or directory, for messages
	// scriptsLoaded is set once the write scripts are loaded (newest.go).
	scriptsLoaded atomic.Bool
}

// Open connects to the store that opts describes and checks that it
// answers. The error names the address and what to do about it.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.URL == "" {
		return openEmbedded(ctx, opts)
	}
	c, err := newClient(opts.URL)
	if err != nil {
		return nil, err
	}
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := c.rdb.Ping(pingCtx).Err(); err != nil {
		c.rdb.Close()
		return nil, fmt.Errorf("cannot reach Redis at %s: %w; start redis-server there, "+
			"correct --redis or DOTM_REDIS, or leave both unset to use the embedded store", c.where, err)
	}
	return c, nil
}

// Where names the store for messages: a Redis address (without password)
// or the embedded store's directory.
func (s *Store) Where() string { return s.where }

// Embedded reports whether s is the embedded store.
func (s *Store) Embedded() bool { return s.emb != nil }

// Close saves the embedded store (if it changed) and releases it, or
// closes the connection to the Redis server.
func (s *Store) Close() error {
	err := s.rdb.Close()
	if s.emb != nil {
		err = errors.Join(err, s.emb.close())
	}
	return err
}

// Checkpoint makes everything written so far durable. On a Redis server
// this is Redis's own business and Checkpoint does nothing; the embedded
// store writes its data file if anything changed.
func (s *Store) Checkpoint() error {
	if s.emb == nil {
		return nil
	}
	return s.emb.save()
}

func itoa(i int64) string { return strconv.FormatInt(i, 10) }

// QuietClientLogs stops the Redis client from logging dial retries on its
// own: dotm reports a failure once, with what to do about it.
func QuietClientLogs() { redis.SetLogger(quietLogger{}) }

type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}
