package store

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lwindolf/dotm/domain"
)

// notYetInContract are the exported methods of Store no store test calls
// yet. The list only shrinks: a new method must come with its test.
var notYetInContract = []string{
	"LookupConnections", "NodeRecords", "RemoveTasks", "RenewLease", "SetAlertStatus",
	"SetMonitoringStatus", "SetResult", "SetState",
}

// TestContractCoversEveryMethod: every exported method of Store is called
// by this package's tests, which run against every kind of store
// (forEachStore), or is listed in notYetInContract.
func TestContractCoversEveryMethod(t *testing.T) {
	files, err := filepath.Glob("*_test.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files: %v", err)
	}
	called := map[string]bool{}
	fset := token.NewFileSet()
	for _, f := range files {
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			if c, ok := n.(*ast.CallExpr); ok {
				if sel, ok := c.Fun.(*ast.SelectorExpr); ok {
					called[sel.Sel.Name] = true
				}
			}
			return true
		})
	}
	typ := reflect.TypeFor[*Store]()
	for i := range typ.NumMethod() {
		name := typ.Method(i).Name
		listed := slices.Contains(notYetInContract, name)
		switch {
		case !called[name] && !listed:
			t.Errorf("Store.%s is called by no store test: add it to the contract (forEachStore)", name)
		case called[name] && listed:
			t.Errorf("Store.%s is tested now: take it off notYetInContract", name)
		}
	}
	for _, name := range notYetInContract {
		if _, ok := typ.MethodByName(name); !ok {
			t.Errorf("notYetInContract names %s, which Store no longer has", name)
		}
	}
}

// Settings set and unset come back through LoadConf, on every store.
func TestContractConf(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		if got := s.Embedded(); got != strings.HasSuffix(t.Name(), "/embedded") {
			t.Errorf("Embedded() = %v in %s", got, t.Name())
		}
		aging, err := domain.Lookup("aging")
		if err != nil {
			t.Fatal(err)
		}
		def, err := s.LoadConf(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SetSetting(ctx, aging, domain.Value{Hash: map[string]string{"Services": "42", "Connections": "7"}}); err != nil {
			t.Fatal(err)
		}
		c, err := s.LoadConf(ctx)
		if err != nil || c.AgingServices != 42*time.Second || c.AgingConns != 7*time.Second {
			t.Fatalf("after set: aging %v/%v, %v", c.AgingServices, c.AgingConns, err)
		}
		if err := s.UnsetSetting(ctx, aging); err != nil {
			t.Fatal(err)
		}
		c, err = s.LoadConf(ctx)
		if err != nil || c.AgingServices != def.AgingServices || c.AgingConns != def.AgingConns {
			t.Errorf("after unset: aging %v/%v, want the default %v/%v (%v)", c.AgingServices, c.AgingConns,
				def.AgingServices, def.AgingConns, err)
		}
	})
}

// AllChecks reads the checks of several nodes at once; a node without
// checks is left out.
func TestContractAllChecks(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		for _, n := range []string{"web01", "db01"} {
			checks := []ServiceCheck{{Node: n, Service: "load", Status: "WARNING", Mapping: ""}}
			if err := s.SetChecks(ctx, NodeCheck{Node: n, Status: "UP"}, checks, time.Hour); err != nil {
				t.Fatal(err)
			}
		}
		all, err := s.AllChecks(ctx, []string{"web01", "db01", "none01"})
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 2 || all["db01"].Node.Status != "UP" || len(all["web01"].Services) != 1 ||
			all["web01"].Services[0].Status != "WARNING" {
			t.Errorf("AllChecks = %+v", all)
		}
		if _, ok := all["none01"]; ok {
			t.Error("a node without checks has checks")
		}
	})
}
