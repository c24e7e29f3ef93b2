package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lwindolf/dotm/collect"
	"github.com/lwindolf/dotm/collect/monitor"
	"github.com/lwindolf/dotm/collect/simfleet"
	"github.com/lwindolf/dotm/internal/montest"
)

// monitoredFleet collects a simulated fleet whose hosts are those of the
// monitoring test configurations into an embedded store, with monitoring
// read from src, and returns the data directory. app01 runs java, which
// no preset maps its HTTP check to, and every host node_exporter: the
// mapping makes checks of both, so that web01 has no findings.
func monitoredFleet(t *testing.T, src string) string {
	t.Helper()
	dataDir := t.TempDir()
	if code, _, errOut := runCLIAll("--data-dir", dataDir, "config", "set", "service_mapping", `{"^HTTP$":"^java$","^Load$":"^node_exporter$"}`); code != 0 {
		t.Fatal(errOut)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fleet := simfleet.Generate(20, 7, montest.FleetPort(t))
	st := openEmbedded(t, dataDir)
	if err := fleet.Register(ctx, st); err != nil {
		t.Fatal(err)
	}
	wait, err := fleet.Serve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := collect.Run(ctx, st, collect.Options{Now: time.Now(), Monitoring: []string{src}})
	cancel()
	wait()
	if cerr := st.Close(); err != nil || cerr != nil || sum.Problems() {
		t.Fatalf("collect: %s, %v, %v", sum, err, cerr)
	}
	return dataDir
}

// nagiosFleet starts a real Nagios with the extra object files and
// collects monitoredFleet with its status.dat: the daemon and the data
// directory.
func nagiosFleet(t *testing.T, extra ...string) (*montest.Nagios, string) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts the monitoring daemons")
	}
	n := montest.StartNagios(t, extra...)
	n.WaitChecked(t, 60*time.Second)
	return n, monitoredFleet(t, n.StatusDat)
}

// expected is what dotm check --node says of each host: the state (its
// exit status) and the status line without perfdata.
func expected(t *testing.T, dataDir string, hosts ...string) map[string][2]string {
	t.Helper()
	want := map[string][2]string{}
	for _, h := range hosts {
		code, out, _ := runCLIAll("--data-dir", dataDir, "check", "--node", h)
		first, _, _ := strings.Cut(out, "\n")
		first, _, _ = strings.Cut(first, " | ")
		want[h] = [2]string{[]string{monitor.OK, monitor.Warning, monitor.Critical, monitor.Unknown}[code], first}
	}
	return want
}

// waitSubmitted reads src until every host's FindingsService has the
// wanted state and output (the first line), or fails after a minute.
func waitSubmitted(t *testing.T, src string, want map[string][2]string) {
	t.Helper()
	s, err := monitor.Open(src, monitor.Auth{})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	var last string
	for time.Now().Before(deadline) {
		st, err := s.Fetch(context.Background())
		last = fmt.Sprint(err)
		if err == nil {
			got := map[string][2]string{}
			for _, sv := range st.Services {
				if sv.Name == montest.FindingsService && strings.HasPrefix(sv.Output, "DOTM ") {
					first, _, _ := strings.Cut(sv.Output, "\n")
					got[sv.Host] = [2]string{sv.Status, first}
				}
			}
			last = fmt.Sprint(got)
			if fmt.Sprint(got) == fmt.Sprint(want) {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s: the submitted results did not arrive: got %s, want %v", src, last, want)
}

// renamedHost is a host whose name is no node's; user_node_aliases names
// it for cache01 below.
const renamedHost = `define host {
    use         generic-host
    host_name   cache-renamed
    address     127.0.0.1
}
define service {
    use                     generic-service
    host_name               cache-renamed
    service_description     dotm findings
    active_checks_enabled   0
    check_command           check_dummy!3!no result
}
`

// TestSubmitNagios sends the findings to a real Nagios through its
// external command file and finds them in status.dat.
func TestSubmitNagios(t *testing.T) {
	n, dataDir := nagiosFleet(t, montest.NagiosPassive, renamedHost)
	want := expected(t, dataDir, "web01", "app01", "db01", "cache01")
	if states := fmt.Sprint(want); !strings.Contains(states, monitor.OK+" ") || !strings.Contains(states, monitor.Warning+" ") {
		t.Fatalf("want an OK host and a WARNING one, have %v; the test proves less", want)
	}

	// A status.dat takes no commands: the error says what to give.
	code, _, errOut := runCLIAll("--data-dir", dataDir, "report", "--submit", n.StatusDat)
	if code != 1 || !strings.Contains(errOut, "is not a FIFO") || !strings.Contains(errOut, "command_file in nagios.cfg") {
		t.Errorf("--submit status.dat: exit %d, %s", code, errOut)
	}
	if code, _, errOut := runCLIAll("--data-dir", dataDir, "config", "set", "nagios_instance",
		fmt.Sprintf(`{"source":%q}`, n.StatusDat)); code != 0 {
		t.Fatal(errOut)
	}
	code, _, errOut = runCLIAll("--data-dir", dataDir, "report", "--submit", "nagios_instance")
	if code != 1 || !strings.Contains(errOut, "set the external command file") {
		t.Errorf("--submit nagios_instance with a status.dat source and no command_file: exit %d, %s", code, errOut)
	}
	if code, _, errOut := runCLIAll("--data-dir", dataDir, "config", "set", "nagios_instance",
		fmt.Sprintf(`{"source":%q,"command_file":%q}`, n.StatusDat, n.CommandFile)); code != 0 {
		t.Fatal(errOut)
	}
	code, out, errOut := runCLIAll("--data-dir", dataDir, "report", "--submit", "nagios_instance")
	if code != 0 || out != "" || errOut != "" {
		t.Fatalf("report --submit nagios_instance: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	waitSubmitted(t, n.StatusDat, want)
	// With cache01 known to the monitoring as cache-renamed, its result
	// goes there.
	if code, _, errOut := runCLIAll("--data-dir", dataDir, "config", "set", "user_node_aliases", `{"cache-renamed":"cache01"}`); code != 0 {
		t.Fatal(errOut)
	}
	if code, out, errOut := runCLIAll("--data-dir", dataDir, "report", "--submit", n.CommandFile); code != 0 || out != "" || errOut != "" {
		t.Fatalf("report --submit %s: exit %d, stdout %q, stderr %q", n.CommandFile, code, out, errOut)
	}
	want["cache-renamed"] = want["cache01"]
	waitSubmitted(t, n.StatusDat, want)
	b, err := os.ReadFile(n.StatusDat)
	if err != nil {
		t.Fatal(err)
	}
	if _, block, ok := strings.Cut(string(b), "servicestatus {\n\thost_name=web01\n\tservice_description=dotm findings\n"); ok {
		block, _, _ = strings.Cut(block, "}")
		for _, l := range strings.Split(block, "\n") {
			if k, _, _ := strings.Cut(strings.TrimSpace(l), "="); k == "current_state" || k == "plugin_output" ||
				k == "long_plugin_output" || k == "performance_data" || k == "check_type" {
				t.Logf("status.dat web01 %q: %s", montest.FindingsService, strings.TrimSpace(l))
			}
		}
	}
	for _, line := range []string{"\tservice_description=dotm findings\n", "\tcheck_type=1\n", "\tperformance_data=findings="} {
		if !strings.Contains(string(b), line) {
			t.Errorf("status.dat has no %q", line)
		}
	}
}

// TestSubmitIcinga2 sends the findings to a real Icinga 2 through its
// REST API and through Livestatus (unix socket and TCP), and reads each
// back.
func TestSubmitIcinga2(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the monitoring daemons")
	}
	i := montest.StartIcinga2(t, montest.Icinga2Passive)
	api := fmt.Sprintf("icinga2+https://%s:%s@127.0.0.1:%d?ca=%s", i.User, url.QueryEscape(i.Password), i.APIPort(), i.CAFile)
	dataDir := monitoredFleet(t, api)
	want := expected(t, dataDir, "web01", "app01", "db01", "cache01")

	code, out, errOut := runCLIAll("--data-dir", dataDir, "report", "--submit", api)
	if code != 0 || out != "" || errOut != "" {
		t.Fatalf("report --submit the API: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	waitSubmitted(t, api, want)
	// A wrong password: the error names the source, not the password.
	bad := strings.Replace(api, i.Password, "not-the-secret", 1)
	code, _, errOut = runCLIAll("--data-dir", dataDir, "report", "--submit", bad)
	if code != 1 || !strings.Contains(errOut, "authentication failed") || strings.Contains(errOut, "not-the-secret") {
		t.Errorf("--submit with a wrong password: exit %d, %s", code, errOut)
	}

	// user_node_aliases names each node's host: a host without the
	// service fails, named, and the others are still taken.
	if code, _, errOut := runCLIAll("--data-dir", dataDir, "config", "set", "user_node_aliases", `{"nosuchhost":"web01"}`); code != 0 {
		t.Fatal(errOut)
	}
	code, _, errOut = runCLIAll("--data-dir", dataDir, "report", "--submit", api)
	if code != 1 || !strings.Contains(errOut, `1 of 4 results not taken (hosts nosuchhost)`) ||
		!strings.Contains(errOut, `no service "dotm findings" on host "nosuchhost"`) {
		t.Errorf("--submit with web01 aliased to a host the monitoring lacks: exit %d, %s", code, errOut)
	}
	if code, _, errOut := runCLIAll("--data-dir", dataDir, "config", "unset", "user_node_aliases"); code != 0 {
		t.Fatal(errOut)
	}

	for _, ls := range []string{"livestatus+unix://" + i.LivestatusSocket, "livestatus+tcp://" + i.LivestatusTCP} {
		// Make the results differ from the API's: db01 CRITICAL first,
		// then the submission puts each back.
		if err := livestatusCommand(ls, fmt.Sprintf("COMMAND [%d] PROCESS_SERVICE_CHECK_RESULT;db01;%s;2;other\n", time.Now().Unix(), montest.FindingsService)); err != nil {
			t.Fatal(err)
		}
		code, out, errOut := runCLIAll("--data-dir", dataDir, "report", "--submit", ls)
		if code != 0 || out != "" || errOut != "" {
			t.Fatalf("report --submit %s: exit %d, stdout %q, stderr %q", ls, code, out, errOut)
		}
		waitSubmitted(t, ls, want)
	}
	rows, err := livestatusRows("livestatus+unix://"+i.LivestatusSocket,
		"GET services\nColumns: host_name state plugin_output perf_data\nFilter: description = "+montest.FindingsService+"\nOutputFormat: json\n\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 {
		t.Fatalf("livestatus: %d rows of %q, want 4: %v", len(rows), montest.FindingsService, rows)
	}
	for _, r := range rows {
		t.Logf("livestatus: %v", r)
		if perf, _ := r[3].(string); !strings.HasPrefix(perf, "findings=") || !strings.Contains(perf, " unmonitored=") {
			t.Errorf("livestatus: %v: perf_data is not the findings' perfdata", r)
		}
	}
}

// livestatusCommand sends one command to a livestatus+ source.
func livestatusCommand(src, cmd string) error {
	c, err := dialLivestatus(src)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err = io.WriteString(c, cmd+"\n"); err != nil {
		return err
	}
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
	_, err = io.ReadAll(c)
	return err
}

// livestatusRows answers a JSON query.
func livestatusRows(src, q string) ([][]any, error) {
	c, err := dialLivestatus(src)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if _, err := io.WriteString(c, q); err != nil {
		return nil, err
	}
	var rows [][]any
	return rows, json.NewDecoder(bufio.NewReader(c)).Decode(&rows)
}

func dialLivestatus(src string) (net.Conn, error) {
	u, err := url.Parse(src)
	if err != nil {
		return nil, err
	}
	var c net.Conn
	if u.Scheme == "livestatus+unix" {
		c, err = net.Dial("unix", u.Path)
	} else {
		c, err = net.Dial("tcp", u.Host)
	}
	if err == nil {
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	}
	return c, err
}
