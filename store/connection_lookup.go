package store

import (
	"context"
	"fmt"
)

// LookupConnections reads the stored connections with the node, port and
// remote of each of want (their other fields are ignored) in one round
// trip; those not stored are left out. It is how a reader of one node
// finds the other end of its connections without scanning the fleet.
func (s *Store) LookupConnections(ctx context.Context, want []Connection) ([]Connection, error) {
	keys := make([]string, len(want))
	for i, c := range want {
		keys[i] = c.key()
	}
	hashes, _, err := s.hgetAll(ctx, keys) // a key that cannot be read is not stored here
	if err != nil {
		return nil, fmt.Errorf("read connections: %w", err)
	}
	var out []Connection
	for i, h := range hashes {
		if len(h) == 0 {
			continue
		}
		if c, err := connectionFromHash(want[i].Node, want[i].Port, want[i].Remote, h); err == nil {
			c.Split = want[i].Split
			out = append(out, c)
		}
	}
	return out, nil
}
