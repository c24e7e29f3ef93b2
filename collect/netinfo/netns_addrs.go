package netinfo

import (
	"bufio"
	"encoding/hex"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
)

// readNetnsAddrs returns the addresses of the namespace dir/net belongs
// to (dir is /proc/<pid>), without setns: the IPv4 addresses from
// net/fib_trie (its "/32 host LOCAL" entries) and the IPv6 ones from
// net/if_inet6. Loopback and link-local addresses identify nothing and
// are left out. Files that cannot be read give no addresses.
func readNetnsAddrs(dir string) []netip.Addr {
	var out []netip.Addr
	if f, err := os.Open(filepath.Join(dir, "net", "fib_trie")); err == nil {
		out = append(out, parseFibTrieLocal(f)...)
		f.Close()
	}
	if f, err := os.Open(filepath.Join(dir, "net", "if_inet6")); err == nil {
		out = append(out, parseIfInet6(f)...)
		f.Close()
	}
	return out
}

// identifying tells whether a is an address that names one host.
func identifying(a netip.Addr) bool {
	return a.IsValid() && !a.IsLoopback() && !a.IsLinkLocalUnicast() && !a.IsUnspecified()
}

// parseFibTrieLocal reads /proc/net/fib_trie: an address line "|-- A"
// followed by "/32 host LOCAL" is an address of the namespace. Each one
// shows in the Main and the Local table; it is returned once.
func parseFibTrieLocal(r io.Reader) []netip.Addr {
	var out []netip.Addr
	seen := map[netip.Addr]bool{}
	var last netip.Addr
	sc := bufio.NewScanner(io.LimitReader(r, 16<<20))
	for sc.Scan() {
		t := strings.TrimSpace(sc.Text())
		if a, ok := strings.CutPrefix(t, "|-- "); ok {
			last, _ = netip.ParseAddr(a)
			continue
		}
		if t == "/32 host LOCAL" && identifying(last) && !seen[last] {
			seen[last] = true
			out = append(out, last)
		}
	}
	return out
}

// parseIfInet6 reads /proc/net/if_inet6: lines of the address as 32 hex
// digits, then index, prefix length, scope, flags and interface.
func parseIfInet6(r io.Reader) []netip.Addr {
	var out []netip.Addr
	sc := bufio.NewScanner(io.LimitReader(r, 16<<20))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 6 || len(f[0]) != 32 {
			continue
		}
		raw, err := hex.DecodeString(f[0])
		if err != nil {
			continue
		}
		if a, ok := netip.AddrFromSlice(raw); ok && identifying(a) {
			out = append(out, a)
		}
	}
	return out
}
