package montest

import (
	"fmt"
	"math/rand/v2"
	"net"
	"testing"
)

// fleetGuard is the loopback address FleetPort holds its ports on: no
// simulated host has it (simfleet numbers its hosts 127.1.x.y from
// 127.1.0.1, 250 per x, so a fleet would need 63,000 hosts to reach it).
const fleetGuard = "127.1.255.254"

// FleetPort returns an agent port for a simulated fleet
// (simfleet.Generate), free on the fleet's 127.1.x.y addresses, for the
// test. A fleet's hosts all answer on one port, so 127.0.0.1:0 cannot
// choose it. The port is picked at random below Linux's ephemeral range
// (simfleet's client ports are there) and kept reserved until the test
// ends by a listener on fleetGuard: a second FleetPort, in this or any
// other test binary, cannot get it, and no program can listen on it on
// all addresses (0.0.0.0). Only a program that binds exactly a fleet
// address on that port between this call and the fleet's Serve could
// still collide with it.
func FleetPort(t testing.TB) uint16 {
	t.Helper()
	port, release, err := ReserveFleetPort()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(release)
	return port
}

// ReserveFleetPort is FleetPort for callers without a testing.TB (a
// testscript command): release ends the reservation.
func ReserveFleetPort() (port uint16, release func(), err error) {
	for range 200 {
		port := 10000 + rand.IntN(32768-10000)
		guard, err := net.Listen("tcp4", fmt.Sprintf("%s:%d", fleetGuard, port))
		if err != nil {
			continue // another fleet's, or taken on all addresses
		}
		probe, err := net.Listen("tcp4", fmt.Sprintf("127.1.0.1:%d", port))
		if err != nil {
			guard.Close()
			continue
		}
		probe.Close()
		return uint16(port), func() { guard.Close() }, nil
	}
	return 0, nil, fmt.Errorf("no port of 10000-32767 free on %s and 127.1.0.1 in 200 tries", fleetGuard)
}
