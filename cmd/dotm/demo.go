package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/lwindolf/dotm/collect"
	"github.com/lwindolf/dotm/collect/simfleet"
	"github.com/lwindolf/dotm/domain"
	"github.com/lwindolf/dotm/render"
	"github.com/lwindolf/dotm/render/layout"
	"github.com/lwindolf/dotm/store"
	"github.com/lwindolf/dotm/templates"
	"github.com/spf13/pflag"
)

type demoOpts struct {
	out, serve       string
	hosts, agentPort int
}

// demoAgentPort is where the simulated hosts' agents answer, each on its
// own 127.1.x.y address.
const demoAgentPort = 14848

func demoCommand() *command {
	return &command{
		name:    "demo",
		summary: "simulate a fleet, collect it over the agent protocol, and render its site",
		details: `Starts a simulated fleet (load balancers → web → app → databases, caches and
queues, monitoring and a bastion) whose hosts answer the real agent protocol on
127.1.x.y:14848 (--agent-port), collects it in three rounds an hour apart (a web server stops
using an app server before the last) with a simulated Nagios status.dat, and
renders the site. It uses a temporary embedded store, never your data.`,
		bind: func(fs *pflag.FlagSet) runFunc {
			var o demoOpts
			fs.StringVar(&o.out, "out", "dotm-demo", "directory to write the site to")
			fs.StringVar(&o.serve, "serve", "", "after rendering, serve the site on this address (e.g. 127.0.0.1:8080)")
			fs.IntVar(&o.hosts, "hosts", 40, "about how many hosts to simulate")
			fs.IntVar(&o.agentPort, "agent-port", demoAgentPort, "port the simulated agents answer on, each on its own 127.1.x.y")
			return func(ctx context.Context, e *env, args []string) error { return runDemo(ctx, e, args, o) }
		},
	}
}

func runDemo(ctx context.Context, e *env, args []string, o demoOpts) error {
	if err := noArgs("dotm demo", args); err != nil {
		return err
	}
	if o.hosts < 1 || o.hosts > 60000 {
		return usagef("dotm demo", "--hosts must be between 1 and 60000")
	}
	if o.agentPort < 1 || o.agentPort > 65535 {
		return usagef("dotm demo", "--agent-port must be a TCP port")
	}
	dir, err := os.MkdirTemp("", "dotm-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	st, err := store.Open(ctx, store.Options{DataDir: dir})
	if err != nil {
		return err
	}
	defer st.Close()
	// The demo's history is three hours long: a service counts as unused
	// after aging, not after the days the unused setting asks by default.
	unused, err := domain.Lookup("unused")
	if err == nil {
		err = st.SetSetting(ctx, unused, domain.Value{Hash: map[string]string{"Services": "0"}})
	}
	if err != nil {
		return err
	}
	fleet := simfleet.Generate(o.hosts, 1, uint16(o.agentPort))
	now := time.Now()
	if err := demoRounds(ctx, st, fleet, filepath.Join(dir, "status.dat"), now); err != nil {
		return err
	}
	m, err := loadSiteModel(ctx, e, st, now)
	if err != nil {
		return err
	}
	l := &layout.Layouter{Engine: layout.EngineEmbedded, CacheDir: filepath.Join(dir, "cache"), Warn: layoutWarn(e, "dotm demo")}
	if err := publishSite(ctx, e, m, o.out, l, render.SiteOptions{Templates: templates.FS}); err != nil {
		return err
	}
	index, _ := filepath.Abs(filepath.Join(o.out, "index.html"))
	fmt.Fprintf(e.stdout, "demo: %d simulated hosts collected; site written to %s\n", len(fleet.Hosts), index)
	if o.serve == "" {
		return nil
	}
	return serveSite(ctx, e, o.out, o.serve)
}

// demoRounds collects the fleet three times, an hour apart up to now
// (simfleet.Rounds).
func demoRounds(ctx context.Context, st *store.Store, fleet *simfleet.Fleet, statusDat string, now time.Time) error {
	return fleet.Rounds(ctx, st, statusDat, now, func(ctx context.Context, t time.Time) error {
		sum, err := collect.Run(ctx, st, collect.Options{Now: t, Monitoring: []string{statusDat}})
		if err == nil && sum.Problems() {
			err = fmt.Errorf("demo collect: %s", sum)
		}
		return err
	})
}

// serveSite serves dir on addr until ctx is done (Ctrl-C).
func serveSite(ctx context.Context, e *env, dir, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("serve the site: %w", err)
	}
	srv := &http.Server{Handler: http.FileServer(http.Dir(dir)), ReadHeaderTimeout: 10 * time.Second}
	context.AfterFunc(ctx, func() { srv.Close() })
	fmt.Fprintf(e.stdout, "serving on http://%s/ (Ctrl-C stops)\n", ln.Addr())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
