package collect

import (
	"maps"
	"slices"
	"testing"

	"github.com/lwindolf/dotm/store"
)

// TestFetchersAreTheStoreMethods: every fetch method a node may name
// (store.Methods, which the settings and node specs are checked against)
// has a fetcher, and there is no fetcher no node could name.
func TestFetchersAreTheStoreMethods(t *testing.T) {
	got := slices.Sorted(maps.Keys(Fetchers()))
	want := slices.Sorted(slices.Values(store.Methods()))
	if !slices.Equal(got, want) {
		t.Errorf("fetchers %v, store methods %v: one list must follow the other", got, want)
	}
}
