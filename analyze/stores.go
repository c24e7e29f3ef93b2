package analyze

import (
	"context"

	"github.com/lwindolf/dotm/domain"
	"github.com/lwindolf/dotm/store"
)

// The parts of the store the analysis reads; *store.Store (Redis or
// embedded) has them all. The analysis never writes.

// Reader is what Load reads: the settings, the state and the current data.
type Reader interface {
	Config(ctx context.Context) ([]store.SettingValue, error)
	LoadConf(ctx context.Context) (*domain.Conf, error)
	State(ctx context.Context) (store.State, error)
	ReadCurrent(ctx context.Context) (*store.Current, error)
}

// HistoryReader is what LoadHistory reads: the snapshots.
type HistoryReader interface {
	SnapshotSummaries(ctx context.Context) (good []store.SnapshotSummary, bad []error, err error)
	LoadSnapshot(ctx context.Context, ts int64) (a *domain.Architecture, ok bool, err error)
}

// NodeReader is what LoadNode reads: one node's records, and of the
// rest only what it needs.
type NodeReader interface {
	LoadConf(ctx context.Context) (*domain.Conf, error)
	State(ctx context.Context) (store.State, error)
	Nodes(ctx context.Context) ([]string, error)
	NodeInfo(ctx context.Context, names []string) ([]store.Node, error)
	NodeRecords(ctx context.Context, node string) ([]store.Service, []store.Connection, error)
	AllChecks(ctx context.Context, nodes []string) (map[string]store.Checks, error)
	LookupConnections(ctx context.Context, want []store.Connection) ([]store.Connection, error)
}

var (
	_ Reader        = (*store.Store)(nil)
	_ HistoryReader = (*store.Store)(nil)
	_ NodeReader    = (*store.Store)(nil)
)
