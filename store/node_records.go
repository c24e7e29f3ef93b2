package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/lwindolf/dotm/domain"
)

// nodeScanBatch is the COUNT hint of NodeRecords' SCAN: one node's keys
// are a few among the fleet's, so most of a scan is skipping others' keys,
// and fewer, larger steps cost less than many round trips.
const nodeScanBatch = 5000

// NodeRecords reads one node's services and connections, as Services and
// Connections do (records that cannot be read are left out, as there), with a single scan of the keyspace for both: what a
// monitoring check of one node needs, at a fraction of the cost of
// reading the fleet.
func (s *Store) NodeRecords(ctx context.Context, node string) ([]Service, []Connection, error) {
	if err := domain.ValidateNodeName(node); err != nil {
		return nil, nil, err
	}
	pattern := prefix + "*" + sep + globEscape(node) + sep + "*"
	var keys []string
	if s.cluster {
		var err error
		if keys, err = s.scanKeys(ctx, pattern); err != nil {
			return nil, nil, fmt.Errorf("read data of node %s: %w", node, err)
		}
	} else {
		iter := s.rdb.Scan(ctx, 0, pattern, nodeScanBatch).Iterator()
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if err := iter.Err(); err != nil {
			return nil, nil, fmt.Errorf("read data of node %s: %w", node, err)
		}
	}
	svcPfx, connPfx := keySvcPfx+node+sep, keyConnPfx+node+sep
	keys = slices.DeleteFunc(keys, func(k string) bool {
		return !strings.HasPrefix(k, svcPfx) && !strings.HasPrefix(k, connPfx)
	})
	hashes, _, err := s.hgetAll(ctx, keys)
	if err != nil {
		return nil, nil, fmt.Errorf("read data of node %s: %w", node, err)
	}
	var svcs []Service
	var conns []Connection
	for i, k := range keys {
		if len(hashes[i]) == 0 {
			continue // deleted since the scan
		}
		if rest, ok := strings.CutPrefix(k, svcPfx); ok {
			rest, container := cutContainer(rest)
			if p, err := strconv.Atoi(rest); err == nil {
				if sv, err := serviceFromHash(node, p, hashes[i]); err == nil {
					sv.Container = container
					svcs = append(svcs, sv)
				}
			}
		} else if port, remote, ok := strings.Cut(strings.TrimPrefix(k, connPfx), sep); ok {
			remote, container := cutContainer(remote)
			remote, split := strings.CutSuffix(remote, splitSuffix)
			if c, err := connectionFromHash(node, port, remote, hashes[i]); err == nil {
				c.Split, c.Container = split, container
				conns = append(conns, c)
			}
		}
	}
	slices.SortFunc(svcs, func(a, b Service) int {
		return cmp.Or(cmp.Compare(a.Port, b.Port), strings.Compare(a.Container, b.Container))
	})
	slices.SortFunc(conns, func(a, b Connection) int {
		return cmp.Or(strings.Compare(a.Port, b.Port), strings.Compare(a.Remote, b.Remote),
			strings.Compare(a.Direction, b.Direction))
	})
	return svcs, conns, nil
}
