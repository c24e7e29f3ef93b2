package main

import (
	"errors"
	"time"

	"github.com/spf13/pflag"

	"github.com/lwindolf/dotm/analyze"
	"github.com/lwindolf/dotm/collect"
	"github.com/lwindolf/dotm/internal/runmetrics"
)

// metricsFlag registers --metrics-file on a command's flags.
func metricsFlag(fs *pflag.FlagSet, file *string) {
	fs.StringVar(file, "metrics-file", "", "write this run's metrics to FILE (node_exporter textfile collector format, "+
		"e.g. /var/lib/prometheus/node-exporter/dotm.prom; shared by collect, render and report)")
}

// runMetrics gathers one command's metrics and writes them when it ends.
type runMetrics struct {
	file, command string
	start         time.Time
	skipped       bool // a collect that stepped aside: no success to record
	fams          []runmetrics.Family
}

// startMetrics starts the clock of command ("collect", "render",
// "report"); with file "" nothing is written.
func startMetrics(file, command string) *runMetrics {
	return &runMetrics{file: file, command: command, start: time.Now()}
}

func (r *runMetrics) add(f ...runmetrics.Family) { r.fams = append(r.fams, f...) }

// collected records a collect run's summary.
func (r *runMetrics) collected(sum collect.Summary) {
	failed := float64(len(sum.Failed))
	r.add(runmetrics.Family{Name: "dotm_collect_nodes", Help: "Nodes of the last collect run, by whether their fetch succeeded.",
		Samples: []runmetrics.Sample{
			{Labels: [][2]string{{"state", "ok"}}, Value: float64(sum.Nodes) - failed},
			{Labels: [][2]string{{"state", "failed"}}, Value: failed}}},
		runmetrics.Gauge("dotm_collect_skipped", "1 when the last collect run stepped aside for another holding the update lock.",
			runmetrics.Bool(sum.Skipped)))
	up := runmetrics.Family{Name: "dotm_monitoring_source_up", Help: "1 when the monitoring source answered the last collect run."}
	hosts := runmetrics.Family{Name: "dotm_monitoring_source_hosts", Help: "Hosts the monitoring source reported in the last collect run."}
	for _, s := range sum.Sources {
		l := [][2]string{{"source", runmetrics.SourceLabel(s.Source)}}
		up.Samples = append(up.Samples, runmetrics.Sample{Labels: l, Value: runmetrics.Bool(s.Err == "")})
		hosts.Samples = append(hosts.Samples, runmetrics.Sample{Labels: l, Value: float64(s.Hosts)})
	}
	if len(up.Samples) > 0 {
		r.add(up, hosts)
	}
	r.skipped = sum.Skipped
}

// rendered records what a render published.
func (r *runMetrics) rendered(m *analyze.Model) {
	r.add(runmetrics.Gauge("dotm_render_nodes", "Nodes on the site the last render published.", float64(len(m.Nodes))))
	r.add(findingsFamily("dotm_findings", "Findings on the site the last render published, by kind.", analyze.FindingsOf(m, 0)))
}

// reported records the findings a report listed.
func (r *runMetrics) reported(f *analyze.Findings) {
	r.add(findingsFamily("dotm_report_findings", "Findings the last report listed (within its --since), by kind.", f))
}

func findingsFamily(name, help string, f *analyze.Findings) runmetrics.Family {
	fam := runmetrics.Family{Name: name, Help: help}
	for _, k := range []struct {
		kind string
		n    int
	}{
		{"unused", len(f.Unused)}, {"disconnected", len(f.Disconnected)}, {"unmonitored", len(f.Unmonitored)},
		{"unmapped_check", len(f.UnmappedChecks)}, {"missing_monitoring", len(f.MissingMonitoring)},
		{"fetch_error", len(f.FetchErrors)}, {"store_problem", len(f.StoreProblems)},
		{"stale_collection", int(runmetrics.Bool(f.StaleCollection))},
	} {
		fam.Samples = append(fam.Samples, runmetrics.Sample{Labels: [][2]string{{"kind", k.kind}}, Value: float64(k.n)})
	}
	return fam
}

// done writes the metrics of a run that ended with err and returns err,
// joined with a failure to write them.
func (r *runMetrics) done(err error) error {
	if r.file == "" {
		return err
	}
	cmd := r.command
	p := "dotm_" + cmd + "_"
	now := time.Now()
	ok := err == nil || errors.As(err, &findingsError{})
	owned := []string{p + "duration_seconds", p + "success", p + "last_run_timestamp_seconds"}
	switch cmd {
	case "collect":
		owned = append(owned, "dotm_collect_nodes", "dotm_collect_skipped", "dotm_monitoring_source_up", "dotm_monitoring_source_hosts")
	case "render":
		owned = append(owned, "dotm_render_nodes", "dotm_findings")
	}
	fams := append(r.fams,
		runmetrics.Gauge(p+"duration_seconds", "Wall time of the last dotm "+cmd+" run.", now.Sub(r.start).Seconds()),
		runmetrics.Gauge(p+"success", "1 when the last dotm "+cmd+" run succeeded.", runmetrics.Bool(ok)),
		runmetrics.Gauge(p+"last_run_timestamp_seconds", "When the last dotm "+cmd+" run ended (unix seconds).", float64(now.Unix())))
	if ok && !r.skipped {
		fams = append(fams, runmetrics.Gauge(p+"last_success_timestamp_seconds",
			"When a dotm "+cmd+" run last succeeded (unix seconds).", float64(now.Unix())))
	}
	return errors.Join(err, runmetrics.Write(r.file, owned, fams))
}
