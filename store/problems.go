package store

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Problem is a record of the store that cannot be read: a key of the wrong
// Redis type, or a value that does not parse. Readers skip such a record,
// read the rest and return its Problem, so one bad key does not stop a run
// for the whole fleet. As an error, a Problem is bad data, not a store that
// failed (see DataError).
type Problem struct {
	Key string
	Err error
}

// Error names the key and why it was skipped.
func (p Problem) Error() string { return "key " + p.Key + " skipped: " + p.Err.Error() }

// Unwrap is the reason.
func (p Problem) Unwrap() error { return p.Err }

// DataError reports whether err is about bad data in the store (a
// Problem, or a command refused with WRONGTYPE) rather than a store that
// does not answer: running again does not help, fixing or deleting the
// key does.
func DataError(err error) bool {
	return errors.As(err, new(Problem)) || wrongType(err)
}

// wrongType reports whether err is Redis refusing a command because its
// key holds another type: a problem of that key, not of the store.
func wrongType(err error) bool { return redis.HasErrorPrefix(err, "WRONGTYPE") }

// cmdError sorts out the error of one command on key from a pipeline:
// none (nil, or a missing key), a problem of that key (WRONGTYPE), or a
// store failure (returned as err).
func cmdError(key string, cmdErr error) (p *Problem, err error) {
	switch {
	case cmdErr == nil || errors.Is(cmdErr, redis.Nil):
		return nil, nil
	case wrongType(cmdErr):
		return &Problem{Key: key, Err: fmt.Errorf("holds another Redis type than dotm writes there (%w)", cmdErr)}, nil
	default:
		return nil, cmdErr
	}
}

// pipeErr is the store failure among the commands of a pipeline, if
// any: go-redis returns a pipeline's first error, which may be a WRONGTYPE
// that only concerns one key.
func pipeErr[C interface{ Err() error }](err error, cmds []C) error {
	if err == nil {
		return nil
	}
	for _, c := range cmds {
		if e := c.Err(); e != nil && !errors.Is(e, redis.Nil) && !wrongType(e) {
			return e
		}
	}
	if errors.Is(err, redis.Nil) || wrongType(err) {
		return nil
	}
	return err
}

// fieldInt parses the numeric hash field f of h; a missing or empty field
// is 0.
func fieldInt(h map[string]string, f string) (int64, error) {
	v := h[f]
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("field %s is %.40q, not a number", f, v)
	}
	return n, nil
}

// sortProblems orders problems by key, for stable pages and reports.
func sortProblems(ps []Problem) []Problem {
	slices.SortStableFunc(ps, func(a, b Problem) int { return strings.Compare(a.Key, b.Key) })
	return ps
}
