package analyze

// NodeCount is how many distinct nodes run the process (a node with the
// process on several ports counts once), as the service graph shows it.
func (p *Process) NodeCount() int {
	nodes := map[string]bool{}
	for _, sv := range p.Services {
		nodes[sv.Node] = true
	}
	return len(nodes)
}

// LiveTotals are the overview's service and connection counts, computed
// as the history pages compute a snapshot's size (domain.Architecture's
// Totals): what the nodes' last successful fetch showed, each connection
// between two nodes once.
func (m *Model) LiveTotals() (services, connections int) {
	t := m.Current.Architecture(0).Totals()
	return t.Services, t.Connections
}
