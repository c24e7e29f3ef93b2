// Package report writes the findings (package analyze) for people and
// tools: plain text, Markdown, HTML, JSON and an e-mail message, and sends
// that message over SMTP.
package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/wneessen/go-mail"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"

	"github.com/lwindolf/dotm/analyze"
	"github.com/lwindolf/dotm/internal/textsafe"
	"github.com/lwindolf/dotm/internal/timefmt"
)

// section is one list of the report, in the order the report shows them.
type section struct {
	title, intro string
	header       []string
	rows         [][]string
}

// sections lays the findings out as tables of plain strings, shared by
// the text and Markdown forms (and so by HTML and e-mail).
func sections(f *analyze.Findings) []section {
	var out []section
	s := section{title: "Unused services", header: []string{"Node", "Port", "Process", "First seen", "Last used"},
		intro: fmt.Sprintf("Still listening, but no client for at least %s: candidates for decommissioning.", timefmt.Span(int64(f.Aging/time.Second)))}
	for _, u := range f.Unused {
		last := "never since first seen"
		if !u.Never {
			last = timefmt.Stamp(u.LastConnection)
		}
		s.rows = append(s.rows, []string{u.Node, strconv.Itoa(u.Port), withCtr(u.Process, u.Container), timefmt.Stamp(u.FirstSeen), last})
	}
	out = append(out, s)
	s = section{title: "Suddenly disconnected", header: []string{"Node", "Direction", "Port", "Remote", "Process", "Last seen", "Active for"},
		intro: "Connections a node stopped showing: a decommissioned dependency, or a broken firewall rule."}
	for _, c := range f.Disconnected {
		s.rows = append(s.rows, []string{c.Node, c.Direction, c.Port, c.Remote, withCtr(c.Process, c.Container), timefmt.Stamp(c.LastSeen),
			timefmt.Span(c.LastSeen - c.FirstSeen)})
	}
	out = append(out, s)
	s = section{title: "Fetch errors", header: []string{"Node", "Error", "Last try", "Last answer"}}
	for _, e := range f.FetchErrors {
		s.rows = append(s.rows, []string{e.Node, e.Status, timefmt.Stamp(e.LastFetch), timefmt.Stamp(e.LastSuccess)})
	}
	out = append(out, s)
	s = section{title: "Nodes without monitoring", header: []string{"Node"}}
	for _, n := range f.MissingMonitoring {
		s.rows = append(s.rows, []string{n})
	}
	out = append(out, s)
	s = section{title: "Unmonitored services", header: []string{"Node", "Port", "Process"},
		intro: "Services of monitored nodes that no check maps to."}
	for _, sv := range f.Unmonitored {
		s.rows = append(s.rows, []string{sv.Node, strconv.Itoa(sv.Port), withCtr(sv.Process, sv.Container)})
	}
	out = append(out, s)
	s = section{title: "Checks that map to nothing", header: []string{"Node", "Check", "State"}}
	for _, c := range f.UnmappedChecks {
		s.rows = append(s.rows, []string{c.Node, c.Service, c.Status})
	}
	out = append(out, s)
	s = section{title: "Store problems", header: []string{"Problem"},
		intro: "Records of the store that cannot be read were skipped; the rest is reported. Collect writes a node's records anew where it fetched new data for them; delete the others (redis-cli DEL KEY on a Redis server)."}
	for _, p := range f.StoreProblems {
		s.rows = append(s.rows, []string{"store: " + p.Error()})
	}
	return append(out, s)
}

// Subject is the e-mail subject: the counts that matter most.
func Subject(f *analyze.Findings) string {
	var parts []string
	add := func(n int, one, many string) {
		switch {
		case n == 1:
			parts = append(parts, "1 "+one)
		case n > 1:
			parts = append(parts, fmt.Sprintf("%d %s", n, many))
		}
	}
	add(len(f.Unused), "unused service", "unused services")
	add(len(f.Disconnected), "disconnected connection", "disconnected connections")
	add(len(f.FetchErrors), "fetch error", "fetch errors")
	add(len(f.MissingMonitoring)+len(f.Unmonitored)+len(f.UnmappedChecks), "monitoring gap", "monitoring gaps")
	add(len(f.StoreProblems), "store problem", "store problems")
	if f.StaleCollection {
		parts = append(parts, "collection stopped")
	}
	if len(parts) == 0 {
		return "dotm report: nothing to report"
	}
	return "dotm report: " + strings.Join(parts, ", ")
}

func preamble(f *analyze.Findings) string {
	line := "Data as of " + timefmt.Stamp(f.LastCollection) + "."
	if f.Since != 0 {
		line += " Unused services and disconnections since " + timefmt.Stamp(f.Since) + "."
	}
	if f.StaleCollection {
		line += " Warning: the last collection is more than a day old; is dotm collect still running from cron?"
	}
	return line
}

// Text is the report for a terminal or a plain-text mail: untrusted
// names are made inert.
func Text(f *analyze.Findings, w io.Writer) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\n%s\n", Subject(f), preamble(f))
	for _, s := range sections(f) {
		if len(s.rows) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n%s (%d)\n", s.title, len(s.rows))
		if s.intro != "" {
			fmt.Fprintln(&b, s.intro)
		}
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		for _, row := range append([][]string{s.header}, s.rows...) {
			cells := make([]string, len(row))
			for i, c := range row {
				cells[i] = textsafe.Cell(c)
			}
			fmt.Fprintln(tw, "  "+strings.Join(cells, "\t"))
		}
		tw.Flush()
	}
	_, err := w.Write(b.Bytes())
	return err
}

// Markdown is the report as GitHub-flavoured Markdown; every untrusted
// name is escaped, so it renders as text.
func Markdown(f *analyze.Findings, w io.Writer) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# %s\n\n%s\n", mdEscape(Subject(f)), mdEscape(preamble(f)))
	for _, s := range sections(f) {
		if len(s.rows) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n## %s (%d)\n\n", s.title, len(s.rows))
		if s.intro != "" {
			fmt.Fprintf(&b, "%s\n\n", mdEscape(s.intro))
		}
		mdRow(&b, s.header)
		b.WriteString("|" + strings.Repeat(" --- |", len(s.header)) + "\n")
		for _, row := range s.rows {
			mdRow(&b, row)
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

func mdRow(b *bytes.Buffer, cells []string) {
	b.WriteString("|")
	for _, c := range cells {
		b.WriteString(" " + mdEscape(c) + " |")
	}
	b.WriteString("\n")
}

// mdEscape makes s literal text in Markdown: every ASCII punctuation
// character is backslash-escaped (CommonMark allows that for all of
// them), and line breaks become spaces so a table row stays one row.
func mdEscape(s string) string {
	var b strings.Builder
	for _, r := range textsafe.Inert(s) {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			b.WriteByte(' ')
		case r < 0x80 && strings.ContainsRune("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", r):
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// HTML is the report as a standalone HTML document, converted from the
// Markdown so the e-mail and the page say the same thing. Raw HTML is
// never passed through.
func HTML(f *analyze.Findings, w io.Writer) error {
	var md, body bytes.Buffer
	if err := Markdown(f, &md); err != nil {
		return err
	}
	if err := goldmark.New(goldmark.WithExtensions(extension.Table)).Convert(md.Bytes(), &body); err != nil {
		return fmt.Errorf("report HTML: %w", err)
	}
	_, err := fmt.Fprintf(w, `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>%s</title>
<style>body{font:14px/1.45 system-ui,sans-serif;color:#1d232a}table{border-collapse:collapse;margin:0 0 1em}th,td{border:1px solid #d5dae0;padding:2px 8px;text-align:left}th{background:#f4f6f8}</style>
</head><body>
%s</body></html>
`, html.EscapeString(Subject(f)), body.String())
	return err
}

// reportJSON is the documented, stable JSON form. Times are RFC 3339 in
// UTC, null for never.
type reportJSON struct {
	Generated         *string            `json:"generated"`
	LastCollection    *string            `json:"last_collection"`
	Since             *string            `json:"since"`
	UnusedServices    []jsonUnused       `json:"unused_services"`
	Disconnected      []jsonDisconnected `json:"disconnected"`
	Unmonitored       []jsonService      `json:"unmonitored"`
	UnmappedChecks    []jsonCheck        `json:"unmapped_checks"`
	MissingMonitoring []jsonNode         `json:"missing_monitoring"`
	FetchErrors       []jsonFetchError   `json:"fetch_errors"`
	StoreProblems     []jsonProblem      `json:"store_problems"`
}

// jsonProblem is a store record that was skipped: its key and why.
type jsonProblem struct {
	Key   string `json:"key"`
	Error string `json:"error"`
}

type jsonUnused struct {
	Node           string  `json:"node"`
	Port           int     `json:"port"`
	Process        string  `json:"process"`
	FirstSeen      *string `json:"first_seen"`
	LastConnection *string `json:"last_connection"`
	Container      string  `json:"container,omitempty"`
}

type jsonDisconnected struct {
	Node      string  `json:"node"`
	Direction string  `json:"direction"`
	Port      string  `json:"port"`
	Remote    string  `json:"remote"`
	Process   string  `json:"process"`
	LastSeen  *string `json:"last_seen"`
	FirstSeen *string `json:"first_seen"`
	Container string  `json:"container,omitempty"`
}

type jsonService struct {
	Node      string `json:"node"`
	Port      int    `json:"port"`
	Process   string `json:"process"`
	Container string `json:"container,omitempty"`
}

type jsonCheck struct {
	Node   string `json:"node"`
	Check  string `json:"check"`
	Status string `json:"status"`
}

type jsonNode struct {
	Node string `json:"node"`
}

type jsonFetchError struct {
	Node        string  `json:"node"`
	Error       string  `json:"error"`
	LastFetch   *string `json:"last_fetch"`
	LastSuccess *string `json:"last_success"`
}

// rfc3339 is t as RFC 3339 in UTC, nil for 0 (never).
func rfc3339(t int64) *string {
	if t <= 0 {
		return nil
	}
	s := time.Unix(t, 0).UTC().Format(time.RFC3339)
	return &s
}

// JSON writes the report in its documented JSON form (README, "dotm
// report"): every list present, empty as [].
func JSON(f *analyze.Findings, w io.Writer) error {
	r := reportJSON{Generated: rfc3339(f.Generated), LastCollection: rfc3339(f.LastCollection), Since: rfc3339(f.Since),
		UnusedServices: []jsonUnused{}, Disconnected: []jsonDisconnected{}, Unmonitored: []jsonService{},
		UnmappedChecks: []jsonCheck{}, MissingMonitoring: []jsonNode{}, FetchErrors: []jsonFetchError{},
		StoreProblems: []jsonProblem{}}
	for _, p := range f.StoreProblems {
		r.StoreProblems = append(r.StoreProblems, jsonProblem{p.Key, p.Err.Error()})
	}
	for _, u := range f.Unused {
		r.UnusedServices = append(r.UnusedServices, jsonUnused{u.Node, u.Port, u.Process, rfc3339(u.FirstSeen), rfc3339(u.LastConnection), u.Container})
	}
	for _, c := range f.Disconnected {
		r.Disconnected = append(r.Disconnected, jsonDisconnected{c.Node, c.Direction, c.Port, c.Remote, c.Process,
			rfc3339(c.LastSeen), rfc3339(c.FirstSeen), c.Container})
	}
	for _, sv := range f.Unmonitored {
		r.Unmonitored = append(r.Unmonitored, jsonService{sv.Node, sv.Port, sv.Process, sv.Container})
	}
	for _, c := range f.UnmappedChecks {
		r.UnmappedChecks = append(r.UnmappedChecks, jsonCheck{c.Node, c.Service, c.Status})
	}
	for _, n := range f.MissingMonitoring {
		r.MissingMonitoring = append(r.MissingMonitoring, jsonNode{n})
	}
	for _, e := range f.FetchErrors {
		r.FetchErrors = append(r.FetchErrors, jsonFetchError{e.Node, e.Status, rfc3339(e.LastFetch), rfc3339(e.LastSuccess)})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// Mail is the report as an e-mail: multipart/alternative with the text
// and the HTML form, the subject giving the counts.
func Mail(f *analyze.Findings, from string, to []string) (*mail.Msg, error) {
	m := mail.NewMsg(mail.WithNoDefaultUserAgent())
	if err := m.From(from); err != nil {
		return nil, fmt.Errorf("sender %q: %w", from, err)
	}
	if len(to) > 0 {
		if err := m.To(to...); err != nil {
			return nil, fmt.Errorf("recipients %s: %w", strings.Join(to, ", "), err)
		}
	}
	m.Subject(Subject(f))
	m.SetDateWithValue(time.Unix(f.Generated, 0).UTC())
	m.SetMessageID()
	var text, htm bytes.Buffer
	if err := Text(f, &text); err != nil {
		return nil, err
	}
	if err := HTML(f, &htm); err != nil {
		return nil, err
	}
	m.SetBodyString(mail.TypeTextPlain, text.String())
	m.AddAlternativeString(mail.TypeTextHTML, htm.String())
	return m, nil
}

// withCtr is a process as the findings name it: "nginx [web]" inside the
// container web.
func withCtr(process, container string) string {
	if container == "" {
		return process
	}
	return process + " [" + container + "]"
}
