package logsetup

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestNew(t *testing.T) {
	var b bytes.Buffer
	log, err := New(&b, "json", "warn")
	if err != nil {
		t.Fatal(err)
	}
	log.Info("hidden")
	log.Warn("shown", "client", "10.0.0.1:5000")
	var rec map[string]any
	if err := json.Unmarshal(b.Bytes(), &rec); err != nil {
		t.Fatalf("not one JSON object: %q: %v", b.String(), err)
	}
	if rec["msg"] != "shown" || rec["level"] != "WARN" || rec["client"] != "10.0.0.1:5000" {
		t.Errorf("record = %v", rec)
	}

	b.Reset()
	log, err = New(&b, "text", "DEBUG")
	if err != nil {
		t.Fatal(err)
	}
	log.Debug("accepted", "client", "x")
	if got := b.String(); !strings.Contains(got, "level=DEBUG msg=accepted client=x") {
		t.Errorf("text log = %q", got)
	}

	for _, bad := range [][2]string{{"xml", "info"}, {"text", "loud"}, {"text", "info+2"}} {
		if _, err := New(&b, bad[0], bad[1]); err == nil {
			t.Errorf("New(%q, %q) accepted", bad[0], bad[1])
		}
	}
}
