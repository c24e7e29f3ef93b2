package collect

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strings"

	"github.com/lwindolf/dotm/domain"
)

// Host discovery for "dotm nodes suggest": the system's hosts database.

// HostEntry is one line of the hosts database: an address and its names,
// the first the canonical one.
type HostEntry struct {
	IP    netip.Addr
	Names []string
}

// Suggest picks the hosts database entries worth adding as nodes.
func Suggest(hosts []HostEntry, known []string, resolver map[string]string, conf *domain.Conf) []HostEntry {
	var out []HostEntry
	seen := map[string]bool{}
	for _, h := range hosts {
		if !conf.IsInternal(h.IP) || h.IP.IsLoopback() || resolver[h.IP.String()] != "" {
			continue
		}
		if slices.ContainsFunc(h.Names, func(n string) bool { return slices.Contains(known, n) || seen[n] }) {
			continue
		}
		if domain.ValidateNodeName(h.Names[0]) != nil {
			continue
		}
		seen[h.Names[0]] = true
		out = append(out, h)
	}
	return out
}

// HostsDatabase enumerates the hosts database through NSS (getent), or
// reads /etc/hosts where getent is missing.
func HostsDatabase(ctx context.Context) ([]HostEntry, error) {
	if path, err := exec.LookPath("getent"); err == nil {
		out, err := exec.CommandContext(ctx, path, "hosts").Output()
		if err == nil {
			return ParseHosts(strings.NewReader(string(out))), nil
		}
	}
	f, err := os.Open("/etc/hosts")
	if err != nil {
		return nil, fmt.Errorf("read the hosts database: %w", err)
	}
	defer f.Close()
	return ParseHosts(f), nil
}

// ParseHosts reads hosts(5) lines (getent hosts prints the same): an address, then names.
func ParseHosts(r io.Reader) []HostEntry {
	var out []HostEntry
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		ip, err := netip.ParseAddr(f[0])
		if err != nil {
			continue
		}
		out = append(out, HostEntry{IP: ip.Unmap(), Names: f[1:]})
	}
	return out
}
