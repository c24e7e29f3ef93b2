package agent

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lwindolf/dotm/collect/netinfo"
)

// loadAnswer is the size of the load test's answer: more than loopback
// socket buffers hold, so a client that does not read keeps its slot
// until the write timeout.
const loadAnswer = 8 << 20

// TestAgentLoadChild is not a test: it is the agent process of
// TestHostileAgentLoad and TestHostileAgentCollectorReserved. It serves an
// 8 MiB answer on loopback and prints its address and answer size; then,
// for the load test, its goroutine count every 50ms, or, as the agent of
// TestHostileAgentCollectorReserved (DOTM_AGENT_LOAD_CHILD=collector,
// 127.0.0.1 its collector, answers that may take a minute), its log.
func TestAgentLoadChild(t *testing.T) {
	mode := os.Getenv("DOTM_AGENT_LOAD_CHILD")
	if mode == "" {
		return
	}
	host := &netinfo.Host{Hostname: strings.Repeat("a", loadAnswer)}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		fmt.Println("listen:", err)
		os.Exit(1)
	}
	srv := &Server{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, WriteTimeout: 3 * time.Second,
		Source: fixedSource(host)}
	if mode == "collector" {
		srv.Collectors = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
		srv.WriteTimeout = 2 * patience
		srv.Log = slog.New(slog.NewTextHandler(os.Stdout, nil))
	}
	fmt.Println(ln.Addr(), len(srv.render(context.Background())))
	go srv.Serve(context.Background(), ln)
	if mode == "collector" {
		select {}
	}
	for {
		fmt.Println(runtime.NumGoroutine())
		time.Sleep(50 * time.Millisecond)
	}
}

// startLoadChild starts TestAgentLoadChild in mode as its own process and
// returns its address, its answer's size and the rest of its output.
func startLoadChild(t *testing.T, mode string) (child *exec.Cmd, addr string, size int, lines *bufio.Scanner) {
	t.Helper()
	if testing.Short() {
		t.Skip("a load test")
	}
	child = exec.Command(os.Args[0], "-test.run=^TestAgentLoadChild$")
	child.Env = append(os.Environ(), "DOTM_AGENT_LOAD_CHILD="+mode)
	out, _ := child.StdoutPipe()
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { child.Process.Kill(); child.Wait() })
	lines = bufio.NewScanner(out)
	if !lines.Scan() {
		t.Fatal("agent process printed nothing")
	}
	if _, err := fmt.Sscan(lines.Text(), &addr, &size); err != nil {
		t.Fatalf("agent process: %q: %v", lines.Text(), err)
	}
	return child, addr, size, lines
}

// procFigures reads an agent process's open file descriptors, threads and
// resident memory (KiB).
func procFigures(pid int) (fds, threads, rssKiB int) {
	entries, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, line := range strings.Split(string(status), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 2 && f[0] == "Threads:":
			threads, _ = strconv.Atoi(f[1])
		case len(f) >= 2 && f[0] == "VmRSS:":
			rssKiB, _ = strconv.Atoi(f[1])
		}
	}
	return len(entries), threads, rssKiB
}

// TestHostileAgentLoad runs the agent as its own process under 500
// concurrent connections: 400 from six networks that connect and never
// read (slowloris), 100 from another that read whole answers again and
// again. A collector on its own address is still served in full within a
// collect deadline each time, and the agent's goroutines, descriptors and
// memory stay under fixed bounds.
func TestHostileAgentLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("a load test")
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("needs /proc to measure the agent")
	}
	child, addr, size, lines := startLoadChild(t, "load")
	var mu sync.Mutex
	var maxGoroutines, maxFDs, maxThreads, maxRSS int
	go func() {
		for lines.Scan() {
			n, _ := strconv.Atoi(lines.Text())
			fds, threads, rss := procFigures(child.Process.Pid)
			mu.Lock()
			maxGoroutines, maxFDs = max(maxGoroutines, n), max(maxFDs, fds)
			maxThreads, maxRSS = max(maxThreads, threads), max(maxRSS, rss)
			mu.Unlock()
		}
	}()

	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	dial := func(from string) (net.Conn, error) {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: patience}
		return d.DialContext(ctx, "tcp4", addr)
	}
	for i := range 400 { // slowloris: connect, never read, hold on
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := dial(fmt.Sprintf("127.2.%d.1", i%6))
			if err != nil {
				return
			}
			defer c.Close()
			<-ctx.Done()
		}()
	}
	for range 100 { // greedy readers
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				c, err := dial("127.8.0.1")
				if err != nil {
					continue
				}
				io.Copy(io.Discard, c)
				c.Close()
			}
		}()
	}

	// The collector, from its own network, with collect's default deadline.
	const deadline = 10 * time.Second
	var slowest time.Duration
	for range 5 {
		start := time.Now()
		c, err := dial("127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(start.Add(deadline))
		n, err := io.Copy(io.Discard, c)
		c.Close()
		took := time.Since(start)
		slowest = max(slowest, took)
		if err != nil || n != int64(size) {
			t.Errorf("collector under load got %d of %d bytes in %s (%v)", n, size, took, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	stop()
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	t.Logf("under 500 connections: collector served in %s at worst; agent peaked at %d goroutines, %d fds, "+
		"%d threads, %d MiB RSS", slowest.Round(time.Millisecond), maxGoroutines, maxFDs, maxThreads, maxRSS>>10)
	// 64 answers at once, plus the runtime's own: nothing grows per client.
	if maxGoroutines > 2*DefaultMaxConns+20 || maxFDs > 2*DefaultMaxConns+20 {
		t.Errorf("agent peaked at %d goroutines and %d open files; want both bounded by its %d connection slots",
			maxGoroutines, maxFDs, DefaultMaxConns)
	}
	if maxRSS > 256<<10 {
		t.Errorf("agent peaked at %d MiB resident; want under 256 MiB for an %d MiB answer", maxRSS>>10, size>>20)
	}
	if maxGoroutines == 0 {
		t.Error("no figures read from the agent process")
	}
}

// TestHostileAgentRunsNoCommand: the agent binary cannot run programs, as
// it links no package that starts processes; it reads /proc.
func TestHostileAgentRunsNoCommand(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/lwindolf/dotm/cmd/dotm-agent").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps gave %q", out)
	}
	for _, d := range deps {
		if d == "os/exec" || d == "golang.org/x/sys/execabs" {
			t.Errorf("dotm-agent links %s: the agent must not be able to run commands", d)
		}
	}
}

// TestHostileAgentCollectorReserved runs the agent as its own process
// with 127.0.0.1 as its --collector, and attacks it from 144 addresses in
// 16 networks (nine in each, more than the per-network cap), each
// connecting and never reading, more than the agent's shared slots hold.
// Once the shared slots are all taken (another client is refused), the
// collector is still answered in full, again and again.
func TestHostileAgentCollectorReserved(t *testing.T) {
	_, addr, size, lines := startLoadChild(t, "collector")
	var log syncBuffer
	go func() {
		for lines.Scan() {
			fmt.Fprintln(&log, lines.Text())
		}
	}()

	const networks, perNetwork = 16, 9
	attackers := 0
	for n := range networks {
		for h := range perNetwork {
			dialFrom(t, fmt.Sprintf("127.2.%d.%d", n, h+1), addr) // never read
			attackers++
		}
	}
	if attackers <= DefaultMaxConns+networks*(perNetwork-DefaultMaxConnsPerClient) {
		t.Fatalf("%d attackers do not outnumber the caps", attackers)
	}
	// Every attacker is either holding a shared slot or was refused.
	waitLog(t, &log, "too many connections", attackers-DefaultMaxConns)
	if got, err := io.ReadAll(dialFrom(t, "127.3.0.1", addr)); err != nil || len(got) != 0 {
		t.Fatalf("a client of another network read %d bytes, %v: the shared slots are not all taken, "+
			"so this test proves nothing", len(got), err)
	}
	for i := range 5 {
		got, err := io.Copy(io.Discard, dialFrom(t, "127.0.0.1", addr))
		if err != nil || got != int64(size) {
			t.Errorf("collector, request %d, under attack got %d of %d bytes (%v)", i+1, got, size, err)
		}
	}
	if t.Failed() {
		t.Logf("agent log:\n%s", log.String())
	}
}
