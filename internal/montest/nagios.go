package montest

import (
	"bufio"
	"bytes"
	"context"
	"embed"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"os/user"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lwindolf/dotm/internal/redistest"
)

// nagiosConfig is the Nagios configuration, with @DIR@, @USER@, @GROUP@
// and the port placeholders of Listeners.Replacer to replace. It holds 4
// hosts and 18 services; see nagios4/objects.
//
//go:embed nagios4
var nagiosConfig embed.FS

// Where Debian's packages (nagios4-core, nagios4-cgi,
// monitoring-plugins-basic) install what the tests run.
const (
	NagiosBinary = "nagios4"
	NagiosCGIDir = "/usr/lib/cgi-bin/nagios4"
	PluginDir    = "/usr/lib/nagios/plugins"
)

// CGIPath is where Nagios.CGI serves the CGIs, as Debian's Apache
// configuration does.
const CGIPath = "/nagios4/cgi-bin"

// plugins are the check plugins the configuration runs.
var plugins = []string{"check_tcp", "check_http", "check_disk", "check_load", "check_ntp_time", "check_dummy"}

// Nagios is a throw-away Nagios Core 4 daemon started for a test.
type Nagios struct {
	Dir          string // the configuration and state directory
	Config       string // the main configuration file, nagios.cfg
	StatusDat    string // the status file
	ObjectsCache string // the object cache file, next to StatusDat
	CommandFile  string // the external command FIFO
	Log          string // nagios.log
	// Listeners are the fake services this daemon's checks probe.
	Listeners *Listeners
	daemon
}

// StartNagios starts Nagios Core 4 with the configuration in nagios4/ in a
// new directory, after the fake services it probes (StartListeners, on
// free ports written into the configuration), and stops it when the test
// ends. Each extra string is an object configuration file added to
// objects/, with the same placeholders filled in. It returns once the daemon wrote
// its first status.dat; call WaitChecked before looking at results.
//
// The daemon runs as a child of the test binary, as the user running the
// test (nagios_user is set to it), so the test needs no root and no
// "nagios" user, and a killed test binary takes the daemon with it (on
// Linux). The directory is a short one under os.TempDir(), because the
// query socket path must fit in 108 bytes. Missing nagios4, plugins or
// the CGI skip the test, or fail it under CI=true.
func StartNagios(t testing.TB, extra ...string) *Nagios {
	t.Helper()
	bin := requireDaemon(t, NagiosBinary, plugins)
	l := StartListeners(t)
	dir, err := os.MkdirTemp("", "nagios4-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if !t.Failed() {
			_ = os.RemoveAll(dir)
			return
		}
		t.Logf("nagios: kept %s for inspection", dir)
	})
	n := newNagios(dir)
	n.Listeners = l
	if err := n.writeConfig(extra); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-v", n.Config).CombinedOutput(); err != nil {
		t.Fatalf("nagios4 -v %s: %v\n%s", n.Config, err, out)
	}
	if err := n.start(bin); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Stop(); err != nil {
			t.Errorf("stop nagios: %v", err)
		}
	})
	if err := n.waitFile(n.StatusDat, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	return n
}

// newNagios names the files of a Nagios in dir.
func newNagios(dir string) *Nagios {
	return &Nagios{
		Dir:          dir,
		Config:       filepath.Join(dir, "nagios.cfg"),
		StatusDat:    filepath.Join(dir, "var", "status.dat"),
		ObjectsCache: filepath.Join(dir, "var", "objects.cache"),
		CommandFile:  filepath.Join(dir, "var", "rw", "nagios.cmd"),
		Log:          filepath.Join(dir, "var", "nagios.log"),
	}
}

// writeConfig copies the embedded configuration into n.Dir, filling in
// the directory, the user and the ports, and adds the extra object files.
func (n *Nagios) writeConfig(extra []string) error {
	u, err := user.Current()
	if err != nil {
		return fmt.Errorf("current user: %w", err)
	}
	g, err := user.LookupGroupId(u.Gid)
	if err != nil {
		return fmt.Errorf("group %s: %w", u.Gid, err)
	}
	dirs := strings.NewReplacer("@DIR@", n.Dir, "@USER@", u.Username, "@GROUP@", g.Name)
	ports := n.Listeners.Replacer()
	fill := func(b []byte) []byte { return []byte(ports.Replace(dirs.Replace(string(b)))) }
	err = fs.WalkDir(nagiosConfig, "nagios4", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		dst := filepath.Join(n.Dir, strings.TrimPrefix(p, "nagios4"))
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := nagiosConfig.ReadFile(p)
		if err != nil {
			return err
		}
		mode := os.FileMode(0o644)
		if path.Dir(p) == "nagios4/plugins" {
			mode = 0o755
		}
		return os.WriteFile(dst, fill(b), mode)
	})
	if err != nil {
		return fmt.Errorf("write nagios config to %s: %w", n.Dir, err)
	}
	for i, e := range extra {
		f := filepath.Join(n.Dir, "objects", fmt.Sprintf("extra-%d.cfg", i))
		if err := os.WriteFile(f, fill([]byte(e)), 0o644); err != nil {
			return err
		}
	}
	for _, d := range []string{"var/rw", "var/tmp", "var/checkresults", "var/archives"} {
		if err := os.MkdirAll(filepath.Join(n.Dir, d), 0o755); err != nil {
			return err
		}
	}
	return nil
}

// start runs the daemon in the foreground, as a child of the test binary.
func (n *Nagios) start(bin string) error {
	n.daemon = daemon{name: "nagios", grace: 10 * time.Second}
	cmd := exec.Command(bin, n.Config)
	cmd.Dir = n.Dir
	return n.run(cmd, filepath.Join(n.Dir, "var", "stdout.log"))
}

// waitFile waits until file exists and is not empty, or the daemon died.
func (n *Nagios) waitFile(file string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if fi, err := os.Stat(file); err == nil && fi.Size() > 0 {
			return nil
		}
		if n.exited() {
			return fmt.Errorf("nagios exited before writing %s:\n%s", file, n.tail())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("nagios wrote no %s within %v:\n%s", file, limit, n.tail())
}

// WaitChecked waits (up to limit) until every host and service with
// active checks enabled has a check result in status.dat. Hosts and
// services with active checks disabled stay pending and are not waited
// for. The NTP check is the slowest: about 2 s.
func (n *Nagios) WaitChecked(t testing.TB, limit time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	var why string
	for {
		b, err := os.ReadFile(n.StatusDat)
		if err == nil {
			if why = unchecked(b); why == "" {
				return
			}
		} else {
			why = err.Error()
		}
		if n.exited() {
			t.Fatalf("nagios exited:\n%s", n.tail())
		}
		select {
		case <-ctx.Done():
			t.Fatalf("nagios: checks not done after %v: %s\n%s", limit, why, n.tail())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// unchecked names a host or service in a status.dat that still waits for
// its first active check, or returns "" when there is none.
func unchecked(statusDat []byte) string {
	services := 0
	var block map[string]string
	sc := bufio.NewScanner(bytes.NewReader(statusDat))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "hoststatus {" || line == "servicestatus {":
			block = map[string]string{}
		case line == "}" && block != nil:
			if block["service_description"] != "" {
				services++
			}
			if block["has_been_checked"] == "0" && block["active_checks_enabled"] == "1" {
				return fmt.Sprintf("%s %q not checked yet", block["host_name"], block["service_description"])
			}
			block = nil
		case block != nil:
			if k, v, ok := strings.Cut(line, "="); ok {
				block[k] = v
			}
		}
	}
	if services == 0 {
		return "status.dat has no services yet"
	}
	return ""
}

// Command sends an external command, like "SCHEDULE_FORCED_HOST_SVC_CHECKS;cache01;%d",
// to the daemon's command FIFO; the "[time] " prefix is added. Effects
// show in status.dat within about 2 s.
func (n *Nagios) Command(t testing.TB, format string, args ...any) {
	t.Helper()
	f, err := os.OpenFile(n.CommandFile, os.O_WRONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatalf("open nagios command file: %v", err)
	}
	defer f.Close()
	line := fmt.Sprintf("[%d] %s\n", time.Now().Unix(), fmt.Sprintf(format, args...))
	if _, err := f.WriteString(line); err != nil {
		t.Fatalf("write nagios command %q: %v", line, err)
	}
}

// Snapshot copies the current status.dat (Nagios replaces it whole, so
// the copy is consistent) to snapshot-N/status.dat and returns a view of n
// whose StatusDat is the copy and whose Config (snapshot-N.cfg) names it:
// CGIs of the view answer from exactly the copied state, for fixtures
// that agree. The view shares the daemon; its Stop does nothing.
func (n *Nagios) Snapshot(t testing.TB) *Nagios {
	t.Helper()
	b, err := os.ReadFile(n.StatusDat)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := os.ReadFile(n.Config)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp(n.Dir, "snapshot-")
	if err != nil {
		t.Fatal(err)
	}
	v := *n
	v.daemon = daemon{}
	v.StatusDat = filepath.Join(dir, "status.dat")
	v.Config = dir + ".cfg"
	cfg = bytes.ReplaceAll(cfg, []byte("status_file="+n.StatusDat), []byte("status_file="+v.StatusDat))
	if err := os.WriteFile(v.StatusDat, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(v.Config, cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	return &v
}

// CGI returns an http.Handler that runs Nagios' real CGIs (Debian's
// nagios4-cgi) for this daemon under CGIPath, without Apache: it checks
// HTTP basic auth against user and password (401 otherwise) and passes
// the user to the CGI as REMOTE_USER, as Apache's mod_auth_basic would.
// It writes a CGI configuration next to n.Config (nagios.cfg →
// nagios-cgi.cfg) that authorizes user for all hosts and services, and
// points the CGIs at it with NAGIOS_CGI_CONFIG. The CGIs read status.dat
// and objects.cache from the files n.Config names.
func (n *Nagios) CGI(t testing.TB, user, password string) http.Handler {
	t.Helper()
	redistest.Require(t, filepath.Join(NagiosCGIDir, "statusjson.cgi"))
	cfg := strings.TrimSuffix(n.Config, ".cfg") + "-cgi.cfg"
	body := fmt.Sprintf(`main_config_file=%s
physical_html_path=/usr/share/nagios4/htdocs
url_html_path=/nagios4
use_authentication=1
use_ssl_authentication=0
use_pending_states=1
authorized_for_system_information=%[2]s
authorized_for_configuration_information=%[2]s
authorized_for_all_services=%[2]s
authorized_for_all_hosts=%[2]s
`, n.Config, user)
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return &cgiHandler{user: user, password: password, config: cfg, dir: n.Dir}
}

// cgiHandler runs the CGI named by the request path.
type cgiHandler struct {
	user, password, config, dir string
}

func (h *cgiHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u, p, ok := r.BasicAuth()
	if !ok || u != h.user || p != h.password {
		w.Header().Set("WWW-Authenticate", `Basic realm="Nagios Access"`)
		http.Error(w, "401 Unauthorized", http.StatusUnauthorized)
		return
	}
	dir, name := path.Split(r.URL.Path)
	if strings.TrimSuffix(dir, "/") != CGIPath || !strings.HasSuffix(name, ".cgi") {
		http.NotFound(w, r)
		return
	}
	bin := filepath.Join(NagiosCGIDir, name)
	if _, err := os.Stat(bin); err != nil {
		http.NotFound(w, r)
		return
	}
	c := &cgi.Handler{
		Path: bin,
		Root: CGIPath + "/" + name,
		Dir:  h.dir,
		Env:  []string{"NAGIOS_CGI_CONFIG=" + h.config, "REMOTE_USER=" + u},
	}
	c.ServeHTTP(w, r)
}

// tail is the end of nagios.log and the daemon's own output, for errors.
func (n *Nagios) tail() string {
	var b strings.Builder
	for _, f := range []string{n.Log, filepath.Join(n.Dir, "var", "stdout.log")} {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		if len(lines) > 20 {
			lines = lines[len(lines)-20:]
		}
		fmt.Fprintf(&b, "--- %s\n%s\n", f, strings.Join(lines, "\n"))
	}
	return b.String()
}
