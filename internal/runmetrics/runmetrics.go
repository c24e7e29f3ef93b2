// Package runmetrics writes the metrics of dotm's own runs in the text
// format of node_exporter's textfile collector, the way cron jobs expose
// their health to Prometheus: how long a collect or render took, how many
// nodes failed, when the last run succeeded, which monitoring source was
// up, how many findings there are.
//
// Several commands may share one file (dotm-cron points collect and render
// at the same DOTM_METRICS_FILE): each write replaces the families it
// owns and keeps the others', so the last success of a collect survives a
// render, and a failed run keeps the previous success time.
package runmetrics

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/gofrs/flock"
)

// Sample is one value of a family, with its labels (name, value pairs).
type Sample struct {
	Labels [][2]string
	Value  float64
}

// Family is one metric: a gauge with its help text and samples.
type Family struct {
	Name, Help string
	Samples    []Sample
}

// Gauge is a family of one sample without labels.
func Gauge(name, help string, v float64) Family {
	return Family{Name: name, Help: help, Samples: []Sample{{Value: v}}}
}

// Bool is 1 for true, 0 for false.
func Bool(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Write puts the families into the file path, replacing the families of
// the same names and those named in owned (a command's families it did
// not write this time are dropped, e.g. a source no longer read), and
// keeping every other family already there. The file is written to a
// temporary file in its directory and renamed over it, so the textfile
// collector never reads half a file; writers of the same file take turns
// (a lock file path+".lock" beside it).
func Write(path string, owned []string, fams []Family) error {
	dir := filepath.Dir(path)
	lock := flock.New(path + ".lock")
	if err := lock.Lock(); err != nil {
		return fmt.Errorf("metrics file %s: %w (its directory must exist and be writable for this user)", path, err)
	}
	defer lock.Unlock()
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("metrics file %s: %w", path, err)
	}
	replaced := slices.Clone(owned)
	for _, f := range fams {
		replaced = append(replaced, f.Name)
	}
	var b bytes.Buffer
	b.Write(keep(old, replaced))
	for _, f := range fams {
		writeFamily(&b, f)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return fmt.Errorf("metrics file %s: %w (its directory must be writable for this user)", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b.Bytes()); err != nil {
		tmp.Close()
		return fmt.Errorf("metrics file %s: %w", path, err)
	}
	// readable by the textfile collector, which runs as another user
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("metrics file %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("metrics file %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("metrics file %s: %w", path, err)
	}
	return nil
}

// keep returns the lines of old that belong to no family in names: the
// other commands' families. A family's lines are its # HELP and # TYPE
// comments and its samples (name, or name{labels}, then the value).
func keep(old []byte, names []string) []byte {
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(old))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if slices.Contains(names, familyOf(line)) {
			continue
		}
		out.WriteString(line + "\n")
	}
	return out.Bytes()
}

func familyOf(line string) string {
	if rest, ok := strings.CutPrefix(line, "# HELP "); ok {
		line = rest
	} else if rest, ok := strings.CutPrefix(line, "# TYPE "); ok {
		line = rest
	}
	end := strings.IndexAny(line, " {")
	if end < 0 {
		return line
	}
	return line[:end]
}

func writeFamily(b *bytes.Buffer, f Family) {
	fmt.Fprintf(b, "# HELP %s %s\n# TYPE %s gauge\n", f.Name, escapeHelp(f.Help), f.Name)
	for _, s := range f.Samples {
		b.WriteString(f.Name)
		if len(s.Labels) > 0 {
			parts := make([]string, len(s.Labels))
			for i, l := range s.Labels {
				parts[i] = l[0] + `="` + escapeLabel(l[1]) + `"`
			}
			b.WriteString("{" + strings.Join(parts, ",") + "}")
		}
		b.WriteString(" " + formatValue(s.Value) + "\n")
	}
}

func formatValue(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case v == math.Trunc(v) && math.Abs(v) < 1e15:
		return strconv.FormatFloat(v, 'f', 0, 64) // timestamps as 1796227475, not 1.796227475e+09
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// escapeHelp and escapeLabel escape as the text format asks: backslash
// and newline in help texts, and the double quote too in label values.
func escapeHelp(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(s)
}

func escapeLabel(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`).Replace(s)
}

// SourceLabel is a monitoring source as a label value: a URL without its
// user name, password, query and fragment (where tokens go), a path as
// it is.
func SourceLabel(source string) string {
	u, err := url.Parse(source)
	if err != nil || u.Scheme == "" || u.Opaque != "" {
		if i := strings.LastIndex(source, "@"); strings.Contains(source, "://") && i >= 0 {
			// unparsable URL with userinfo: keep what follows the @
			scheme, _, _ := strings.Cut(source, "://")
			return scheme + "://" + source[i+1:]
		}
		return source
	}
	u.User, u.RawQuery, u.Fragment, u.ForceQuery = nil, "", "", false
	return u.String()
}
