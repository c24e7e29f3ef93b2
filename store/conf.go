package store

import (
	"context"

	"github.com/lwindolf/dotm/domain"
)

// LoadConf reads the effective configuration.
func (s *Store) LoadConf(ctx context.Context) (*domain.Conf, error) {
	all, err := s.Config(ctx)
	if err != nil {
		return nil, err
	}
	v := map[string]domain.Value{}
	for _, sv := range all {
		v[sv.Name] = sv.Value()
	}
	return domain.ConfFrom(v), nil
}
