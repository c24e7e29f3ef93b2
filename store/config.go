package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/lwindolf/dotm/domain"
	"github.com/redis/go-redis/v9"
)

// SettingValue is a setting with what is stored for it.
type SettingValue struct {
	*domain.Setting
	Stored domain.Value // what dotm::config::<name> holds, when IsSet
	IsSet  bool
}

// Value is the value in effect: the stored one merged over the default.
func (sv SettingValue) Value() domain.Value { return sv.Effective(sv.Stored, sv.IsSet) }

// Config reads every setting in one round trip.
func (s *Store) Config(ctx context.Context) ([]SettingValue, error) {
	all := domain.Settings()
	type read struct {
		str  *redis.StringCmd
		list *redis.StringSliceCmd
		hash *redis.MapStringStringCmd
	}
	reads := make([]read, len(all))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, st := range all {
			k := configKey(st.Name)
			switch st.Kind {
			case domain.Text:
				reads[i].str = p.Get(ctx, k)
			case domain.List:
				reads[i].list = p.LRange(ctx, k, 0, -1)
			case domain.Hash:
				reads[i].hash = p.HGetAll(ctx, k)
			}
		}
		return nil
	})
	var reply redis.Error // a command's own error, such as WRONGTYPE: each is looked at below
	if err != nil && !errors.Is(err, redis.Nil) && !errors.As(err, &reply) {
		return nil, fmt.Errorf("read settings: %w", err)
	}
	out := make([]SettingValue, len(all))
	for i, st := range all {
		sv := SettingValue{Setting: st}
		r := reads[i]
		switch {
		case r.str != nil:
			if v, err := r.str.Result(); err == nil {
				sv.Stored.Text, sv.IsSet = v, true
			} else if !errors.Is(err, redis.Nil) {
				return nil, fmt.Errorf("read setting %s: %w (is %s a string?)", st.Name, err, configKey(st.Name))
			}
		case r.list != nil:
			list, err := r.list.Result()
			if err != nil && strings.HasPrefix(err.Error(), "WRONGTYPE") {
				// The original dotm's form: one string, networks
				// separated by spaces.
				list, err = s.listAsString(ctx, configKey(st.Name))
			}
			if err != nil {
				return nil, fmt.Errorf("read setting %s: %w (is %s a list?)", st.Name, err, configKey(st.Name))
			}
			sv.Stored.List, sv.IsSet = list, len(list) > 0
		case r.hash != nil:
			if err := r.hash.Err(); err != nil {
				return nil, fmt.Errorf("read setting %s: %w (is %s a hash?)", st.Name, err, configKey(st.Name))
			}
			sv.Stored.Hash, sv.IsSet = r.hash.Val(), len(r.hash.Val()) > 0
		}
		out[i] = sv
	}
	return out, nil
}

// listAsString reads a list setting stored as one string, its elements
// separated by spaces or commas.
func (s *Store) listAsString(ctx context.Context, key string) ([]string, error) {
	v, err := s.rdb.Get(ctx, key).Result()
	if err != nil {
		return nil, err
	}
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || unicode.IsSpace(r) }), nil
}

// SetSetting stores a value (validated by the caller through ParseValue)
// atomically, replacing what was there.
func (s *Store) SetSetting(ctx context.Context, st *domain.Setting, v domain.Value) error {
	if err := st.Validate(v); err != nil {
		return err
	}
	k := configKey(st.Name)
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, k)
		switch st.Kind {
		case domain.Text:
			p.Set(ctx, k, v.Text, 0)
		case domain.List:
			if len(v.List) > 0 {
				p.RPush(ctx, k, toAny(v.List)...)
			}
		case domain.Hash:
			if len(v.Hash) > 0 {
				p.HSet(ctx, k, v.Hash)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store setting %s: %w", st.Name, err)
	}
	return nil
}

// UnsetSetting deletes a stored value, so the default applies again.
func (s *Store) UnsetSetting(ctx context.Context, st *domain.Setting) error {
	if err := s.rdb.Del(ctx, configKey(st.Name)).Err(); err != nil {
		return fmt.Errorf("unset setting %s: %w", st.Name, err)
	}
	return nil
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
