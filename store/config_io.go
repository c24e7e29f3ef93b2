package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/lwindolf/dotm/domain"
)

// ExportConfig returns one JSON object of all settings that are set,
// sorted by name. Secrets are masked unless withSecrets.
func (s *Store) ExportConfig(ctx context.Context, withSecrets bool) ([]byte, error) {
	cfg, err := s.Config(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]json.RawMessage{}
	for _, sv := range cfg {
		if !sv.IsSet {
			continue
		}
		b, err := sv.JSON(sv.Stored, !withSecrets)
		if err != nil {
			return nil, fmt.Errorf("export setting %s: %w", sv.Name, err)
		}
		out[sv.Name] = b
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ImportConfig reads what ExportConfig wrote and stores every setting in
// it. All values are checked first: one bad value changes nothing. A
// masked secret keeps the value stored now.
func (s *Store) ImportConfig(ctx context.Context, data []byte) error {
	var in map[string]json.RawMessage
	if err := json.Unmarshal(data, &in); err != nil {
		return fmt.Errorf("settings to import must be one JSON object as written by dotm config export: %w", err)
	}
	current, err := s.Config(ctx)
	if err != nil {
		return err
	}
	type update struct {
		st *domain.Setting
		v  domain.Value
	}
	var updates []update
	for _, name := range slices.Sorted(maps.Keys(in)) {
		st, err := domain.Lookup(name)
		if err != nil {
			return err
		}
		raw := string(in[name])
		if st.Kind == domain.Text {
			if err := json.Unmarshal(in[name], &raw); err != nil {
				return fmt.Errorf("setting %s: want a JSON string: %w", name, err)
			}
		}
		v, err := st.ParseValue(raw)
		if err != nil {
			return err
		}
		keepMaskedSecrets(st, v, current)
		updates = append(updates, update{st, v})
	}
	for _, u := range updates {
		if err := s.SetSetting(ctx, u.st, u.v); err != nil {
			return err
		}
	}
	return nil
}

func keepMaskedSecrets(st *domain.Setting, v domain.Value, current []SettingValue) {
	for _, f := range st.Fields {
		if f.Type != domain.FieldSecret && f.Type != domain.FieldURL || f.Type == domain.FieldSecret && v.Hash[f.Name] != domain.Mask {
			continue
		}
		for _, sv := range current {
			if sv.Name == st.Name {
				old, ok := sv.Stored.Hash[f.Name]
				if f.Type == domain.FieldURL {
					// A masked URL from an export means: keep the stored one.
					if ok && v.Hash[f.Name] != old && v.Hash[f.Name] == domain.RedactURL(old) {
						v.Hash[f.Name] = old
					}
					continue
				}
				if ok {
					v.Hash[f.Name] = old
				} else {
					delete(v.Hash, f.Name)
				}
			}
		}
	}
}
