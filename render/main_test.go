package render

import (
	"flag"
	"os"
	"testing"

	"github.com/lwindolf/dotm/internal/bintest"
)

// update rewrites render/layout/testdata (TestLayoutFixtures).
var update = flag.Bool("update", false, "rewrite the DOT fixtures of render/layout/testdata")

// TestMain puts dotm-layout, the embedded engine's program, in PATH.
func TestMain(m *testing.M) { os.Exit(bintest.WithLayout(m).Run()) }
