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
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/lwindolf/dotm/internal/nofollow"
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
// keeping every other dotm family already there. The file is written to a
// temporary file in its directory and renamed over it, so the textfile
// collector never reads half a file; writers of the same file take turns
// (a lock file path+".lock" beside it).
//
// The directory may be shared with other writers (node_exporter's
// textfile directory): neither the lock nor the old file is opened
// through a symbolic link, an old file another user owns is refused
// rather than read, and only lines of dotm_ families are carried over, so
// nothing planted there ends up in the file dotm writes.
func Write(path string, owned []string, fams []Family) error {
	dir, base := filepath.Split(path)
	dir = cmp.Or(dir, ".")
	lock, err := nofollow.Open(dir, base+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		hint := "its directory must exist and be writable for this user"
		if errors.Is(err, nofollow.ErrNotRegular) {
			hint = "remove it: dotm makes it anew"
		}
		return fmt.Errorf("metrics file %s: lock: %w (%s)", path, err, hint)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("metrics file %s: lock: %w", path, err)
	}
	old, err := readOwn(dir, base)
	if err != nil {
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

// readOwn reads the metrics file base in dir as Write found it: nothing
// when there is none; an error for a symbolic link, anything but a
// regular file, or a file another user owns.
func readOwn(dir, base string) ([]byte, error) {
	f, err := nofollow.Open(dir, base, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w; remove it, dotm writes the file anew", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); !ok || int(st.Uid) != os.Geteuid() {
		return nil, errors.New("owned by another user; remove it, or give each writer a file of its own")
	}
	return io.ReadAll(io.LimitReader(f, maxFile))
}

// maxFile is how much of an old metrics file is read.
const maxFile = 1 << 20

// keep returns the lines of old that belong to a dotm family not in names:
// the other commands' families. A family's lines are its # HELP and # TYPE
// comments and its samples (name, or name{labels}, then the value).
func keep(old []byte, names []string) []byte {
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(old))
	sc.Buffer(make([]byte, 64*1024), maxFile)
	for sc.Scan() {
		line := sc.Text()
		if fam := familyOf(line); !strings.HasPrefix(fam, "dotm_") || slices.Contains(names, fam) {
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
