package netinfo_test

import (
	"bytes"
	"runtime"
	"testing"

	"github.com/lwindolf/dotm/collect/netinfo"
	"github.com/lwindolf/dotm/collect/simfleet"
)

// BenchmarkParsedRetained parses the agent answers of a simulated fleet
// of 2,000 hosts (150 sockets each, as dotm-bench) and keeps every
// parsed host, as collect holds a batch of hosts until it is aggregated.
// It reports the heap the parsed hosts keep alive, per host: what a
// socket's strings hold on to of its input line shows here.
func BenchmarkParsedRetained(b *testing.B) {
	f := simfleet.Generate(2000, 1, 4848)
	f.Densify(150)
	answers := make([][]byte, len(f.Hosts))
	for i, h := range f.Hosts {
		var buf bytes.Buffer
		if err := netinfo.WriteAgent(&buf, h.Report()); err != nil {
			b.Fatal(err)
		}
		answers[i] = buf.Bytes()
	}
	var perHost float64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		kept := make([]*netinfo.Host, len(answers))
		for i, a := range answers {
			h, err := netinfo.ParseAgent(bytes.NewReader(a))
			if err != nil {
				b.Fatal(err)
			}
			kept[i] = h
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		perHost = float64(after.HeapAlloc-before.HeapAlloc) / float64(len(kept))
		runtime.KeepAlive(kept)
	}
	b.ReportMetric(perHost, "retained-B/host")
}
