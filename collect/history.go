package collect

import (
	"context"
	"time"

	"github.com/lwindolf/dotm/store"
)

// snapshot stores the architecture as a history snapshot when the history
// setting asks for one: enabled, and the last snapshot at least interval
// before now (or after it: a backfill with an earlier --now). Snapshots
// expire after the setting's expire, and drop out of dotm::history then.
// cur is what the run left in the store, but for the checks, which are
// read here. It reports whether it took one.
func snapshot(ctx context.Context, st snapshotStore, cur *store.Current, tm runTimes) (bool, error) {
	now := tm.now
	conf, err := st.LoadConf(ctx)
	if err != nil {
		return false, err
	}
	if !conf.HistoryEnabled {
		return false, nil
	}
	state, err := st.State(ctx)
	if err != nil {
		return false, err
	}
	every := int64(conf.HistoryEvery / time.Second)
	if last := state.LastSnapshot; last != 0 && now-last < every && last-now < every {
		return false, nil
	}
	if cur.Checks, err = st.AllChecks(ctx, cur.Nodes); err != nil {
		return false, err
	}
	if err := st.SaveSnapshot(ctx, cur.Architecture(now), conf.HistoryExpire); err != nil {
		return false, err
	}
	// Age is measured from tm.retain, not now: a run from the future
	// (store.RetentionTime) does not age out the history.
	return true, st.DropSnapshots(ctx, tm.retain-int64(conf.HistoryExpire/time.Second))
}
