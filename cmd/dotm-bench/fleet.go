package main

import (
	"context"
	"fmt"
	"syscall"

	"github.com/lwindolf/dotm/collect/simfleet"
	"github.com/lwindolf/dotm/store"
)

// sizedFleet is the smallest simulated fleet (seed 1) of at least n hosts,
// densified to perHost sockets a host on average. Generate's n is a
// target for the tiered hosts, so it is raised until the fleet is large
// enough.
func sizedFleet(n, perHost int, port uint16) *simfleet.Fleet {
	for ask := n; ; {
		f := simfleet.Generate(ask, 1, port)
		if got := len(f.Hosts); got < n {
			ask += (n-got)*ask/got + 1
			continue
		}
		f.Densify(perHost)
		return f
	}
}

// sockets is how many sockets the fleet's agents report in all.
func sockets(f *simfleet.Fleet) int {
	n := 0
	for _, h := range f.Hosts {
		n += len(h.Report().Sockets)
	}
	return n
}

// register makes the fleet's hosts the nodes of the store at opts.
func register(ctx context.Context, f *simfleet.Fleet, opts store.Options) error {
	st, err := store.Open(ctx, opts)
	if err != nil {
		return err
	}
	defer st.Close()
	return f.Register(ctx, st)
}

// raiseNoFile lifts the soft limit on open files to the hard one: every
// simulated host is a listener, and the collect fetches 100 at once.
func raiseNoFile(need uint64) error {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return err
	}
	l.Cur = l.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return err
	}
	if l.Cur < need {
		return fmt.Errorf("open files limited to %d, the fleet needs about %d (raise ulimit -Hn)", l.Cur, need)
	}
	return nil
}
