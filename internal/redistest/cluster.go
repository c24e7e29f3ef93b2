package redistest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Cluster is a running Redis Cluster of masters without replicas.
type Cluster struct {
	Masters []*Server
}

// URL is the cluster in dotm's --redis form: the masters' URLs, comma-
// separated.
func (c *Cluster) URL() string {
	urls := make([]string, len(c.Masters))
	for i, m := range c.Masters {
		urls[i] = m.URL()
	}
	return strings.Join(urls, ",")
}

// StartCluster runs a Redis Cluster of masters redis-server processes on
// free loopback ports (redis-cli --cluster create), and waits until every
// node reports cluster_state:ok.
func StartCluster(t testing.TB, masters int) *Cluster {
	t.Helper()
	bin := Require(t, "redis-server")
	cli := Require(t, "redis-cli")
	c := &Cluster{}
	var addrs []string
	for i := range masters {
		dir := filepath.Join(t.TempDir(), strconv.Itoa(i))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		s, err := StartServer(bin, dir, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", "5000")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Stop)
		c.Masters = append(c.Masters, s)
		addrs = append(addrs, s.Addr())
	}
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command(cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, m := range c.Masters {
		for {
			out, _ := exec.Command(cli, "-p", strconv.Itoa(m.Port), "cluster", "info").Output()
			if strings.Contains(string(out), "cluster_state:ok") {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("cluster node %s not ok within 30s:\n%s", m.Addr(), out)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return c
}

// Sentinel is a master redis-server watched by one sentinel.
type Sentinel struct {
	Master, Sentinel *Server
}

// URL is the Sentinel setup in dotm's --redis form.
func (s *Sentinel) URL() string {
	return fmt.Sprintf("redis://%s?master_name=%s", s.Sentinel.Addr(), SentinelMaster)
}

// SentinelMaster is the name the sentinel knows the master by.
const SentinelMaster = "dotm-test"

// StartSentinel runs a master redis-server and a sentinel (redis-server
// --sentinel, from the same binary) that monitors it.
func StartSentinel(t testing.TB) *Sentinel {
	t.Helper()
	bin := Require(t, "redis-server")
	master := Start(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "sentinel.conf")
	text := fmt.Sprintf("sentinel monitor %s 127.0.0.1 %d 1\nsentinel down-after-milliseconds %s 5000\n",
		SentinelMaster, master.Port, SentinelMaster)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	var sen *Server
	var err error
	for range 3 { // a free port can be taken between the check and the bind
		var port int
		if port, err = FreePortErr(); err != nil {
			t.Fatal(err)
		}
		sen = &Server{Port: port, Dir: dir, bin: bin,
			args: []string{conf, "--sentinel", "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--protected-mode", "no"}}
		if err = sen.start(); err == nil {
			break
		}
		sen.Stop()
	}
	if err != nil {
		t.Fatalf("redis sentinel: %v", err)
	}
	t.Cleanup(sen.Stop)
	return &Sentinel{Master: master, Sentinel: sen}
}
