package runmetrics

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// parse reads a metrics file with Prometheus' own text parser, as the
// textfile collector does: a file it refuses fails the test.
func parse(t *testing.T, path string) map[string]map[string]float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(f)
	if err != nil {
		b, _ := os.ReadFile(path)
		t.Fatalf("Prometheus' parser refuses %s: %v\n%s", path, err, b)
	}
	out := map[string]map[string]float64{}
	for name, fam := range fams {
		out[name] = map[string]float64{}
		for _, m := range fam.Metric {
			var labels []string
			for _, l := range m.Label {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			out[name][strings.Join(labels, ",")] = m.GetGauge().GetValue()
		}
	}
	return out
}

func TestWriteKeepsOtherFamilies(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dotm.prom")
	err := Write(path, []string{"dotm_collect_duration_seconds"}, []Family{
		Gauge("dotm_collect_duration_seconds", "Wall time.", 1.5),
		Gauge("dotm_collect_last_success_timestamp_seconds", "When.", 1000),
		{Name: "dotm_monitoring_source_up", Help: "Up \\ \"quoted\"\nline.", Samples: []Sample{
			{Labels: [][2]string{{"source", "icinga2+https://h:5665"}}, Value: 1},
			{Labels: [][2]string{{"source", "odd \"name\" \\ with\nnewline"}}, Value: 0}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := Write(path, nil, []Family{Gauge("dotm_render_duration_seconds", "Render.", 2)}); err != nil {
		t.Fatal(err)
	}
	// a failed collect: new duration, no new last success, a source gone
	if err := Write(path, []string{"dotm_monitoring_source_up"}, []Family{Gauge("dotm_collect_duration_seconds", "Wall time.", 3)}); err != nil {
		t.Fatal(err)
	}
	got := parse(t, path)
	for name, want := range map[string]float64{
		"dotm_collect_duration_seconds": 3, "dotm_collect_last_success_timestamp_seconds": 1000, "dotm_render_duration_seconds": 2,
	} {
		if v, ok := got[name][""]; !ok || v != want {
			t.Errorf("%s = %v (present %v), want %v", name, v, ok, want)
		}
	}
	if _, ok := got["dotm_monitoring_source_up"]; ok {
		t.Errorf("dotm_monitoring_source_up kept though its owner rewrote the file without it")
	}
	if len(got) != 3 {
		t.Errorf("families %v, want 3", got)
	}
	matches, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".dotm.prom.tmp-*"))
	if len(matches) > 0 {
		t.Errorf("temporary files left: %v", matches)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("metrics file mode %v (%v), want 0644 for the collector", fi.Mode(), err)
	}
}

func TestLabelEscaping(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.prom")
	odd := "odd \"name\" \\ with\nnewline"
	if err := Write(path, nil, []Family{{Name: "dotm_x", Help: "Help \\ with\nnewline.", Samples: []Sample{
		{Labels: [][2]string{{"source", odd}}, Value: 0.25}}}}); err != nil {
		t.Fatal(err)
	}
	if v, ok := parse(t, path)["dotm_x"]["source="+odd]; !ok || v != 0.25 {
		t.Errorf("dotm_x{source=%q} = %v, %v", odd, v, ok)
	}
}

func TestSourceLabel(t *testing.T) {
	for in, want := range map[string]string{
		"icinga2+https://dotm:s3cret@mon.example.com:5665": "icinga2+https://mon.example.com:5665",
		"nagios+https://u:p@h/nagios4/cgi-bin?token=abc#x": "nagios+https://h/nagios4/cgi-bin",
		"livestatus+unix:///run/naemon/live":               "livestatus+unix:///run/naemon/live",
		"/var/lib/nagios4/status.dat":                      "/var/lib/nagios4/status.dat",
		"livestatus+tcp://user:pa%zz@10.0.0.1:6557":        "livestatus+tcp://10.0.0.1:6557",
	} {
		if got := SourceLabel(in); got != want {
			t.Errorf("SourceLabel(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestHostileMetricsDirectory: the metrics directory may be shared (the
// textfile collector's); what another user planted there is neither
// followed nor copied into the file dotm writes.
func TestHostileMetricsDirectory(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("root:$6$hash:19000:0:99999:7:::\ndotm_fake 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	gauge := []Family{Gauge("dotm_render_duration_seconds", "Render.", 2)}

	link := filepath.Join(dir, "link.prom")
	if err := os.Symlink(secret, link); err != nil {
		t.Fatal(err)
	}
	if err := Write(link, nil, gauge); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a symbolic link as the metrics file: err = %v, want it refused", err)
	}
	lockLink := filepath.Join(dir, "l.prom")
	if err := os.Symlink(filepath.Join(t.TempDir(), "made-by-dotm"), lockLink+".lock"); err != nil {
		t.Fatal(err)
	}
	if err := Write(lockLink, nil, gauge); err == nil || !strings.Contains(err.Error(), "lock") {
		t.Errorf("a symbolic link as the lock file: err = %v, want it refused", err)
	}

	// Lines of other programs in the file are dropped, dotm's kept.
	mixed := filepath.Join(dir, "mixed.prom")
	if err := os.WriteFile(mixed, []byte("# HELP other_metric x\nother_metric 5\n# TYPE dotm_collect_duration_seconds gauge\n"+
		"dotm_collect_duration_seconds 1\nnot a metric line\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Write(mixed, nil, gauge); err != nil {
		t.Fatal(err)
	}
	got := parse(t, mixed)
	if _, ok := got["other_metric"]; ok || got["dotm_collect_duration_seconds"][""] != 1 || len(got) != 2 {
		t.Errorf("families after rewriting a mixed file: %v, want dotm's two only", got)
	}

	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("the check of a file another user owns needs root (chown)")
		}
		t.Skip("the check of a file another user owns needs root (chown)")
	}
	theirs := filepath.Join(dir, "theirs.prom")
	if err := os.WriteFile(theirs, []byte("dotm_collect_nodes 999\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(theirs, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if err := Write(theirs, nil, gauge); err == nil || !strings.Contains(err.Error(), "owned by another user") {
		t.Errorf("a file another user owns: err = %v, want it refused", err)
	}
}
