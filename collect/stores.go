package collect

import (
	"context"
	"encoding/json"
	"time"

	"github.com/lwindolf/dotm/domain"
	"github.com/lwindolf/dotm/store"
)

// The parts of the store each step of a collection uses. *store.Store
// (Redis or embedded) has them all; a step's tests may give it either.

// nodeWriter is what writing the fetched nodes needs.
type nodeWriter interface {
	Services(ctx context.Context, node string) ([]store.Service, error)
	Connections(ctx context.Context, node string) ([]store.Connection, error)
	Resolver(ctx context.Context) (map[string]string, error)
	SetResolver(ctx context.Context, m map[string]string) error
	SetNodeStatus(ctx context.Context, name string, lastFetch int64, status string) error
	WriteNodeData(ctx context.Context, d store.NodeData) error
}

// checkWriter is what writing the monitoring's checks needs.
type checkWriter interface {
	SetChecks(ctx context.Context, nc store.NodeCheck, checks []store.ServiceCheck, ttl time.Duration) error
	SetAlertStatus(ctx context.Context, node string, svcs []store.Service, alerts map[int]string) error
}

// snapshotStore is what taking a history snapshot needs.
type snapshotStore interface {
	LoadConf(ctx context.Context) (*domain.Conf, error)
	State(ctx context.Context) (store.State, error)
	AllChecks(ctx context.Context, nodes []string) (map[string]store.Checks, error)
	SaveSnapshot(ctx context.Context, a *domain.Architecture, ttl time.Duration) error
	DropSnapshots(ctx context.Context, cutoff int64) error
}

// TaskStore is the queue of collection tasks that collect --distribute
// fills and workers take from.
type TaskStore interface {
	LoadConf(ctx context.Context) (*domain.Conf, error)
	Enqueue(ctx context.Context, tasks []store.Task, ttl time.Duration) error
	QueuedTasks(ctx context.Context) (map[string]bool, error)
	RemoveTasks(ctx context.Context, tasks []store.Task) error
	TaskStates(ctx context.Context, ids []string) (results []store.Result, leased []bool, err error)
	TakeTask(ctx context.Context, wait time.Duration) (t store.Task, ok bool, err error)
	LeaseTask(ctx context.Context, id, worker string, ttl, resultTTL time.Duration) error
	RenewLease(ctx context.Context, id, worker string, ttl time.Duration) error
	FinishTask(ctx context.Context, id string, result json.RawMessage, ttl time.Duration) (first bool, err error)
}

var (
	_ nodeWriter    = (*store.Store)(nil)
	_ checkWriter   = (*store.Store)(nil)
	_ snapshotStore = (*store.Store)(nil)
	_ TaskStore     = (*store.Store)(nil)
)
