package montest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"
)

func TestStartNagios(t *testing.T) {
	n := StartNagios(t)
	n.WaitChecked(t, 60*time.Second)
	b, err := os.ReadFile(n.StatusDat)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if got := strings.Count(s, "\nservicestatus {"); got != 18 {
		t.Errorf("status.dat has %d servicestatus blocks, want 18", got)
	}
	if got := strings.Count(s, "\nhoststatus {"); got != 4 {
		t.Errorf("status.dat has %d hoststatus blocks, want 4", got)
	}
	if _, err := os.Stat(n.ObjectsCache); err != nil {
		t.Errorf("objects.cache: %v", err)
	}

	t.Run("cgi", func(t *testing.T) {
		srv := httptest.NewServer(n.CGI(t, "ci", "secret"))
		defer srv.Close()
		tests := []struct {
			name, user, password, path string
			code                       int
		}{
			{"ok", "ci", "secret", CGIPath + "/statusjson.cgi?query=hostcount", 200},
			{"wrong password", "ci", "nope", CGIPath + "/statusjson.cgi?query=hostcount", 401},
			{"unknown cgi", "ci", "secret", CGIPath + "/nope.cgi", 404},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				req, _ := http.NewRequest("GET", srv.URL+tt.path, nil)
				req.SetBasicAuth(tt.user, tt.password)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				if resp.StatusCode != tt.code {
					t.Fatalf("status %d, want %d", resp.StatusCode, tt.code)
				}
				if tt.code != 200 {
					return
				}
				var v struct {
					Result struct {
						User     string `json:"user"`
						TypeCode int    `json:"type_code"`
					} `json:"result"`
					Data struct {
						Count map[string]int `json:"count"`
					} `json:"data"`
				}
				if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
					t.Fatal(err)
				}
				if v.Result.User != "ci" || v.Result.TypeCode != 0 {
					t.Errorf("result = %+v, want user ci, type_code 0", v.Result)
				}
				if v.Data.Count["up"] != 3 || v.Data.Count["down"] != 1 {
					t.Errorf("hostcount = %v, want 3 up, 1 down", v.Data.Count)
				}
			})
		}
	})
}

func TestUnchecked(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "status.dat has no services yet"},
		{"checked", "servicestatus {\n\thost_name=a\n\tservice_description=s\n\thas_been_checked=1\n\tactive_checks_enabled=1\n\t}\n", ""},
		{"pending", "servicestatus {\n\thost_name=a\n\tservice_description=s\n\thas_been_checked=0\n\tactive_checks_enabled=1\n\t}\n", `a "s" not checked yet`},
		{"passive only", "servicestatus {\n\thost_name=a\n\tservice_description=s\n\thas_been_checked=0\n\tactive_checks_enabled=0\n\t}\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := unchecked([]byte(tt.in)); got != tt.want {
				t.Errorf("unchecked = %q, want %q", got, tt.want)
			}
		})
	}
}
