package monitor

import (
	"context"
	"encoding/pem"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lwindolf/dotm/internal/montest"
)

// TestNagiosDaemon reads a real Nagios 4: its live status.dat, and its
// real statusjson.cgi over HTTPS with basic auth.
func TestNagiosDaemon(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Nagios")
	}
	ng := montest.StartNagios(t)
	ng.WaitChecked(t, time.Minute)
	ctx := context.Background()

	src, err := Open(ng.StatusDat, Auth{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := src.Fetch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	checkRecipeStates(t, st)
	for _, h := range st.Hosts {
		if h.Name == "web01" && h.Alias != "Storefront web server" {
			t.Errorf("alias %q", h.Alias)
		}
	}

	srv := httptest.NewTLSServer(ng.CGI(t, "ci", "s3cret"))
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(ca, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	base := strings.Replace(srv.URL, "https://", "nagios+https://", 1) + montest.CGIPath
	t.Run("statusjson.cgi", func(t *testing.T) {
		src, err := Open(strings.Replace(base, "://", "://ci:s3cret@", 1)+"?ca="+ca, Auth{})
		if err != nil {
			t.Fatal(err)
		}
		st, err := src.Fetch(ctx)
		if err != nil {
			t.Fatal(err)
		}
		checkRecipeStates(t, st)
		if strings.Contains(src.String(), "s3cret") {
			t.Errorf("String shows the password: %s", src)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		src, _ := Open(base+"?ca="+ca, Auth{User: "ci", Password: "wrong"})
		_, err := src.Fetch(ctx)
		if err == nil || !strings.Contains(err.Error(), "authentication failed (HTTP 401)") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("password_file", func(t *testing.T) {
		pw := filepath.Join(t.TempDir(), "pw")
		os.WriteFile(pw, []byte("s3cret\n"), 0o600)
		src, err := Open(base+"?user=ci&password_file="+pw+"&ca="+ca, Auth{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := src.Fetch(ctx); err != nil {
			t.Error(err)
		}
	})
}
