package layout

import (
	"os"
	"testing"

	"github.com/lwindolf/dotm/internal/bintest"
)

// TestMain puts dotm-layout, the embedded engine's program, in PATH.
func TestMain(m *testing.M) { os.Exit(bintest.WithLayout(m).Run()) }
