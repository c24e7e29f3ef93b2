package analyze

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/oschwald/geoip2-golang/v2"

	"github.com/lwindolf/dotm/store"
)

// Geo looks addresses up in MaxMind/GeoLite2 databases (.mmdb): City or
// Country databases give the country (and city), ASN databases the
// autonomous system. A nil *Geo knows nothing: every method is safe on
// nil and Lookup returns the zero GeoInfo.
type Geo struct {
	cities, countries, asns []*geoip2.Reader
	// Types are the database types opened, in the order given.
	Types []string
	// files names each database; failed holds the first lookup error of
	// each (a damaged data section opens fine and fails every lookup).
	files  map[*geoip2.Reader]string
	failed map[*geoip2.Reader]error
}

// GeoInfo is what the databases know about one address; empty fields are
// unknown.
type GeoInfo struct {
	CountryCode string // ISO 3166-1 alpha-2, e.g. "DE"
	Country     string // English name
	City        string // English name (City databases only)
	ASN         uint
	Org         string // the autonomous system's organisation
}

// geoKinds is what each kind of database is for, for error messages.
const geoKinds = "a MaxMind/GeoLite2 City, Country or ASN database (.mmdb)"

// OpenGeo opens the databases in files. No files is no enrichment (nil,
// nil). A file that is not a City, Country or ASN database is refused.
func OpenGeo(files []string) (*Geo, error) {
	if len(files) == 0 {
		return nil, nil
	}
	g := &Geo{files: map[*geoip2.Reader]string{}, failed: map[*geoip2.Reader]error{}}
	for _, f := range files {
		r, err := geoip2.Open(f)
		if err != nil {
			g.Close()
			return nil, fmt.Errorf("geoip database %s: %w (want %s)", f, err, geoKinds)
		}
		g.files[r] = f
		dt := r.Metadata().DatabaseType
		switch {
		case strings.Contains(dt, "ASN"):
			g.asns = append(g.asns, r)
		case strings.Contains(dt, "City"):
			g.cities = append(g.cities, r)
		case strings.Contains(dt, "Country"):
			g.countries = append(g.countries, r)
		default:
			r.Close()
			g.Close()
			return nil, fmt.Errorf("geoip database %s: type %q is not supported (want %s)", f, dt, geoKinds)
		}
		g.Types = append(g.Types, dt)
	}
	return g, nil
}

// Close closes the databases.
func (g *Geo) Close() error {
	if g == nil {
		return nil
	}
	var errs []error
	for _, rs := range [][]*geoip2.Reader{g.cities, g.countries, g.asns} {
		for _, r := range rs {
			errs = append(errs, r.Close())
		}
	}
	g.cities, g.countries, g.asns = nil, nil, nil
	return errors.Join(errs...)
}

// HasCity reports whether a City database is open: node locations.
func (g *Geo) HasCity() bool { return g != nil && len(g.cities) > 0 }

// Errors says which databases failed lookups, and how: each a damaged
// file to download again. Nil when every lookup worked.
func (g *Geo) Errors() []error {
	if g == nil {
		return nil
	}
	var errs []error
	for _, rs := range [][]*geoip2.Reader{g.cities, g.countries, g.asns} {
		for _, r := range rs {
			if err := g.failed[r]; err != nil {
				errs = append(errs, fmt.Errorf("geoip database %s: lookups fail (%w); the file is damaged: download it again", g.files[r], err))
			}
		}
	}
	return errs
}

// note keeps the first lookup error of r and tells whether err is nil.
func (g *Geo) note(r *geoip2.Reader, err error) bool {
	if err != nil && g.failed[r] == nil {
		g.failed[r] = err
	}
	return err == nil
}

// Lookup returns what the databases know about ip; the first database
// (in the order given) that knows a part wins. A lookup error counts as
// unknown and is kept for Errors.
func (g *Geo) Lookup(ip netip.Addr) GeoInfo {
	var info GeoInfo
	if g == nil || !ip.IsValid() {
		return info
	}
	ip = ip.Unmap()
	for _, r := range g.cities {
		if c, err := r.City(ip); g.note(r, err) && c.HasData() {
			info.CountryCode, info.Country = c.Country.ISOCode, c.Country.Names.English
			info.City = c.City.Names.English
			break
		}
	}
	if info.CountryCode == "" {
		for _, r := range g.countries {
			if c, err := r.Country(ip); g.note(r, err) && c.Country.ISOCode != "" {
				info.CountryCode, info.Country = c.Country.ISOCode, c.Country.Names.English
				break
			}
		}
	}
	for _, r := range g.asns {
		if a, err := r.ASN(ip); g.note(r, err) && a.HasData() {
			info.ASN, info.Org = a.AutonomousSystemNumber, a.AutonomousSystemOrganization
			break
		}
	}
	return info
}

// Label is the short form for connection lists: "AS16509 Amazon (US)",
// "AS16509 Amazon", "US", or "" when nothing is known.
func (i GeoInfo) Label() string {
	as := ""
	if i.ASN != 0 {
		as = strings.TrimSpace("AS" + strconv.FormatUint(uint64(i.ASN), 10) + " " + i.Org)
	} else if i.Org != "" {
		as = i.Org
	}
	switch {
	case as != "" && i.CountryCode != "":
		return as + " (" + i.CountryCode + ")"
	case as != "":
		return as
	}
	return i.CountryCode
}

// Location is "City, Country", either part, or "".
func (i GeoInfo) Location() string {
	var parts []string
	for _, s := range []string{i.City, cmp.Or(i.Country, i.CountryCode)} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, ", ")
}

// Endpoint is one external address a node talks to (from remote_ips).
type Endpoint struct {
	IP string
	GeoInfo
	Node, Port, Process, Direction string
}

// NodeLocation is where one of a node's IPs is (City database).
type NodeLocation struct {
	IP string
	GeoInfo
}

// AddGeo enriches the model with g: the Internet connections' labels,
// the endpoints of the Geo page and the nodes' locations. A nil g leaves
// the model without geo data (the Geo page says how to enable it). Geo
// data stays out of the graphs.
func (m *Model) AddGeo(g *Geo) {
	if g == nil {
		return
	}
	m.GeoTypes = g.Types
	defer func() {
		for _, err := range g.Errors() {
			m.GeoErrors = append(m.GeoErrors, err.Error())
		}
	}()
	for _, n := range m.Nodes {
		if g.HasCity() {
			for _, s := range n.IPs {
				ip, err := netip.ParseAddr(s)
				if err != nil {
					continue
				}
				if info := g.Lookup(ip); info.Location() != "" {
					n.Locations = append(n.Locations, NodeLocation{IP: s, GeoInfo: info})
				}
			}
		}
		for _, c := range n.Connections {
			var labels []string
			for _, s := range c.RemoteIPList() {
				ip, err := netip.ParseAddr(s)
				if err != nil {
					continue
				}
				info := g.Lookup(ip)
				m.Endpoints = append(m.Endpoints, Endpoint{IP: ip.String(), GeoInfo: info, Node: n.Name,
					Port: c.Port, Process: c.Process, Direction: c.Direction})
				if l := info.Label(); l != "" && !slices.Contains(labels, l) {
					labels = append(labels, l)
				}
			}
			if len(labels) == 0 {
				continue
			}
			label := labels[0]
			if len(labels) > 1 {
				label += fmt.Sprintf(", +%d more", len(labels)-1)
			}
			if n.GeoLabels == nil {
				n.GeoLabels = map[store.ConnectionID]string{}
			}
			n.GeoLabels[store.ConnectionID{Port: c.Port, Remote: c.Remote}] = label
		}
	}
	slices.SortFunc(m.Endpoints, func(a, b Endpoint) int {
		ia, _ := netip.ParseAddr(a.IP)
		ib, _ := netip.ParseAddr(b.IP)
		return cmp.Or(ia.Compare(ib), strings.Compare(a.Node, b.Node), strings.Compare(a.Port, b.Port),
			strings.Compare(a.Direction, b.Direction), strings.Compare(a.Process, b.Process))
	})
}
