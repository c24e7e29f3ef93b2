package simfleet

// Densify adds client connections to the fleet's existing edges until
// its hosts report perHost sockets on average, so that a benchmark's hosts
// carry as many sockets as busy real ones (about 150) while the graph
// keeps the same links. Hosts below perHost get the connections, one per
// pass each, on their edges in turn. It is deterministic, and a fleet that
// is not densified stays exactly as Generate made it.
func (f *Fleet) Densify(perHost int) {
	count := map[*Host]int{}
	total := 0
	for _, h := range f.Hosts {
		count[h] = h.sockets()
		total += count[h]
	}
	want := perHost * len(f.Hosts)
	for pass, grew := 0, true; grew && total < want; pass++ {
		grew = false
		for _, h := range f.Hosts {
			edges := len(h.Out) + len(h.In)
			if edges == 0 || count[h] >= perHost || total >= want {
				continue
			}
			e := h.edge(pass % edges)
			e.Count++
			for _, end := range []*Host{e.From, e.To} {
				if end != nil {
					count[end]++
					total++
				}
			}
			grew = true
		}
	}
}

// edge is the host's i-th edge, its Out ones first.
func (h *Host) edge(i int) *Edge {
	if i < len(h.Out) {
		return h.Out[i]
	}
	return h.In[i-len(h.Out)]
}

// sockets is how many sockets h.Report lists, without building it.
func (h *Host) sockets() int {
	n := 2 + len(h.Services) // sshd and the agent listen too
	if h.Tier != "bastion" {
		n++ // the admin's ssh session
	}
	for _, e := range h.Out {
		n += e.Count + 1 // and a TIME_WAIT leftover
	}
	for _, e := range h.In {
		n += e.Count
	}
	return n
}
