package collect

import (
	"maps"
	"slices"
	"testing"

	"github.com/lwindolf/dotm/domain"
)

// TestFetchersAreTheStoreMethods: every fetch method a node may name
// (domain.Methods, which the settings and node specs are checked against)
// has a fetcher, and there is no fetcher no node could name.
func TestFetchersAreTheStoreMethods(t *testing.T) {
	got := slices.Sorted(maps.Keys(Fetchers()))
	want := slices.Sorted(slices.Values(domain.Methods()))
	if !slices.Equal(got, want) {
		t.Errorf("fetchers %v, store methods %v: one list must follow the other", got, want)
	}
}
