package simfleet

import "testing"

func TestDensify(t *testing.T) {
	plain := Generate(300, 1, 14860)
	f := Generate(300, 1, 14860)
	f.Densify(150)
	total := 0
	for i, h := range f.Hosts {
		got := len(h.Report().Sockets)
		if got != h.sockets() {
			t.Fatalf("%s: sockets() = %d, Report lists %d", h.Name, h.sockets(), got)
		}
		if len(h.Out) != len(plain.Hosts[i].Out) || len(h.In) != len(plain.Hosts[i].In) {
			t.Errorf("%s: densifying changed the links", h.Name)
		}
		total += got
	}
	if avg := total / len(f.Hosts); avg < 150 || avg > 152 {
		t.Errorf("%d sockets a host on average, want 150", avg)
	}
}
