package collect

import "github.com/lwindolf/dotm/store"

// dirKey tells connections apart within one node: the seed's key parts
// and the direction, so an incoming and an outgoing connection with the
// same port and remote are two.
type dirKey struct{ port, remote, dir string }

func dirKeyOf(c store.Connection) dirKey { return dirKey{c.Port, c.Remote, c.Direction} }

// splitDirections applies the rule for an incoming and an outgoing
// connection that share port and remote (a web server that serves :443
// to the Internet and calls an Internet API on :443): the incoming one
// keeps the seed's key, the outgoing one is stored under that key plus
// "::out" (store.Connection.Split). An outgoing connection is split
// exactly when the node has, after this run, an incoming one with the
// same port and remote, seen now or kept from before; so the same facts
// give the same keys every run, whatever the order of the socket lines.
// A stored outgoing connection whose state changed moves to its new key.
func splitDirections(d *store.NodeData, old prior) {
	dropped := map[store.ConnectionID]bool{}
	for _, id := range d.DropConnections {
		dropped[id] = true
	}
	written := map[dirKey]bool{}
	inbound := map[store.ConnectionID]bool{} // seed key parts of incoming connections
	for _, c := range d.Connections {
		written[dirKeyOf(c)] = true
		if c.Direction == store.In {
			inbound[seedID(c)] = true
		}
	}
	for id, c := range old.connections {
		if c.Direction == store.In && !dropped[id] {
			inbound[seedID(c)] = true
		}
	}
	for i, c := range d.Connections {
		if c.Direction == store.Out {
			d.Connections[i].Split = inbound[seedID(c)]
		}
	}
	for id, c := range old.connections {
		if c.Direction != store.Out || dropped[id] {
			continue
		}
		want := inbound[seedID(c)]
		if id.Split && !want {
			// Its incoming twin is gone: back to the seed's key.
			d.DropConnections = append(d.DropConnections, id)
		}
		if !written[dirKeyOf(c)] && id.Split != want {
			// Not seen now: carry its record to the new key (the seed's
			// key, which it left, now holds the incoming one).
			c.Split = want
			d.Connections = append(d.Connections, c)
		}
	}
}

func seedID(c store.Connection) store.ConnectionID {
	return store.ConnectionID{Port: c.Port, Remote: c.Remote}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
