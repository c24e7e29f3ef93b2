package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/lwindolf/dotm/collect"
	"github.com/lwindolf/dotm/domain"
	"github.com/lwindolf/dotm/internal/textsafe"
	"github.com/lwindolf/dotm/store"
	"github.com/spf13/pflag"
)

func nodesCommand() *command {
	return &command{
		name:    "nodes",
		summary: "manage the list of nodes to collect",
		subs: []*command{
			{name: "add", args: "NAME[=HOST[:PORT]]...", summary: "add nodes, optionally with the address to reach them by",
				details: `NAME is a host name or IPv4 address. HOST[:PORT] overrides how the node is
reached (agent port 4848 or sshd), e.g. db01=10.0.3.5:4848 or db01=[2001:db8::5]:4848.
Adding a node that exists updates its address. The agent and local methods see every
network namespace of the node (its containers); ssh sees the host's namespace only.`,
				bind: func(fs *pflag.FlagSet) runFunc {
					method := fs.String("method", "", "fetch method for these nodes: agent, ssh or local (default: fetch_parameters)")
					return func(ctx context.Context, e *env, args []string) error { return nodesAdd(ctx, e, args, *method) }
				}},
			{name: "remove", args: "NAME...", summary: "remove nodes and everything stored about them",
				bind: func(*pflag.FlagSet) runFunc { return nodesRemove }},
			{name: "list", summary: "list nodes with their address and last fetch",
				bind: func(*pflag.FlagSet) runFunc { return nodesList }},
			{name: "show", args: "NAME", summary: "print a node's services and connections as collected",
				bind: func(*pflag.FlagSet) runFunc { return nodesShow }},
			{name: "import", args: "FILE|-", summary: "add the nodes listed in a file (or standard input)",
				details: `One node per line: NAME [HOST[:PORT]]. Blank lines and text after '#' are ignored.
Every line is checked before any node is added.`,
				bind: func(*pflag.FlagSet) runFunc { return nodesImport }},
			{name: "suggest", summary: "print private-network hosts from the hosts database that are not nodes yet",
				details: `Reads the system's hosts database ("getent hosts", else /etc/hosts) and prints the
names whose address is in an internal network (private ranges and
other_internal_networks) and that are neither a node nor a known node IP.
The output can be fed back: dotm nodes suggest | dotm nodes import -`,
				bind: func(*pflag.FlagSet) runFunc { return nodesSuggest }},
		},
	}
}

func nodesAdd(ctx context.Context, e *env, args []string, method string) error {
	if len(args) == 0 {
		return usagef("dotm nodes add", "give at least one NAME[=HOST[:PORT]]")
	}
	if err := domain.ValidateMethod(method); err != nil {
		return usagef("dotm nodes add", "--method: %v", err)
	}
	specs := make([]domain.NodeSpec, len(args))
	for i, a := range args {
		sp, err := domain.ParseNodeSpec(a)
		if err != nil {
			return usagef("dotm nodes add", "%v", err)
		}
		sp.Method = method
		specs[i] = sp
	}
	return e.addNodes(ctx, specs)
}

func (e *env) addNodes(ctx context.Context, specs []domain.NodeSpec) error {
	return e.withStore(ctx, func(s *store.Store) error {
		added, err := s.AddNodes(ctx, specs)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "added %d node(s)", len(added))
		if n := len(specs) - len(added); n > 0 {
			fmt.Fprintf(e.stdout, ", %d already known", n)
		}
		fmt.Fprintln(e.stdout)
		return nil
	})
}

func nodesRemove(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usagef("dotm nodes remove", "give at least one NAME")
	}
	return e.withStore(ctx, func(s *store.Store) error { return s.RemoveNodes(ctx, args) })
}

func nodesList(ctx context.Context, e *env, args []string) error {
	if err := noArgs("dotm nodes list", args); err != nil {
		return err
	}
	return e.withStore(ctx, func(s *store.Store) error {
		names, err := s.Nodes(ctx)
		if err != nil {
			return err
		}
		info, err := s.NodeInfo(ctx, names)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tADDRESS\tLAST FETCH\tSTATUS")
		for _, n := range info {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", cell(n.Name), cell(cmp.Or(n.Address, "-")), stamp(n.LastFetch),
				cell(oneLine(cmp.Or(n.FetchStatus, "-"))))
		}
		return tw.Flush()
	})
}

func nodesShow(ctx context.Context, e *env, args []string) error {
	if len(args) != 1 {
		return usagef("dotm nodes show", "give one node NAME")
	}
	name := args[0]
	return e.withStore(ctx, func(s *store.Store) error {
		info, err := s.NodeInfo(ctx, []string{name})
		if err != nil {
			return err
		}
		n := info[0]
		if n.LastFetch == 0 && n.Address == "" {
			if names, _ := s.Nodes(ctx); !slices.Contains(names, name) {
				return fmt.Errorf("node %q is not known (see dotm nodes list)", name)
			}
		}
		svcs, err := s.Services(ctx, name)
		if err != nil {
			return err
		}
		conns, err := s.Connections(ctx, name)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s  ips %s  last fetch %s  status %s\n\n", cell(name), cell(strings.Join(n.IPs, ",")),
			stamp(n.LastFetch), cell(oneLine(cmp.Or(n.FetchStatus, "-"))))
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "PORT\tPROCESS\tALERT\tFIRST SEEN\tLAST SEEN\tLAST USED")
		for _, sv := range svcs {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", servicePort(sv), cell(serviceProcess(sv)),
				cell(cmp.Or(sv.AlertStatus, "-")), stamp(sv.FirstSeen), stamp(sv.LastSeen), stamp(sv.LastConnection))
		}
		fmt.Fprintln(tw)
		fmt.Fprintln(tw, "DIR\tREMOTE\tPORT\tPROCESS\tCOUNT\tLAST SEEN")
		for _, c := range conns {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", c.Direction, cell(inContainer(c.Remote, c.RemoteContainer)), cell(c.Port),
				cell(inContainer(cmp.Or(c.Process, "?"), c.Container)), c.Connections, stamp(c.LastSeen))
		}
		nc, checks, ok, err := s.Checks(ctx, name)
		if err != nil || !ok {
			return errors.Join(err, tw.Flush())
		}
		fmt.Fprintf(tw, "\nMONITORING: %s\t%s\n", cell(nc.Status), cell(oneLine(nc.StatusInformation)))
		fmt.Fprintln(tw, "CHECK\tSERVICE\tSTATE\tOUTPUT")
		for _, c := range checks {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", cell(c.Service), cell(cmp.Or(c.Mapping, "-")), cell(c.Status),
				cell(oneLine(c.StatusInformation)))
		}
		return tw.Flush()
	})
}

// stamp shows a unix time, or "never".
func stamp(t int64) string {
	if t == 0 {
		return "never"
	}
	return time.Unix(t, 0).UTC().Format(time.RFC3339)
}

// cell makes untrusted text one inert table cell: escaped as by inert,
// and newlines, tabs and bidirectional overrides too, so that a name can
// neither forge a row, shift a column nor reorder what is shown.
func cell(s string) string { return textsafe.Cell(s) }

// oneLine keeps the first line of a message, for tables.
func oneLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}

func nodesImport(ctx context.Context, e *env, args []string) error {
	if len(args) != 1 {
		return usagef("dotm nodes import", "give one FILE, or - for standard input")
	}
	var r io.Reader = e.stdin
	name := "standard input"
	if args[0] != "-" {
		f, err := os.Open(args[0])
		if err != nil {
			return fmt.Errorf("read node list: %w", err)
		}
		defer f.Close()
		r, name = f, args[0]
	}
	specs, err := parseNodeList(r, name)
	if err != nil {
		return err
	}
	return e.addNodes(ctx, specs)
}

// parseNodeList reads lines of NAME [HOST[:PORT]], checking all of them.
func parseNodeList(r io.Reader, name string) ([]domain.NodeSpec, error) {
	var specs []domain.NodeSpec
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) > 2 {
			return nil, fmt.Errorf("%s line %d: want NAME [HOST[:PORT]], got %d fields", name, n, len(f))
		}
		arg := f[0]
		if len(f) == 2 {
			arg += "=" + f[1]
		}
		sp, err := domain.ParseNodeSpec(arg)
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %w", name, n, err)
		}
		specs = append(specs, sp)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return specs, nil
}

func nodesSuggest(ctx context.Context, e *env, args []string) error {
	if err := noArgs("dotm nodes suggest", args); err != nil {
		return err
	}
	hosts, err := collect.HostsDatabase(ctx)
	if err != nil {
		return err
	}
	return e.withStore(ctx, func(s *store.Store) error {
		conf, err := s.LoadConf(ctx)
		if err != nil {
			return err
		}
		known, err := s.Nodes(ctx)
		if err != nil {
			return err
		}
		resolver, err := s.Resolver(ctx)
		if err != nil {
			return err
		}
		for _, h := range collect.Suggest(hosts, known, resolver, conf) {
			fmt.Fprintf(e.stdout, "%s\t# %s\n", inert(h.Names[0]), h.IP)
		}
		return nil
	})
}
