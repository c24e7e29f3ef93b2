package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lwindolf/dotm/collect/monitor"
	"github.com/lwindolf/dotm/internal/montest"
)

// icingaDependency matches a service Dependency of dotm export icinga2.
var icingaDependency = regexp.MustCompile(`(?s)object Dependency "[^"]+" \{\n  parent_host_name = "([^"]+)"\n  parent_service_name = "([^"]+)"\n` +
	`  child_host_name = "([^"]+)"\n  child_service_name = "([^"]+)"\n.*?\n\}\n`)

// TestExportedDependencyUnreachable loads a service Dependency of dotm
// export icinga2 into a real Icinga 2 and has Icinga find the child
// unreachable while the parent fails, and reachable while it is OK: the
// parent's state set with passive results through the REST API. Only
// service dependencies whose hosts are UP are loaded, so that nothing
// else (db01 is DOWN, and a host dependency on it would make its
// dependents' checks unreachable too) decides the outcome.
func TestExportedDependencyUnreachable(t *testing.T) {
	_, dataDir := nagiosFleet(t)
	code, export, errOut := runCLIAll("--data-dir", dataDir, "export", "icinga2")
	if code != 0 {
		t.Fatalf("export icinga2: exit %d: %s", code, errOut)
	}
	var conf strings.Builder
	var dep []string
	for _, m := range icingaDependency.FindAllStringSubmatch(export, -1) {
		if m[1] == "db01" || m[3] == "db01" {
			continue
		}
		conf.WriteString(m[0])
		if dep == nil {
			dep = m[1:]
		}
	}
	if dep == nil {
		t.Fatalf("export icinga2 has no service dependency between hosts that are UP:\n%s", export)
	}
	t.Logf("parent %s!%s, child %s!%s", dep[0], dep[1], dep[2], dep[3])
	i := montest.StartIcinga2(t, conf.String())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	parent, child := dep[0]+"!"+dep[1], dep[2]+"!"+dep[3]
	for _, name := range []string{parent, child} {
		// Only passive results from here on: the active checks would race them.
		if err := i.API(ctx, http.MethodPost, "/v1/objects/services/"+url.PathEscape(name),
			`{"attrs":{"enable_active_checks":false}}`, nil); err != nil {
			t.Fatal(err)
		}
	}
	api := fmt.Sprintf("icinga2+https://%s:%s@127.0.0.1:%d?ca=%s", i.User, url.QueryEscape(i.Password), i.APIPort(), i.CAFile)
	sub, err := monitor.OpenSubmitter(api, monitor.Auth{})
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		parentState int
		reachable   bool
	}{{0, true}, {2, false}, {0, true}} {
		err := sub.Submit(ctx, []monitor.CheckResult{
			{Host: dep[0], Service: dep[1], State: step.parentState, Output: fmt.Sprintf("parent state %d", step.parentState)},
			{Host: dep[2], Service: dep[3], State: 2, Output: "child fails"},
		})
		if err != nil {
			t.Fatal(err)
		}
		var r struct {
			Results []struct {
				Attrs struct {
					LastReachable bool    `json:"last_reachable"`
					State         float64 `json:"state"`
				} `json:"attrs"`
			} `json:"results"`
		}
		if err := i.API(ctx, http.MethodGet, "/v1/objects/services/"+url.PathEscape(child)+"?attrs=last_reachable&attrs=state", "", &r); err != nil {
			t.Fatal(err)
		}
		if len(r.Results) != 1 || r.Results[0].Attrs.LastReachable != step.reachable {
			t.Fatalf("parent %s in state %d: child %s is %+v, want last_reachable %v", parent, step.parentState, child, r.Results, step.reachable)
		}
		t.Logf("parent state %d: child last_reachable %v, state %v", step.parentState, r.Results[0].Attrs.LastReachable, r.Results[0].Attrs.State)
	}
}
