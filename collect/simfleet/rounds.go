package simfleet

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/lwindolf/dotm/store"
)

// Rounds registers the fleet in st and collects it three times, an hour
// apart up to now; before the last round web01 stops using its first app
// server, so the history shows a change. For each round the fleet serves
// its agents and writes its monitoring to statusDat, and collect runs one
// collection as of t (with statusDat as the monitoring source).
func (f *Fleet) Rounds(ctx context.Context, st *store.Store, statusDat string, now time.Time,
	collect func(ctx context.Context, t time.Time) error) error {
	if err := f.Register(ctx, st); err != nil {
		return err
	}
	for round := range 3 {
		t := now.Add(time.Duration(round-2) * time.Hour)
		if round == 2 {
			if web := f.Lookup("web01"); web != nil && len(web.Out) > 0 && web.Out[0].To != nil {
				f.Disconnect("web01", web.Out[0].To.Name)
			}
		}
		if err := f.round(ctx, statusDat, t, collect); err != nil {
			return err
		}
	}
	return nil
}

func (f *Fleet) round(ctx context.Context, statusDat string, t time.Time, collect func(context.Context, time.Time) error) error {
	sctx, stop := context.WithCancel(ctx)
	wait, err := f.Serve(sctx)
	defer func() { stop(); wait() }()
	if err != nil {
		return fmt.Errorf("%w; the demo needs the loopback addresses 127.1.x.y port %d free", err, f.AgentPort)
	}
	out, err := os.Create(statusDat)
	if err != nil {
		return err
	}
	if err := errors.Join(f.WriteStatusDat(out, t.Unix()), out.Close()); err != nil {
		return err
	}
	return collect(ctx, t)
}
