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
