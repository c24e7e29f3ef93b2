package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/lwindolf/dotm/analyze"
	"github.com/lwindolf/dotm/store"
)

// A hostile process name reaches every report format as inert text.
func TestReportEscapesNames(t *testing.T) {
	const evil = "<script>alert(1)</script>|*x*\x1b[2J\n# y"
	now := int64(1795000000)
	m := analyze.NewModel(now, nil, []*analyze.Node{{
		Node:     store.Node{Name: "web01", FetchStatus: "OK", LastFetch: now},
		Services: []store.Service{{Port: 8080, Process: evil, FirstSeen: now - 8*86400, LastSeen: now}}, // past the 7-day unused default
	}})
	f := analyze.FindingsOf(m, 0)
	if len(f.Unused) != 1 {
		t.Fatalf("unused = %+v, want the one service", f.Unused)
	}
	var text, md, htm, js bytes.Buffer
	if err := Text(f, &text); err != nil {
		t.Fatal(err)
	}
	if err := Markdown(f, &md); err != nil {
		t.Fatal(err)
	}
	if err := HTML(f, &htm); err != nil {
		t.Fatal(err)
	}
	if err := JSON(f, &js); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(text.String(), "\x1b") || !strings.Contains(text.String(), `\x1b[2J`) {
		t.Errorf("text: escape sequence not made inert:\n%q", text.String())
	}
	if strings.Contains(htm.String(), "<script>") || !strings.Contains(htm.String(), "&lt;script&gt;alert(1)&lt;/script&gt;|*x*") {
		t.Errorf("html: name not shown as text:\n%s", htm.String())
	}
	if n := strings.Count(htm.String(), "<tr>"); n != 2 {
		t.Errorf("html: %d table rows, want header + 1 (the name must not break the table)", n)
	}
	var doc struct {
		Unused []struct{ Process string } `json:"unused_services"`
	}
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil || len(doc.Unused) != 1 || doc.Unused[0].Process != evil {
		t.Errorf("json: %v %+v", err, doc)
	}
}
