package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// With DOTM_METRICS_FILE set, the cron wrapper has collect and render
// write their metrics into that one file, and dotm-cron report too.
func TestCronWrapperMetricsFile(t *testing.T) {
	c := newCronSetup(t)
	prom := filepath.Join(c.dir, "node exporter", "dotm.prom") // a space: quoted through
	if err := os.MkdirAll(filepath.Dir(prom), 0o755); err != nil {
		t.Fatal(err)
	}
	stop := c.serve(t)
	out, err := c.wrapper(1767225600, "DOTM_METRICS_FILE="+prom).CombinedOutput()
	stop()
	if err != nil || len(out) > 0 {
		t.Fatalf("dotm-cron run: %v, output (want none):\n%s", err, out)
	}
	report := c.wrapper(1767225600, "DOTM_METRICS_FILE="+prom)
	report.Args[1] = "report"
	if out, err := report.CombinedOutput(); err != nil {
		t.Fatalf("dotm-cron report: %v\n%s", err, out)
	}
	b, err := os.ReadFile(prom)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"\ndotm_collect_success 1\n", `dotm_collect_nodes{state="failed"} 0`,
		"\ndotm_render_success 1\n", `dotm_findings{kind="unused"}`, "\ndotm_report_success 1\n"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %q:\n%s", prom, want, b)
		}
	}
}
