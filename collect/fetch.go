package collect

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/lwindolf/dotm/collect/netinfo"
	"github.com/lwindolf/dotm/domain"
)

// MaxOutput caps what one host may send: a host with 10,000 sockets sends
// about 1.5 MB; anything much larger is broken or hostile.
const MaxOutput = 32 << 20

// Target is a node to fetch and how.
type Target struct {
	Name string
	// Address is the node's address override (HOST or HOST:PORT), or "".
	Address string
	// Method is agent, ssh or local.
	Method string
	Conf   *domain.Conf
}

// host is the address to connect to, with defPort when none is given.
func (t Target) hostPort(defPort int) string {
	a := t.Address
	if a == "" {
		a = t.Name
	}
	if _, _, err := net.SplitHostPort(a); err == nil {
		return a
	}
	return net.JoinHostPort(strings.Trim(a, "[]"), strconv.Itoa(defPort))
}

// FetchFunc fetches one host's sockets and interfaces.
type FetchFunc func(ctx context.Context, t Target) (*netinfo.Host, error)

// fetchers are the fetch methods by name, one for each of domain.Methods.
var fetchers = map[string]FetchFunc{
	domain.MethodAgent: FetchAgent,
	domain.MethodSSH:   FetchSSH,
	domain.MethodLocal: FetchLocal,
}

// Fetchers are the fetch methods by name; the map is the caller's.
func Fetchers() map[string]FetchFunc { return maps.Clone(fetchers) }

// FetchAgent reads a dotm agent (or the original C agent): it connects to
// the node's agent port and reads until the agent closes the connection.
func FetchAgent(ctx context.Context, t Target) (*netinfo.Host, error) {
	addr := t.hostPort(t.Conf.AgentPort)
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("agent %s: %w", addr, unwrapOp(err))
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	// A cancelled run (SIGTERM) ends the read at once, not at the deadline.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	out, err := readCapped(conn)
	if err != nil {
		if errors.Is(ctx.Err(), context.Canceled) {
			return nil, fmt.Errorf("agent %s: %w", addr, ctx.Err())
		}
		return nil, fmt.Errorf("agent %s: %w", addr, unwrapOp(err))
	}
	h, err := netinfo.ParseAgent(bytes.NewReader(out))
	if err != nil {
		return nil, fmt.Errorf("agent %s: %w", addr, err)
	}
	return h, nil
}

// readCapped reads r to its end, failing once it passes MaxOutput.
func readCapped(r io.Reader) ([]byte, error) {
	out, err := io.ReadAll(io.LimitReader(r, MaxOutput+1))
	if err != nil {
		return nil, err
	}
	if len(out) > MaxOutput {
		return nil, fmt.Errorf("sent more than %d MiB; is it really a dotm agent?", MaxOutput>>20)
	}
	return out, nil
}

// errTimeout is a fetch that hit its deadline.
var errTimeout = errors.New("timed out")

// unwrapOp drops the address net.OpError repeats, so messages stay short,
// and turns every kind of deadline into errTimeout.
func unwrapOp(err error) error {
	var op *net.OpError
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &op) && op.Timeout() {
		return errTimeout
	}
	if op != nil && op.Err != nil {
		return op.Err
	}
	return err
}

// FetchLocal reads this machine's sockets from /proc, in-process, in
// every network namespace (netinfo.ReadHost), with the ports its
// firewall publishes by DNAT (localDNAT).
func FetchLocal(ctx context.Context, t Target) (*netinfo.Host, error) {
	h, err := netinfo.ReadHost("/proc", netinfo.Namer{Root: "/"})
	if err != nil {
		return nil, err
	}
	h.Forwards = append(h.Forwards, localDNAT(ctx)...)
	return h, nil
}

// sshMarker separates the socket table from the interface list in the
// output of sshScript.
const sshMarker = "----- dotm: ip addr -----"

// sshScript prefers ss, falls back to netstat (wide, so long IPv6
// addresses are not cut; plain where -W is unknown), then lists
// interfaces. Without either tool it says so on stderr, which FetchSSH
// passes on.
const sshScript = `LC_ALL=C; export LC_ALL; PATH=$PATH:/usr/sbin:/sbin; ` +
	`if command -v ss >/dev/null 2>&1; then ss -tanp; ` +
	`elif command -v netstat >/dev/null 2>&1; then netstat -antpW 2>/dev/null || netstat -antp; ` +
	`else echo 'dotm: neither ss (iproute2) nor netstat (net-tools) is installed on this node' >&2; fi; ` +
	`echo '` + sshMarker + `'; ip addr`

// FetchSSH runs ss (or netstat) and ip addr on the node with the system's
// OpenSSH client in batch mode: host keys are checked against known_hosts
// (ssh_known_hosts setting, else the user's), never accepted blindly.
func FetchSSH(ctx context.Context, t Target) (*netinfo.Host, error) {
	args := []string{"-o", "BatchMode=yes", "-o", "ConnectTimeout=10"}
	if t.Conf.SSHKey != "" {
		args = append(args, "-i", t.Conf.SSHKey, "-o", "IdentitiesOnly=yes")
	}
	if t.Conf.SSHKnownHosts != "" {
		args = append(args, "-o", "UserKnownHostsFile="+t.Conf.SSHKnownHosts)
	}
	host := t.Address
	if host == "" {
		host = t.Name
	}
	if h, p, err := net.SplitHostPort(host); err == nil {
		host = h
		args = append(args, "-p", p)
	}
	if t.Conf.SSHUser != "" {
		args = append(args, "-l", t.Conf.SSHUser)
	}
	args = append(args, "--", host, sshScript)
	cmd := exec.CommandContext(ctx, "ssh", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &limitedBuffer{buf: &stderr, max: 4096}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("ssh %s: %w (is the OpenSSH client installed?)", host, err)
	}
	out, readErr := readCapped(stdout)
	if readErr != nil {
		_ = cmd.Process.Kill()
	}
	waitErr := cmd.Wait()
	if readErr != nil {
		return nil, fmt.Errorf("ssh %s: %w", host, readErr)
	}
	if waitErr != nil && len(out) == 0 {
		return nil, fmt.Errorf("ssh %s: %s", t.hostPort(22), sshFailure(ctx, waitErr, stderr.String(), t))
	}
	h, err := parseSSHOutput(out)
	if err != nil {
		if said := strings.TrimSpace(stderr.String()); said != "" {
			// The tool's own complaint says more than "empty input".
			return nil, fmt.Errorf("ssh %s: %w; the node said: %s", t.hostPort(22), err, lastLine(said))
		}
		return nil, fmt.Errorf("ssh %s: %w", t.hostPort(22), err)
	}
	return h, nil
}

// sshFailure says why ssh failed, and for host keys what to do.
func sshFailure(ctx context.Context, err error, stderr string, t Target) string {
	if ctx.Err() != nil {
		return "timed out"
	}
	msg := strings.TrimSpace(stderr)
	changed := strings.Contains(msg, "REMOTE HOST IDENTIFICATION HAS CHANGED")
	if changed || strings.Contains(msg, "Host key verification failed") {
		host, port, _ := net.SplitHostPort(t.hostPort(22))
		file := cmp.Or(t.Conf.SSHKnownHosts, "~/.ssh/known_hosts")
		what := "is unknown"
		if changed {
			what = "has CHANGED (a reinstalled host, or someone in between)"
		}
		return fmt.Sprintf("host key of %s %s; verify it, then accept it with: ssh-keyscan -p %s %s >> %s",
			host, what, port, host, file)
	}
	if msg == "" {
		return err.Error()
	}
	if strings.Contains(msg, "banner exchange") || strings.Contains(msg, "kex_exchange_identification") {
		return lastLine(msg) + fmt.Sprintf("; %s does not speak SSH: if a dotm agent listens there, "+
			"fetch the node with --method agent (dotm nodes add %s=%s --method agent)", t.hostPort(22), t.Name, t.hostPort(22))
	}
	return lastLine(msg)
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// parseSSHOutput splits sshScript's output at the marker and parses both
// halves.
func parseSSHOutput(out []byte) (*netinfo.Host, error) {
	sockets, ifaces, found := bytes.Cut(out, []byte(sshMarker+"\n"))
	if !found {
		return nil, errors.New("output lacks the interface listing; is ip (iproute2) installed on the node?")
	}
	socks, err := netinfo.ParseSocketTable(bytes.NewReader(sockets))
	if err != nil {
		return nil, err
	}
	ifs, err := netinfo.ParseIPAddr(bytes.NewReader(ifaces))
	if err != nil {
		return nil, err
	}
	return &netinfo.Host{Sockets: socks, Interfaces: ifs}, nil
}

// limitedBuffer keeps the first max bytes written to it.
type limitedBuffer struct {
	buf *bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - l.buf.Len(); room > 0 {
		l.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}
