package site

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLockKeepsRendersApart(t *testing.T) {
	out := filepath.Join(t.TempDir(), "site")
	unlock, err := Lock(context.Background(), out, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Lock(context.Background(), out, 100*time.Millisecond); err == nil ||
		!strings.Contains(err.Error(), "another render is publishing") {
		t.Errorf("second lock: err = %v", err)
	}
	unlock()
	again, err := Lock(context.Background(), out, 100*time.Millisecond)
	if err != nil {
		t.Fatalf("lock not free after unlock: %v", err)
	}
	again()
}
