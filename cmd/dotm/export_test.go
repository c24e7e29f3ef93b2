package main

import (
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lwindolf/dotm/internal/montest"
)

// TestExportAcceptedByDaemons collects a simulated fleet whose hosts are
// those of the monitoring test configuration, with the real Nagios's
// status.dat as monitoring, exports the dependencies, and has the real
// daemons load them: nagios4 -v and a Nagios start with the export among
// its objects, and icinga2 daemon -C with it in conf.d.
func TestExportAcceptedByDaemons(t *testing.T) {
	_, dataDir := nagiosFleet(t)

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
