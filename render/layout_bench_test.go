package render

import (
	"context"
	"fmt"
	"testing"

	"github.com/lwindolf/dotm/analyze"
	"github.com/lwindolf/dotm/internal/redistest"
	"github.com/lwindolf/dotm/render/layout"
	"github.com/lwindolf/dotm/store"
)

func benchFleet(n int) []byte {
	var nodes []*analyze.Node
	name := func(i int) string { return fmt.Sprintf("h%03d-%c", i, 'a'+i%26) }
	for i := range n {
		nd := &analyze.Node{Node: store.Node{Name: name(i)}, Services: []store.Service{svc(8000+i%7, fmt.Sprintf("proc%d", i%7), "")}}
		for _, j := range []int{i*3 + 1, i*3 + 2, i*3 + 3} {
			if j < n {
				nd.Connections = append(nd.Connections, out(fmt.Sprint(8000+j%7), name(j), nd.Services[0].Process))
			}
		}
		nodes = append(nodes, nd)
	}
	m := analyze.NewModel(testNow, testConf(), nodes)
	var names []string
	for _, nd := range m.Nodes {
		names = append(names, nd.Name)
	}
	g := globalGraph(newLinker(m, "", nil), fleetLinks(m), grouper{func(s string) string { return s }}, names)
	return g.bytes()
}

// BenchmarkLayoutGlobal lays out a global graph of 300 nodes (dot) and of
// 1000 nodes (sfdp) with each engine, without cache.
func BenchmarkLayoutGlobal(b *testing.B) {
	for _, n := range []int{300, 1000} {
		dot := benchFleet(n)
		for _, engine := range []string{layout.EngineEmbedded, layout.EngineNative} {
			b.Run(fmt.Sprintf("%s/%d", engine, n), func(b *testing.B) {
				if engine == layout.EngineNative {
					redistest.Require(b, "dot")
				}
				ctx := context.Background()
				for b.Loop() {
					if _, err := (&layout.Layouter{Engine: engine}).SVG(ctx, dot); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
