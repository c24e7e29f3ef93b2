package layout

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lwindolf/dotm/internal/redistest"
)

// nodeJobs are n node graphs as the site lays them out: the node graphs of
// testdata/site and testdata/hostile in turn, each made distinct by its
// graph comment so that none is the same as another.
func nodeJobs(n int) map[string][]byte {
	var src [][]byte
	for _, set := range []map[string][]byte{siteJobs(), hostileJobs()} {
		for _, name := range slices.Sorted(maps.Keys(set)) {
			if strings.HasPrefix(name, "node-") {
				src = append(src, set[name])
			}
		}
	}
	jobs := make(map[string][]byte, n)
	for i := range n {
		jobs[fmt.Sprintf("node-%05d", i)] = fmt.Appendf(nil, "// graph %d\n%s", i, src[i%len(src)])
	}
	return jobs
}

// childCPU is the CPU time (user and system) of the finished child
// processes so far.
func childCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkNativeLayout lays out 2,000 node graphs with the system's dot,
// without cache, and reports the CPU time of the dot processes as
// cpu-s/op.
func BenchmarkNativeLayout(b *testing.B) {
	redistest.Require(b, "dot")
	jobs := nodeJobs(2000)
	cpu := childCPU(b)
	for b.Loop() {
		svgs, err := (&Layouter{Engine: EngineNative}).LayoutAll(context.Background(), jobs)
		if err != nil || len(svgs) != len(jobs) {
			b.Fatalf("%d of %d laid out: %v", len(svgs), len(jobs), err)
		}
	}
	b.ReportMetric((childCPU(b)-cpu).Seconds()/float64(b.N), "cpu-s/op")
}
