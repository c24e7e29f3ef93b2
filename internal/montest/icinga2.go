package montest

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lwindolf/dotm/internal/redistest"
)

// icinga2Config is the Icinga 2 configuration (etc/) and its fake check
// plugin (plugins/): 4 hosts, 18 services, the REST API and Livestatus.
//
//go:embed icinga2
var icinga2Config embed.FS

// Icinga2Binary is the daemon Debian's icinga2-bin package installs
// (/usr/sbin/icinga2, a shell wrapper that execs the real binary).
const Icinga2Binary = "icinga2"

// Icinga2 API credentials and node name of the configuration in icinga2/.
const (
	Icinga2User     = "ci"
	Icinga2Password = "ci-secret"
	Icinga2NodeName = "icinga2-ci" // the certificate's CN, also NodeName
)

// icinga2Plugins are the check plugins the configuration runs (the ITL
// "dummy" command is built in and needs none).
var icinga2Plugins = []string{"check_tcp", "check_http", "check_disk", "check_load", "check_ntp_time"}

// Icinga2 is a throw-away Icinga 2 daemon started for a test.
type Icinga2 struct {
	// APIURL is the REST API, https://127.0.0.1:PORT (no path).
	APIURL string
	// CAFile is the PEM CA that signed the API certificate; the
	// certificate names 127.0.0.1, localhost and icinga2-ci.
	CAFile         string
	User, Password string
	// LivestatusSocket is the Livestatus unix socket.
	LivestatusSocket string
	// LivestatusTCP is the Livestatus TCP listener, 127.0.0.1:PORT.
	LivestatusTCP string
	// Dir holds etc/, plugins/, var/ (state, logs, certificates) and run/.
	Dir string
	// Log is the daemon's main log.
	Log string
	// Started is how long the start took, from certificates to the last
	// check result.
	Started time.Duration
	// Listeners are the fake services this daemon's checks probe.
	Listeners *Listeners

	apiPort, lsPort int
	begun           time.Time
	daemon
	client *http.Client
}

// StartIcinga2 starts Icinga 2 with the configuration in icinga2/ in a new
// directory, after the fake services its checks probe (StartListeners, on
// free ports written into etc/ports.conf), and stops it when the test ends. It returns once every host and service
// has a check result: it forces all first checks with the API's
// reschedule-check, which takes about 2 s (the NTP check is the slowest).
//
// The REST API and Livestatus TCP listen on free loopback ports, so tests
// run while anything else uses 5665 or 6558. The API certificate comes
// from a fresh openssl CA (RSA 2048, fast); CAFile is that CA, so tests
// verify TLS for real. The daemon runs in the foreground as a child of the
// test binary, as the user running the test (ICINGA2_USER), so no root
// and no "nagios" user are needed. Missing icinga2, openssl or check
// plugins skip the test, or fail it under CI=true.
//
// Each extra string is a configuration file added to etc/conf.d.
func StartIcinga2(t testing.TB, extra ...string) *Icinga2 {
	t.Helper()
	i := startIcinga2(t, extra)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := i.checkAll(ctx); err != nil {
		t.Fatalf("icinga2: %v\n%s", err, i.tail())
	}
	i.Started = time.Since(i.begun)
	return i
}

// StartIcinga2Unchecked is StartIcinga2 without forcing and waiting for
// the first checks: it returns as soon as the API and Livestatus answer,
// when most hosts and services are still pending (Icinga spreads first
// checks over the 10 s check_interval). Which ones are pending is chance.
func StartIcinga2Unchecked(t testing.TB, extra ...string) *Icinga2 {
	t.Helper()
	i := startIcinga2(t, extra)
	i.Started = time.Since(i.begun)
	return i
}

// startIcinga2 writes the configuration and certificates and starts the
// daemon, retrying with other ports when one was taken meanwhile.
func startIcinga2(t testing.TB, extra []string) *Icinga2 {
	t.Helper()
	bin := requireDaemon(t, Icinga2Binary, icinga2Plugins)
	openssl := redistest.Require(t, "openssl")
	l := StartListeners(t)
	dir, err := os.MkdirTemp("", "icinga2-") // short: a unix socket path has 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if !t.Failed() {
			_ = os.RemoveAll(dir)
			return
		}
		t.Logf("icinga2: kept %s for inspection", dir)
	})
	i := newIcinga2(dir)
	i.Listeners = l
	i.begun = time.Now()
	if err := i.writeConfig(extra); err != nil {
		t.Fatal(err)
	}
	if err := i.makeCerts(openssl); err != nil {
		t.Fatal(err)
	}
	if err := i.loadCA(); err != nil {
		t.Fatal(err)
	}
	for attempt := 1; ; attempt++ {
		err := i.tryStart(bin)
		if err == nil {
			break
		}
		if attempt == 3 || !errors.Is(err, errPortTaken) {
			t.Fatalf("icinga2: %v\n%s", err, i.tail())
		}
	}
	t.Cleanup(func() {
		if err := i.Stop(); err != nil {
			t.Errorf("stop icinga2: %v", err)
		}
	})
	return i
}

// errPortTaken is a start that failed because a port was taken between
// picking it and the daemon binding it.
var errPortTaken = errors.New("port taken")

// newIcinga2 names the files of an Icinga 2 in dir.
func newIcinga2(dir string) *Icinga2 {
	return &Icinga2{
		Dir:              dir,
		User:             Icinga2User,
		Password:         Icinga2Password,
		CAFile:           filepath.Join(dir, "var", "lib", "certs", "ca.crt"),
		LivestatusSocket: filepath.Join(dir, "run", "livestatus"),
		Log:              filepath.Join(dir, "var", "log", "icinga2.log"),
	}
}

// writeConfig copies the embedded configuration into i.Dir, adds the
// extra files to etc/conf.d and makes the directories the daemon writes
// to.
func (i *Icinga2) writeConfig(extra []string) error {
	err := fs.WalkDir(icinga2Config, "icinga2", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		dst := filepath.Join(i.Dir, strings.TrimPrefix(p, "icinga2"))
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := icinga2Config.ReadFile(p)
		if err != nil {
			return err
		}
		mode := os.FileMode(0o644)
		if path.Dir(p) == "icinga2/plugins" {
			mode = 0o755
		}
		return os.WriteFile(dst, b, mode)
	})
	if err != nil {
		return fmt.Errorf("write icinga2 config to %s: %w", i.Dir, err)
	}
	for n, e := range extra {
		if err := os.WriteFile(filepath.Join(i.Dir, "etc", "conf.d", fmt.Sprintf("extra-%d.conf", n)), []byte(e), 0o644); err != nil {
			return err
		}
	}
	for _, d := range []string{"var/lib/certs", "var/log", "var/cache", "var/spool", "run"} {
		if err := os.MkdirAll(filepath.Join(i.Dir, d), 0o755); err != nil {
			return err
		}
	}
	return nil
}

// makeCerts creates a CA and the node certificate with openssl (RSA 2048:
// `icinga2 api setup` makes RSA 4096 keys and takes 3-7 s). Unlike the
// recipe's, the node certificate has subjectAltNames, because Go ignores
// the CN when it verifies a host name.
func (i *Icinga2) makeCerts(openssl string) error {
	c := filepath.Dir(i.CAFile)
	ext := filepath.Join(c, "san.ext")
	if err := os.WriteFile(ext, []byte("subjectAltName=DNS:"+Icinga2NodeName+",DNS:localhost,IP:127.0.0.1\n"), 0o644); err != nil {
		return err
	}
	node := filepath.Join(c, Icinga2NodeName)
	steps := [][]string{
		{"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650", "-subj", "/CN=ci-ca",
			"-keyout", filepath.Join(c, "ca.key"), "-out", i.CAFile},
		{"req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + Icinga2NodeName,
			"-keyout", node + ".key", "-out", node + ".csr"},
		{"x509", "-req", "-in", node + ".csr", "-CA", i.CAFile, "-CAkey", filepath.Join(c, "ca.key"),
			"-CAcreateserial", "-days", "3650", "-extfile", ext, "-out", node + ".crt"},
	}
	for _, args := range steps {
		if out, err := exec.Command(openssl, args...).CombinedOutput(); err != nil {
			return fmt.Errorf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	return nil
}

// loadCA builds the verifying HTTP client the helper itself uses: talking
// only to a server with a certificate from this CA, it cannot mistake
// another Icinga on a reused port for its own.
func (i *Icinga2) loadCA() error {
	pem, err := os.ReadFile(i.CAFile)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return fmt.Errorf("%s holds no certificate", i.CAFile)
	}
	i.client = &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}},
	}
	return nil
}

// tryStart picks free ports, validates the configuration, starts the
// daemon and waits until the API and Livestatus answer.
func (i *Icinga2) tryStart(bin string) error {
	var err error
	if i.apiPort, err = redistest.FreePortErr(); err != nil {
		return err
	}
	if i.lsPort, err = redistest.FreePortErr(); err != nil {
		return err
	}
	i.APIURL = fmt.Sprintf("https://127.0.0.1:%d", i.apiPort)
	i.LivestatusTCP = fmt.Sprintf("127.0.0.1:%d", i.lsPort)
	l := i.Listeners
	ports := fmt.Sprintf("const ApiPort = %d\nconst LivestatusPort = %d\n"+
		"const HttpPort = %d\nconst TlsPort = %d\nconst RedisPort = %d\n"+
		"const ClosedPort = %d\nconst ClosedUdpPort = %d\n",
		i.apiPort, i.lsPort, l.HTTPPort, l.TLSPort, l.RedisPort, l.ClosedPort, l.ClosedUDPPort)
	if err := os.WriteFile(filepath.Join(i.Dir, "etc", "ports.conf"), []byte(ports), 0o644); err != nil {
		return err
	}
	env, err := icinga2Env()
	if err != nil {
		return err
	}
	validate := exec.Command(bin, append([]string{"daemon", "-C"}, i.args()...)...)
	validate.Env = env
	if out, err := validate.CombinedOutput(); err != nil {
		return fmt.Errorf("icinga2 daemon -C: %v\n%s", err, out)
	}
	_ = os.Remove(i.Log) // a failed attempt's "Cannot bind" must not count again
	if err := i.start(bin, env); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := i.waitReady(ctx); err != nil {
		_ = i.Stop()
		if log, _ := os.ReadFile(i.Log); strings.Contains(string(log), "Cannot bind") {
			return fmt.Errorf("%w: %v", errPortTaken, err)
		}
		return err
	}
	return nil
}

// args are the daemon's configuration file and relocated directories.
func (i *Icinga2) args() []string {
	return []string{"-c", filepath.Join(i.Dir, "etc", "icinga2.conf"),
		"-DConfigDir=" + filepath.Join(i.Dir, "etc"),
		"-DDataDir=" + filepath.Join(i.Dir, "var", "lib"),
		"-DLogDir=" + filepath.Join(i.Dir, "var", "log"),
		"-DCacheDir=" + filepath.Join(i.Dir, "var", "cache"),
		"-DSpoolDir=" + filepath.Join(i.Dir, "var", "spool"),
		"-DInitRunDir=" + filepath.Join(i.Dir, "run"),
	}
}

// icinga2Env makes the CLI and the daemon run as the current user: they
// drop privileges to ICINGA2_USER (default nagios) otherwise.
func icinga2Env() ([]string, error) {
	u, err := user.Current()
	if err != nil {
		return nil, fmt.Errorf("current user: %w", err)
	}
	g, err := user.LookupGroupId(u.Gid)
	if err != nil {
		return nil, fmt.Errorf("group %s: %w", u.Gid, err)
	}
	return append(os.Environ(), "ICINGA2_USER="+u.Username, "ICINGA2_GROUP="+g.Name), nil
}

// start runs the daemon in the foreground, as a child of the test binary.
func (i *Icinga2) start(bin string, env []string) error {
	i.daemon = daemon{name: "icinga2", grace: 15 * time.Second}
	cmd := exec.Command(bin, append([]string{"daemon"}, i.args()...)...)
	cmd.Dir = i.Dir
	cmd.Env = env
	return i.run(cmd, filepath.Join(i.Dir, "var", "log", "stdout.log"))
}

// poll calls try every 100 ms until it succeeds, the daemon exits or ctx
// ends; what names the goal in errors.
func (i *Icinga2) poll(ctx context.Context, what string, try func(context.Context) error) error {
	for {
		err := try(ctx)
		if err == nil {
			return nil
		}
		if i.exited() {
			return fmt.Errorf("daemon exited while waiting for %s (last: %v)", what, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w (last: %v)", what, ctx.Err(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// waitReady waits until the API answers with this daemon's certificate
// and both Livestatus listeners report the same program start.
func (i *Icinga2) waitReady(ctx context.Context) error {
	var start int64
	err := i.poll(ctx, "the API", func(ctx context.Context) error {
		var err error
		start, err = i.programStart(ctx)
		if err == nil && start == 0 {
			// The API can answer before the application has noted its
			// start; Livestatus then knows it, and they would not match.
			err = errors.New("the API reports no program start yet")
		}
		return err
	})
	if err != nil {
		return err
	}
	for _, l := range [][2]string{{"unix", i.LivestatusSocket}, {"tcp", i.LivestatusTCP}} {
		err := i.poll(ctx, "livestatus "+l[1], func(ctx context.Context) error {
			got, err := livestatusProgramStart(ctx, l[0], l[1])
			if err == nil && got != start {
				err = fmt.Errorf("program_start %d, the API says %d: another daemon answers", got, start)
			}
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// programStart asks the API when the daemon started.
func (i *Icinga2) programStart(ctx context.Context) (int64, error) {
	var st struct {
		Results []struct {
			Status struct {
				IcingaApplication struct {
					App struct {
						ProgramStart float64 `json:"program_start"`
					} `json:"app"`
				} `json:"icingaapplication"`
			} `json:"status"`
		} `json:"results"`
	}
	if err := i.api(ctx, http.MethodGet, "/v1/status/IcingaApplication", "", &st); err != nil {
		return 0, err
	}
	if len(st.Results) != 1 {
		return 0, fmt.Errorf("status/IcingaApplication: %d results", len(st.Results))
	}
	return int64(st.Results[0].Status.IcingaApplication.App.ProgramStart), nil
}

// livestatusProgramStart asks Livestatus when the daemon started.
func livestatusProgramStart(ctx context.Context, network, addr string) (int64, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, "GET status\nColumns: program_start\nOutputFormat: json\n\n"); err != nil {
		return 0, err
	}
	var rows [][]int64
	if err := json.NewDecoder(bufio.NewReader(c)).Decode(&rows); err != nil {
		return 0, fmt.Errorf("status answer: %w", err)
	}
	if len(rows) != 1 || len(rows[0]) != 1 {
		return 0, fmt.Errorf("status answer: %v", rows)
	}
	return rows[0][0], nil
}

// api sends one request with the test credentials and decodes the JSON
// answer into out (when not nil).
func (i *Icinga2) api(ctx context.Context, method, path, body string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, i.APIURL+path, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.SetBasicAuth(i.User, i.Password)
	req.Header.Set("Accept", "application/json")
	resp, err := i.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: HTTP %d: %.300s", method, path, resp.StatusCode, b)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(b, out)
}

// checkAll forces a check of every host and service now, then waits until
// each has a check result. Without it the first checks are spread over
// the 10 s check_interval.
func (i *Icinga2) checkAll(ctx context.Context) error {
	for _, typ := range []string{"Host", "Service"} {
		body := fmt.Sprintf(`{"type":%q,"force":true}`, typ)
		if err := i.api(ctx, http.MethodPost, "/v1/actions/reschedule-check", body, nil); err != nil {
			return fmt.Errorf("reschedule checks: %w", err)
		}
	}
	return i.poll(ctx, "all check results", i.pending)
}

// pending fails naming a host or service without a check result.
func (i *Icinga2) pending(ctx context.Context) error {
	for _, typ := range []string{"hosts", "services"} {
		var r struct {
			Results []struct {
				Name  string `json:"name"`
				Attrs struct {
					LastCheckResult json.RawMessage `json:"last_check_result"`
				} `json:"attrs"`
			} `json:"results"`
		}
		if err := i.api(ctx, http.MethodGet, "/v1/objects/"+typ+"?attrs=last_check_result", "", &r); err != nil {
			return err
		}
		if len(r.Results) == 0 {
			return fmt.Errorf("no %s yet", typ)
		}
		for _, o := range r.Results {
			if len(o.Attrs.LastCheckResult) == 0 || string(o.Attrs.LastCheckResult) == "null" {
				return fmt.Errorf("%s %q not checked yet", typ, o.Name)
			}
		}
	}
	return nil
}

// tail is the end of the daemon's logs, for errors.
func (i *Icinga2) tail() string {
	var b strings.Builder
	for _, f := range []string{i.Log, filepath.Join(i.Dir, "var", "log", "stdout.log")} {
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

// APIPort is the REST API's port.
func (i *Icinga2) APIPort() int { return i.apiPort }

// LivestatusPort is the Livestatus TCP port.
func (i *Icinga2) LivestatusPort() int { return i.lsPort }

// String describes the daemon for test logs.
func (i *Icinga2) String() string {
	return "icinga2 api " + i.APIURL + " livestatus " + i.LivestatusSocket + " and " + i.LivestatusTCP +
		" (dir " + i.Dir + ", pid " + strconv.Itoa(i.pid()) + ")"
}

// pid is the daemon's process id, 0 when not running.
func (i *Icinga2) pid() int {
	if i.cmd == nil || i.cmd.Process == nil {
		return 0
	}
	return i.cmd.Process.Pid
}

// API sends one request to the REST API with the test credentials,
// verifying the daemon's certificate, and decodes the JSON answer into
// out (when not nil). A status other than 200 is an error.
func (i *Icinga2) API(ctx context.Context, method, path, body string, out any) error {
	return i.api(ctx, method, path, body, out)
}
