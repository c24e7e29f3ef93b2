package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// NodeCheck is the monitoring state of one node:
// dotm::checks::nodes::<node>, a JSON string with expiry.
type NodeCheck struct {
	Node              string `json:"node"`
	Status            string `json:"status"`
	LastCheck         int64  `json:"last_check"`
	LastStatusChange  int64  `json:"last_status_change"`
	StatusInformation string `json:"status_information"`
	// ServicesAlerts maps a process to the worst state of its checks;
	// OtherAlerts holds non-OK checks that map to no service.
	ServicesAlerts map[string]string `json:"services_alerts"`
	OtherAlerts    map[string]string `json:"other_alerts"`
}

// ServiceCheck is one service check of a node, an element of the JSON
// list dotm::checks::services::<node>.
type ServiceCheck struct {
	Node              string `json:"node"`
	Service           string `json:"service"`
	Status            string `json:"status"`
	LastCheck         int64  `json:"last_check"`
	LastStatusChange  int64  `json:"last_status_change"`
	StatusInformation string `json:"status_information"`
	// Mapping is the process the check was mapped to, "" if none.
	Mapping string `json:"mapping"`
}

// SetChecks replaces a node's monitoring data; both keys expire after ttl
// (0: never).
func (s *Store) SetChecks(ctx context.Context, nc NodeCheck, checks []ServiceCheck, ttl time.Duration) error {
	nb, err := json.Marshal(nc)
	if err != nil {
		return err
	}
	list := make([]any, len(checks))
	for i, c := range checks {
		b, err := json.Marshal(c)
		if err != nil {
			return err
		}
		list[i] = string(b)
	}
	lk := serviceChecksKey(nc.Node)
	err = s.tx(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, nodeChecksKey(nc.Node), nb, ttl)
		p.Del(ctx, lk)
		if len(list) > 0 {
			p.RPush(ctx, lk, list...)
			if ttl > 0 { // EXPIRE 0 would delete the list at once
				p.Expire(ctx, lk, ttl)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("write checks of node %s: %w", nc.Node, err)
	}
	return nil
}

// Checks is the monitoring data of one node.
type Checks struct {
	Node     NodeCheck
	Services []ServiceCheck
}

// AllChecks reads the monitoring data of many nodes in one round trip;
// nodes without any (never monitored, or expired) are left out. What
// cannot be read is skipped (see allChecks).
func (s *Store) AllChecks(ctx context.Context, nodes []string) (map[string]Checks, error) {
	out, _, err := s.allChecks(ctx, nodes)
	return out, err
}

// allChecks is AllChecks with the Problems of what it skipped: a key of
// another type, a node check or a service check that is not valid JSON.
// The rest of that node's checks is read.
func (s *Store) allChecks(ctx context.Context, nodes []string) (map[string]Checks, []Problem, error) {
	nodeCmds := make([]*redis.StringCmd, len(nodes))
	listCmds := make([]*redis.StringSliceCmd, len(nodes))
	cmds, err := s.pipelined(ctx, len(nodes), func(p redis.Pipeliner, i int) {
		nodeCmds[i] = p.Get(ctx, nodeChecksKey(nodes[i]))
		listCmds[i] = p.LRange(ctx, serviceChecksKey(nodes[i]), 0, -1)
	})
	if err := pipeErr(err, cmds); err != nil {
		return nil, nil, fmt.Errorf("read checks: %w", err)
	}
	out := map[string]Checks{}
	var bad []Problem
	for i, n := range nodes {
		c, ok, probs := decodeChecks(n, nodeCmds[i], listCmds[i])
		bad = append(bad, probs...)
		if ok {
			out[n] = c
		}
	}
	return out, bad, nil
}

// decodeChecks reads one node's checks from its two commands, skipping
// what does not parse. The commands ran without a store failure.
func decodeChecks(node string, nodeCmd *redis.StringCmd, listCmd *redis.StringSliceCmd) (c Checks, ok bool, bad []Problem) {
	nk, lk := nodeChecksKey(node), serviceChecksKey(node)
	raw, err := nodeCmd.Result()
	if p, _ := cmdError(nk, err); p != nil {
		bad = append(bad, *p)
	} else if err == nil {
		if err := json.Unmarshal([]byte(raw), &c.Node); err != nil {
			bad = append(bad, Problem{Key: nk, Err: fmt.Errorf("not valid JSON: %w", err)})
			c.Node = NodeCheck{}
		} else {
			ok = true
		}
	}
	if p, _ := cmdError(lk, listCmd.Err()); p != nil {
		bad = append(bad, *p)
	}
	for i, item := range listCmd.Val() {
		var sc ServiceCheck
		if err := json.Unmarshal([]byte(item), &sc); err != nil {
			bad = append(bad, Problem{Key: lk, Err: fmt.Errorf("item %d is not valid JSON: %w", i, err)})
			continue
		}
		c.Services = append(c.Services, sc)
	}
	return c, ok || len(c.Services) > 0, bad
}

// Checks reads one node's monitoring data. ok is false when there is none
// (never monitored, or expired).
func (s *Store) Checks(ctx context.Context, node string) (nc NodeCheck, checks []ServiceCheck, ok bool, err error) {
	all, err := s.AllChecks(ctx, []string{node})
	c, ok := all[node]
	return c.Node, c.Services, ok, err
}
