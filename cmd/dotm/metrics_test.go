package main

import (
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/rogpeppe/go-internal/testscript"
)

// promCheckCmd is the testscript command prom-check FILE: FILE must be
// read by Prometheus' own text-format parser, as node_exporter's textfile
// collector reads it; its samples go to stdout, one "name{labels} value"
// a line, sorted, for the script to match.
func promCheckCmd(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: prom-check FILE")
	}
	f, err := os.Open(ts.MkAbs(args[0]))
	ts.Check(err)
	defer f.Close()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(f)
	if neg {
		if err == nil {
			ts.Fatalf("Prometheus' parser reads %s", args[0])
		}
		return
	}
	if err != nil {
		ts.Fatalf("Prometheus' parser refuses %s: %v", args[0], err)
	}
	var lines []string
	for name, fam := range fams {
		for _, m := range fam.Metric {
			var labels []string
			for _, l := range m.Label {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			lines = append(lines, name+"{"+strings.Join(labels, ",")+"} "+strconv.FormatFloat(m.GetGauge().GetValue(), 'f', -1, 64))
		}
	}
	sort.Strings(lines)
	ts.Stdout().Write([]byte(strings.Join(lines, "\n") + "\n"))
}
