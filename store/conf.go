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
		if sv.IsSet {
			if err := sv.Setting.CheckStored(sv.Stored); err != nil {
				return nil, err
			}
		}
		v[sv.Name] = sv.Value()
	}
	return domain.ConfFrom(v), nil
}
