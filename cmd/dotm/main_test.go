package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/lwindolf/dotm/internal/bintest"
	"github.com/lwindolf/dotm/internal/montest"
	"github.com/lwindolf/dotm/internal/redistest"
	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets the test binary stand in for the dotm binary in scripts,
// so every script runs dotm as a separate process, as a user would, with
// dotm-layout in PATH.
func TestMain(m *testing.M) {
	testscript.Main(bintest.WithLayout(m), map[string]func(){
		"dotm": func() {
			os.Exit(run(context.Background(), os.Args[1:],
				&env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}))
		},
	})
}

// TestScripts runs testdata/script/*.txtar. Each script gets its own
// embedded data directory; "redis-start" starts a real redis-server and
// sets $REDIS (its URL) and $REDIS_PORT.
func TestScripts(t *testing.T) {
	bin := redistest.Require(t, "redis-server")
	redistest.Require(t, "redis-cli")
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(e *testscript.Env) error {
			e.Setenv("DOTM_DATA_DIR", e.WorkDir+"/data")
			e.Setenv("DOTM_REDIS", "")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// free-port NAME sets $NAME to a free loopback TCP port.
			"free-port": func(ts *testscript.TestScript, neg bool, args []string) {
				p, err := redistest.FreePortErr()
				ts.Check(err)
				ts.Setenv(args[0], strconv.Itoa(p))
			},
			// fleet-port NAME sets $NAME to an agent port for a simulated
			// fleet, reserved until the script ends (montest.FleetPort).
			"fleet-port": func(ts *testscript.TestScript, neg bool, args []string) {
				p, release, err := montest.ReserveFleetPort()
				ts.Check(err)
				ts.Defer(release)
				ts.Setenv(args[0], strconv.Itoa(int(p)))
			},
			// http-get URL writes the body of a successful GET to stdout.
			"http-get": func(ts *testscript.TestScript, neg bool, args []string) {
				resp, err := http.Get(args[0])
				ts.Check(err)
				defer resp.Body.Close()
				body, err := io.ReadAll(resp.Body)
				ts.Check(err)
				if resp.StatusCode != http.StatusOK {
					ts.Fatalf("GET %s: %s", args[0], resp.Status)
				}
				ts.Stdout().Write(body)
			},
			// wait-port HOST:PORT waits until something listens there. The
			// limit is for a program that never listens, not a measure: a
			// demo collecting its fleet on a busy machine takes a while.
			"wait-port": func(ts *testscript.TestScript, neg bool, args []string) {
				for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); {
					if c, err := net.Dial("tcp", args[0]); err == nil {
						c.Close()
						return
					}
					time.Sleep(50 * time.Millisecond)
				}
				ts.Fatalf("nothing listens on %s", args[0])
			},
			"redis-start": redisStartCmd(bin),
			"prom-check":  promCheckCmd,
		},
		RequireExplicitExec: true,
	})
}

// redisStartCmd is the testscript command redis-start: a redis-server
// (the program bin) of the script's own, its URL in $REDIS and its port in
// $REDIS_PORT.
func redisStartCmd(bin string) func(ts *testscript.TestScript, neg bool, args []string) {
	return func(ts *testscript.TestScript, neg bool, args []string) {
		dir := ts.MkAbs("redis")
		ts.Check(os.MkdirAll(dir, 0o700))
		srv, err := redistest.StartServer(bin, dir)
		ts.Check(err)
		ts.Defer(srv.Stop)
		ts.Setenv("REDIS", srv.URL())
		ts.Setenv("REDIS_PORT", strconv.Itoa(srv.Port))
	}
}
