package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

// graphSize counts the node and edge statements of a DOT file written by
// render (one statement a line).
func graphSize(path string) (nodes, edges int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := strings.TrimLeft(sc.Text(), "\t")
		id, _, ok := strings.Cut(line, " [")
		switch {
		case !ok || line == sc.Text():
		case strings.Contains(id, " -> "):
			edges++
		case id != "graph" && id != "node" && id != "edge":
			nodes++
		}
	}
	return nodes, edges, sc.Err()
}

// writeTable prints the rows as a Markdown table.
func writeTable(w io.Writer, c config, rows []row) {
	fmt.Fprintf(w, "| hosts | sockets | collect, Redis | collect, embedded | render cold, embedded | render warm | render cold, native | global graph |\n")
	fmt.Fprintf(w, "|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rows {
		native := "–"
		if !c.noNative {
			native = r.renderNative.String()
		}
		fmt.Fprintf(w, "| %d | %d | %s | %s | %s | %s | %s | %d nodes, %d edges |\n", r.hosts, r.sockets,
			r.collectRedis, r.collectEmbedded, r.renderCold, r.warm, native, r.graphNodes, r.graphEdg)
	}
}
