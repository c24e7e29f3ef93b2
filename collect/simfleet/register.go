package simfleet

import (
	"context"
	"fmt"

	"github.com/lwindolf/dotm/domain"
	"github.com/lwindolf/dotm/store"
)

// Register makes the fleet's hosts the store's nodes, each reached at its
// agent address, and sets fetch_parameters to the agent method on the
// fleet's port.
func (f *Fleet) Register(ctx context.Context, st *store.Store) error {
	fetch, err := domain.Lookup("fetch_parameters")
	if err != nil {
		return err
	}
	v, err := fetch.ParseValue(fmt.Sprintf(`{"method":"agent","agent_port":%d}`, f.AgentPort))
	if err != nil {
		return err
	}
	if err := st.SetSetting(ctx, fetch, v); err != nil {
		return err
	}
	specs := make([]domain.NodeSpec, len(f.Hosts))
	for i, h := range f.Hosts {
		specs[i] = domain.NodeSpec{Name: h.Name, Address: h.Agent.String()}
	}
	_, err = st.AddNodes(ctx, specs)
	return err
}
