package main

import (
	"context"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lwindolf/dotm/collect"
	"github.com/lwindolf/dotm/collect/simfleet"
	"github.com/lwindolf/dotm/internal/montest"
)

// TestExportAcceptedByDaemons collects a simulated fleet whose hosts are
// those of the monitoring test configuration, with the real Nagios's
// status.dat as monitoring, exports the dependencies, and has the real
// daemons load them: nagios4 -v and a Nagios start with the export among
// its objects, and icinga2 daemon -C with it in conf.d.
func TestExportAcceptedByDaemons(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the monitoring daemons")
	}
	n := montest.StartNagios(t)
	n.WaitChecked(t, 60*time.Second)
	dataDir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// app01 runs java, which no preset maps its HTTP check to.
	if code, _, errOut := runCLIAll("--data-dir", dataDir, "config", "set", "service_mapping", `{"^HTTP$":"^java$"}`); code != 0 {
		t.Fatal(errOut)
	}
	fleet := simfleet.Generate(20, 7, 14875) // its own agent port
	st := openEmbedded(t, dataDir)
	if err := fleet.Register(ctx, st); err != nil {
		t.Fatal(err)
	}
	wait, err := fleet.Serve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := collect.Run(ctx, st, collect.Options{Now: time.Now(), Monitoring: []string{n.StatusDat}})
	cancel()
	wait()
	if cerr := st.Close(); err != nil || cerr != nil || sum.Problems() {
		t.Fatalf("collect: %s, %v, %v", sum, err, cerr)
	}

	code, nagios, errOut := runCLIAll("--data-dir", dataDir, "export", "nagios")
	if code != 0 {
		t.Fatalf("export nagios: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"define hostdependency {", "define servicedependency {", "    dependent_host_name            web01\n    dependent_service_description  HTTP\n"} {
		if !strings.Contains(nagios, want) {
			t.Fatalf("export nagios lacks %q:\n%s", want, nagios)
		}
	}
	if _, again, _ := runCLIAll("--data-dir", dataDir, "export", "nagios"); again != nagios {
		t.Errorf("two exports of the same data differ:\n%s\n---\n%s", nagios, again)
	}
	if _, fewer, _ := runCLIAll("--data-dir", dataDir, "export", "nagios", "--min-count", "1000000"); strings.Contains(fewer, "define") {
		t.Errorf("--min-count 1000000 still exports dependencies:\n%s", fewer)
	}
	montest.StartNagios(t, nagios) // runs nagios4 -v on it, then the daemon

	code, icinga, errOut := runCLIAll("--data-dir", dataDir, "export", "icinga2")
	if code != 0 || !strings.Contains(icinga, "object Dependency \"dotm-") || !strings.Contains(icinga, "child_service_name = ") {
		t.Fatalf("export icinga2: exit %d, stderr %s:\n%s", code, errOut, icinga)
	}
	i := montest.StartIcinga2Unchecked(t)
	conf := filepath.Join(i.Dir, "etc", "conf.d", "dotm-dependencies.conf")
	if err := os.WriteFile(conf, []byte(icinga), 0o644); err != nil {
		t.Fatal(err)
	}
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	g, err := user.LookupGroupId(u.Gid)
	if err != nil {
		t.Fatal(err)
	}
	// The daemon's own arguments (montest's args()), with -C: validate only.
	cmd := exec.Command(montest.Icinga2Binary, "daemon", "-C", "-c", filepath.Join(i.Dir, "etc", "icinga2.conf"),
		"-DConfigDir="+filepath.Join(i.Dir, "etc"), "-DDataDir="+filepath.Join(i.Dir, "var", "lib"),
		"-DLogDir="+filepath.Join(i.Dir, "var", "log"), "-DCacheDir="+filepath.Join(i.Dir, "var", "cache"),
		"-DSpoolDir="+filepath.Join(i.Dir, "var", "spool"), "-DInitRunDir="+filepath.Join(i.Dir, "run"))
	cmd.Env = append(os.Environ(), "ICINGA2_USER="+u.Username, "ICINGA2_GROUP="+g.Name)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("icinga2 daemon -C with the export: %v\n%s\n%s", err, out, icinga)
	}
	if !strings.Contains(string(out), " Dependencies.") {
		t.Errorf("icinga2 daemon -C did not count the Dependency objects:\n%s", out)
	}
}
