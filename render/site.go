package render

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"maps"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/yuin/goldmark"
	gmhtml "github.com/yuin/goldmark/renderer/html"
	"golang.org/x/sync/errgroup"

	"github.com/lwindolf/dotm/analyze"
	"github.com/lwindolf/dotm/internal/timefmt"
	"github.com/lwindolf/dotm/render/layout"
	"github.com/lwindolf/dotm/site"
	"github.com/lwindolf/dotm/store"
)

// Writer receives the files of the site by relative slash path
// (site.Tree).
type Writer interface {
	Write(rel string, data []byte) error
}

// SiteOptions tune the site.
type SiteOptions struct {
	// Templates are the page templates (templates.FS).
	Templates fs.FS
	// Notes is a directory of Markdown notes: nodes/<node>.md and
	// services/<process>.md. Empty: none.
	Notes string
	// NotesUnsafe passes raw HTML in notes through; by default it is
	// left out.
	NotesUnsafe bool
	// Refresh, if positive, makes every page reload itself after that
	// many seconds (a meta refresh).
	Refresh int
}

// navItem is an entry of the top navigation.
type navItem struct {
	Name, Path string
	Current    bool
}

// sitePage is a page of the navigation: where it is, its name in the
// navigation (and its title), its template, and what builds it (with the
// pages below it: a node's, a service's, a snapshot's).
type sitePage struct {
	path, name, tmpl string
	build            func(*builder, sitePage) error
}

// sitePages are the navigation, in order, and what BuildSite builds.
var sitePages = []sitePage{
	{"index.html", "Overview", "index", (*builder).overview},
	{"nodes.html", "Nodes", "nodes", (*builder).nodes},
	{"services.html", "Services", "services", (*builder).services},
	{"alerts.html", "Alerts", "alerts", (*builder).plain},
	{"unused.html", "Unused & stale", "unused", (*builder).findings},
	{"problems.html", "Problems", "problems", (*builder).findings},
	{"changes.html", "Changes", "changes", (*builder).changes},
	{"history.html", "History", "history", (*builder).history},
	{"geo.html", "Geo", "geo", (*builder).plain},
	{"settings.html", "Settings", "settings", (*builder).plain},
}

// top starts the view of a navigation page.
func (b *builder) top(pg sitePage) *page { return b.newPage(pg.path, pg.name) }

// plain builds a page whose template needs only the model.
func (b *builder) plain(pg sitePage) error { return b.render(pg.path, pg.tmpl, b.top(pg)) }

// page is what every template gets.
type page struct {
	Title string
	Root  string // relative prefix from the page to the site root
	Nav   []navItem
	AsOf  string
	M     *analyze.Model
	Graph template.HTML
	Note  template.HTML
	// Refresh is SiteOptions.Refresh.
	Refresh int
}

// NodeLink is the relative link from this page to a node's page.
func (p *page) NodeLink(name string) string { return p.Root + NodePath(name) + ".html" }

// ProcessLink is the relative link to a process's page.
func (p *page) ProcessLink(name string) string { return p.Root + ProcessPath(name) + ".html" }

// IsNode tells whether a remote is one of the fleet's nodes.
func (p *page) IsNode(remote string) bool { return p.M.Node(remote) != nil }

// Age is "fresh" or "old" (past aging).
func (p *page) Age(t int64, kind string) string {
	if p.M.Old(t, kind) {
		return "old"
	}
	return "fresh"
}

// Ports lists the distinct ports of a process's services.
func (p *page) Ports(pr *analyze.Process) string { return portsOf(pr) }

// portsOf lists the distinct ports of a process's services.
func portsOf(pr *analyze.Process) string {
	var ports []int
	for _, s := range pr.Services {
		if !slices.Contains(ports, s.Port) {
			ports = append(ports, s.Port)
		}
	}
	slices.Sort(ports)
	parts := make([]string, len(ports))
	for i, n := range ports {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, ", ")
}

// RemoteLabel is a connection's remote as the node page shows it: an
// Internet remote with the geoip label of its addresses, e.g. "Internet:
// AS64500 Example Org (DE), +2 more" (more distinct labels).
func (p *nodePage) RemoteLabel(c store.Connection) string {
	if l := p.N.GeoLabels[store.ConnectionID{Port: c.Port, Remote: c.Remote}]; l != "" {
		return c.Remote + ": " + l
	}
	return c.Remote
}

// NodePath is the site path (without extension) of a node's page and
// graph.
func NodePath(name string) string { return "nodes/" + site.Slug(name) }

// GroupPath is the site path (without extension) of a group's page and
// graph.
func GroupPath(key string) string { return "groups/" + site.Slug(key) }

// GroupLink is the relative link from this page to a group's page.
func (p *page) GroupLink(key string) string { return p.Root + GroupPath(key) + ".html" }

// ProcessPath is the site path (without extension) of a process's page.
func ProcessPath(name string) string { return "services/" + site.Slug(name) }

// BuildSite writes the whole site for m into w, laying out graphs with l.
func BuildSite(ctx context.Context, m *analyze.Model, w Writer, l *layout.Layouter, o SiteOptions) error {
	tmpl, err := template.New("").Funcs(template.FuncMap{
		"join":        strings.Join,
		"time":        timefmt.Stamp,
		"span":        timefmt.Span,
		"dur":         func(d time.Duration) string { return timefmt.Span(int64(d / time.Second)) },
		"sub":         func(a, b int64) int64 { return a - b },
		"nodesFolded": func(page any, nodes []string) foldedNodes { return foldedNodes{page, nodes} },
		"withPage":    func(page, v any) withPage { return withPage{page, v} },
	}).ParseFS(o.Templates, "base.tmpl")
	if err != nil {
		return fmt.Errorf("parse templates: %w", err)
	}
	fg := computeGrouping(m)
	groups := fg.groups(m)
	svgs, err := writeGraphs(ctx, m, fg, groups, w, l)
	if err != nil {
		return err
	}
	b := &builder{m: m, w: w, tmpl: tmpl, svgs: svgs, o: o, f: analyze.FindingsOf(m, 0), groupList: groups}
	for _, pg := range sitePages {
		b.nav = append(b.nav, navItem{Name: pg.name, Path: pg.path})
	}
	for _, pg := range sitePages {
		if err := pg.build(b, pg); err != nil {
			return err
		}
	}
	for _, step := range []func() error{b.groups, b.data, b.writeSearch} {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// writeGraphs lays out every graph (in parallel, cached) and writes each
// .dot beside its .svg.
func writeGraphs(ctx context.Context, m *analyze.Model, fg *grouping, groups []Group, w Writer, l *layout.Layouter) (map[string][]byte, error) {
	jobs := map[string][]byte{"graphs/global": fg.globalDOT(m), "graphs/services": ServiceDOT(m)}
	peers := peersOf(m)
	for _, n := range m.Nodes {
		jobs[NodePath(n.Name)] = nodeDOT(m, n.Name, peers, groups)
	}
	for _, g := range groups {
		jobs[GroupPath(g.Key)] = fg.groupDOT(m, g.Key)
	}
	for _, e := range m.History {
		if dot := changesDOT(m, e.Changes, groups); dot != nil {
			jobs[snapshotGraph(e.Time)] = dot
		}
	}
	svgs, err := l.LayoutAll(ctx, jobs)
	if err != nil {
		return nil, err
	}
	for _, name := range slices.Sorted(maps.Keys(jobs)) {
		if err := w.Write(name+".dot", jobs[name]); err != nil {
			return nil, err
		}
		svg := svgs[name]
		if strings.HasPrefix(name, "graphs/") {
			svg = standaloneSVG(svg)
		}
		if err := w.Write(name+".svg", svg); err != nil {
			return nil, err
		}
	}
	return svgs, nil
}

type builder struct {
	m    *analyze.Model
	w    Writer
	tmpl *template.Template            // base.tmpl: layout and shared blocks
	page map[string]*template.Template // base plus one page kind, parsed once
	svgs map[string][]byte
	o    SiteOptions
	f    *analyze.Findings // for the overview and the findings pages
	// groupList are the global graph's groups, computed once.
	groupList []Group
	nav       []navItem  // sitePages
	tmu       sync.Mutex // guards page
	wmu       sync.Mutex // serialises w.Write
}

// newPage starts the view of a page at path (e.g. "nodes/x.html").
func (b *builder) newPage(path, title string) *page {
	p := &page{Title: title, Root: strings.Repeat("../", strings.Count(path, "/")), M: b.m, AsOf: b.asOf(), Refresh: b.o.Refresh}
	for _, n := range b.nav {
		n.Current = n.Path == path
		p.Nav = append(p.Nav, n)
	}
	return p
}

func (b *builder) asOf() string {
	if b.m.State.LastUpdated == 0 {
		return "never collected"
	}
	return timefmt.Stamp(b.m.State.LastUpdated)
}

// render executes the page template name with data into path. Pages may
// be rendered at once (eachPage); their files are written one at a time.
func (b *builder) render(path, name string, data any) error {
	t, err := b.pageTemplate(name)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "base", data); err != nil {
		return fmt.Errorf("render %s: %w", path, err)
	}
	out := inertText(buf.Bytes())
	b.wmu.Lock()
	defer b.wmu.Unlock()
	return b.w.Write(path, out)
}

// eachPage calls page for every item, on all cores: the pages of a kind
// (a node's, a process's, a group's) share nothing but the model, which
// they only read. It returns the first error.
func eachPage[T any](items []T, page func(T) error) error {
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for _, it := range items {
		g.Go(func() error { return page(it) })
	}
	return g.Wait()
}

// pageTemplate is the base template with page kind name's content,
// parsed on first use.
func (b *builder) pageTemplate(name string) (*template.Template, error) {
	b.tmu.Lock()
	defer b.tmu.Unlock()
	if t := b.page[name]; t != nil {
		return t, nil
	}
	t, err := b.tmpl.Clone()
	if err == nil {
		_, err = t.ParseFS(b.o.Templates, name+".tmpl")
	}
	if err != nil {
		return nil, fmt.Errorf("template %s: %w", name, err)
	}
	if b.page == nil {
		b.page = map[string]*template.Template{}
	}
	b.page[name] = t
	return t, nil
}

// inlineSVG makes a Graphviz SVG embeddable in a page: Graphviz has
// escaped every label, so only its XML prolog and doctype go, and the
// titles and comments that name Graphviz ids ("n22", "n0->n22"): the
// tooltips of the links say what a box or arrow is.
func (b *builder) inlineSVG(name string) template.HTML {
	svg := b.svgs[name]
	if i := bytes.Index(svg, []byte("<svg")); i >= 0 {
		svg = svg[i:]
	}
	svg = svgIDNames.ReplaceAll(svg, nil)
	return template.HTML(svg) // #nosec: Graphviz output, labels escaped by DOT generation and Graphviz
}

// svgIDNames are the <title> elements and comments of a Graphviz SVG.
var svgIDNames = regexp.MustCompile(`(?m)^(<title>[^<]*</title>|<!--[^>]*-->)\n`)

type overviewPage struct {
	*page
	Services, Connections int
	AlertCounts           []stateCount
	TopAlerts             []analyze.Alert
	FetchProblems         []*analyze.Node
	SourceProblems        []store.SourceStatus
	F                     *analyze.Findings
	Groups                []Group
}

type stateCount struct {
	State string
	Count int
}

func (b *builder) overview(pg sitePage) error {
	p := &overviewPage{page: b.top(pg), F: b.f, Groups: b.groupList}
	p.Graph = b.inlineSVG("graphs/global")
	counts := map[string]int{}
	for _, a := range b.m.Alerts {
		counts[a.Status]++
	}
	for _, s := range []string{"DOWN", "CRITICAL", "UNKNOWN", "UNREACHABLE", "WARNING", "PENDING"} {
		if counts[s] > 0 {
			p.AlertCounts = append(p.AlertCounts, stateCount{s, counts[s]})
		}
	}
	p.Services, p.Connections = b.m.LiveTotals()
	for _, n := range b.m.Nodes {
		if n.FetchStatus != "" && n.FetchStatus != "OK" {
			p.FetchProblems = append(p.FetchProblems, n)
		}
	}
	p.TopAlerts = b.m.Alerts[:min(len(b.m.Alerts), 20)]
	for _, s := range b.m.Coverage.Sources {
		if s.Status != "OK" {
			p.SourceProblems = append(p.SourceProblems, s)
		}
	}
	return b.render(pg.path, pg.tmpl, p)
}

type nodePage struct {
	*page
	N    *analyze.Node
	Slug string
	rows map[string]bool // ConnAnchors given to a row
}

// RowID is the id of a connection's row, ConnAnchor, which the graphs'
// arrows link; empty for a later row with the same anchor.
func (p *nodePage) RowID(c store.Connection) string {
	id := ConnAnchor(c.Direction, c.Remote, c.Port)
	if p.rows[id] {
		return ""
	}
	if p.rows == nil {
		p.rows = map[string]bool{}
	}
	p.rows[id] = true
	return id
}

// ChecksFor lists the checks of the node that map to process.
func (p *nodePage) ChecksFor(process string) []string {
	var out []string
	for _, c := range p.N.Checks.Services {
		if slices.Contains(strings.Split(c.Mapping, ","), process) {
			out = append(out, c.Service)
		}
	}
	return out
}

func (b *builder) nodes(pg sitePage) error {
	if err := b.plain(pg); err != nil {
		return err
	}
	return eachPage(b.m.Nodes, func(n *analyze.Node) error {
		path := NodePath(n.Name)
		p := &nodePage{page: b.newPage(path+".html", n.Name), N: n, Slug: site.Slug(n.Name)}
		p.Graph = b.inlineSVG(path)
		p.Note = b.note("nodes", n.Name)
		return b.render(path+".html", "node", p)
	})
}

type groupPage struct {
	*page
	G Group
}

func (b *builder) groups() error {
	return eachPage(b.groupList, func(g Group) error {
		path := GroupPath(g.Key)
		p := &groupPage{page: b.newPage(path+".html", fmt.Sprintf("Group %s (%d nodes)", g.Key, len(g.Members))), G: g}
		p.Graph = b.inlineSVG(path)
		return b.render(path+".html", "group", p)
	})
}

type processPage struct {
	*page
	P *analyze.Process
}

func (b *builder) services(pg sitePage) error {
	p := b.top(pg)
	p.Graph = b.inlineSVG("graphs/services")
	if err := b.render(pg.path, pg.tmpl, p); err != nil {
		return err
	}
	return eachPage(b.m.Processes, func(pr *analyze.Process) error {
		path := ProcessPath(pr.Name)
		pp := &processPage{page: b.newPage(path+".html", "Service "+cmp.Or(pr.Name, "(unknown process)")), P: pr}
		pp.Note = b.note("services", pr.Name)
		return b.render(path+".html", "process", pp)
	})
}

// note renders notes/<kind>/<name>.md, if there is one (see readNote).
// Names that are not a plain file name (a process called "../x") have no
// note.
func (b *builder) note(kind, name string) template.HTML {
	if b.o.Notes == "" || name == "" || strings.ContainsAny(name, `/\`) || !filepath.IsLocal(name+".md") {
		return ""
	}
	src, ok := readNote(b.o.Notes, kind, name)
	if !ok {
		return ""
	}
	var opts []goldmark.Option
	if b.o.NotesUnsafe {
		opts = append(opts, goldmark.WithRendererOptions(gmhtml.WithUnsafe()))
	}
	var out bytes.Buffer
	if err := goldmark.New(opts...).Convert(src, &out); err != nil {
		return template.HTML("<p>(note could not be rendered)</p>")
	}
	return template.HTML(out.String()) // goldmark drops raw HTML unless --notes-unsafe
}

// data writes data/*.json for other tools: every field, sorted.
func (b *builder) data() error {
	var svcs []store.Service
	var conns []store.Connection
	var infos []store.Node
	for _, n := range b.m.Nodes {
		svcs = append(svcs, n.Services...)
		conns = append(conns, n.Connections...)
		infos = append(infos, n.Node)
	}
	files := map[string]any{
		"data/nodes.json": infos, "data/services.json": svcs,
		"data/connections.json": conns, "data/alerts.json": b.m.Alerts,
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", " ")
		if err := enc.Encode(files[name]); err != nil {
			return fmt.Errorf("encode %s: %w", name, err)
		}
		if err := b.w.Write(name, InertJSON(buf.Bytes())); err != nil {
			return err
		}
	}
	return nil
}

// foldedNodes is the argument of the template foldedNodes: node names
// with the page that links them.
type foldedNodes struct {
	Page  any
	Nodes []string
}

// withPage is the argument of the template withPage: a value with the
// page that links the names in it.
type withPage struct {
	Page any
	V    any
}
