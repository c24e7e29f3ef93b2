package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lwindolf/dotm/domain"
	"github.com/lwindolf/dotm/internal/redistest"
)

func TestNewClientForms(t *testing.T) {
	cases := []struct {
		url  string
		kind string
	}{
		{"redis://127.0.0.1:6379/2", "single"},
		{"rediss://user:pw@redis.example.com:6380", "single"},
		{"unix:///run/redis/redis.sock?db=1", "single"},
		{"redis://127.0.0.1:7000,redis://127.0.0.1:7001,redis://127.0.0.1:7002", "cluster"},
		{"redis://127.0.0.1:7000?addr=127.0.0.1:7001", "cluster"},
		{"redis://127.0.0.1:26379?master_name=mymaster&addr=127.0.0.1:26380", "sentinel"},
	}
	for _, c := range cases {
		t.Run(c.url, func(t *testing.T) {
			s, err := newClient(c.url)
			if err != nil {
				t.Fatal(err)
			}
			defer s.rdb.Close()
			if s.kind != c.kind {
				t.Errorf("client kind %s, want %s", s.kind, c.kind)
			}
			if strings.Contains(s.Where(), "pw") {
				t.Errorf("password shown in %q", s.Where())
			}
		})
	}
	for _, bad := range []string{"http://127.0.0.1:6379", "127.0.0.1:6379", "redis://a:1,::bad"} {
		if _, err := newClient(bad); err == nil || !strings.Contains(err.Error(), "redis://") {
			t.Errorf("%q: err = %v, want a message showing the right form", bad, err)
		}
	}
}

func TestOpenUnixSocketWithPassword(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "redis.sock")
	redistest.Start(t, "--unixsocket", sock, "--unixsocketperm", "700", "--requirepass", "s3cret")
	ctx := context.Background()
	if _, err := Open(ctx, Options{URL: "unix://" + sock}); err == nil {
		t.Error("opened without the password")
	}
	s, err := Open(ctx, Options{URL: "unix://:s3cret@" + sock + "?db=3"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.AddNodes(ctx, []domain.NodeSpec{{Name: "x"}}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(s.Where(), "s3cret") {
		t.Errorf("Where shows the password: %s", s.Where())
	}
}

func TestOpenUnreachable(t *testing.T) {
	port := redistest.FreePort(t)
	_, err := Open(context.Background(), Options{URL: "redis://:pw@127.0.0.1:" + itoa(int64(port))})
	if err == nil {
		t.Fatal("no error for a closed port")
	}
	msg := err.Error()
	for _, want := range []string{"cannot reach Redis at redis://:xxxxx@127.0.0.1:", "connection refused", "start redis-server"} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q lacks %q", msg, want)
		}
	}
}
