package netinfo

import (
	"strings"
	"testing"

	"github.com/lwindolf/dotm/internal/nstest"
)

// nsSockets is a Python program that enters each named namespace (setns
// through /run/netns) and makes a listener on 127.0.0.1:8080 there with a
// connection to it, so every namespace has three sockets; it says "ready
// 0" and holds them.
const nsSockets = `import ctypes, socket, sys, time
libc = ctypes.CDLL(None, use_errno=True)
held = []
for name in sys.argv[1:]:
    with open("/run/netns/" + name) as f:
        if libc.setns(f.fileno(), 0x40000000) != 0:
            raise OSError(ctypes.get_errno(), "setns " + name)
    l = socket.socket()
    l.bind(("127.0.0.1", 8080))
    l.listen(4)
    c = socket.create_connection(("127.0.0.1", 8080))
    held += [l, c, l.accept()[0]]
print("ready 0", flush=True)
time.sleep(3600)
`

// BenchmarkReadHost200Netns reads a host with 200 network namespaces made
// by the benchmark, each with a process (sleep) and three sockets, as the
// agent does for every answer.
func BenchmarkReadHost200Netns(b *testing.B) {
	nstest.Need(b)
	const n = 200
	names := make([]string, n)
	for i := range names {
		names[i] = nstest.Netns(b)
		nstest.Start(b, names[i], "sh", "-c", "echo ready 0; exec sleep 3600")
	}
	nstest.Start(b, "", append([]string{"python3", "-c", nsSockets}, names...)...)
	b.ResetTimer()
	for b.Loop() {
		h, err := ReadHost("/proc", Namer{Root: "/"})
		if err != nil {
			b.Fatal(err)
		}
		found := 0
		for _, ns := range h.Netns {
			if strings.HasPrefix(ns.Name, "dotmt") {
				found++
			}
		}
		if found < n {
			b.Fatalf("%d of the %d namespaces read", found, n)
		}
		if got := len(find(h, names[0], 8080, StateListen)); got != 1 {
			b.Fatalf("namespace %s: %d listeners on 8080", names[0], got)
		}
	}
	b.ReportMetric(float64(n), "namespaces")
}
