package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/lwindolf/dotm/domain"
)

// forgedTrailer is a check name that, printed raw, ends a commit message
// with a trailer of its own.
const forgedTrailer = "x\n\nSigned-off-by: evil <e@x>"

// checkNoForgedLines fails if text has a line a name forged (a trailer)
// or a bidirectional control character.
func checkNoForgedLines(t *testing.T, what, text string) {
	t.Helper()
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, "Signed-off-by") {
			t.Errorf("%s has a forged line %q:\n%s", what, l, text)
		}
	}
	if i := strings.IndexFunc(text, func(r rune) bool { return unicode.Is(unicode.Bidi_Control, r) }); i >= 0 {
		t.Errorf("%s has a bidi control at byte %d:\n%q", what, i, text)
	}
}

// dotm diff's output is the git archive's commit message: a hostile check
// or process name can neither add a line nor reorder one.
func TestHostileDiffNames(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, a *domain.Architecture) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, a.MarshalCanonical(), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	old := write("old.json", &domain.Architecture{Version: 1, Nodes: []string{"web01"},
		Services: []domain.ArchService{{Node: "web01", Port: 80, Process: "nginx"}},
		Alerts:   []domain.ArchAlert{{Node: "web01", Check: "disk", Status: "WARNING"}}})
	bidi := "evil\u202etxt.exe\n\nSigned-off-by: evil <e@x>"
	hostile := &domain.Architecture{Version: 1, Nodes: []string{"web01", "db01\n\nSigned-off-by: evil <e@x>"},
		Services: []domain.ArchService{{Node: "web01", Port: 80, Process: bidi}, {Node: "web01", Port: 81, Process: bidi}},
		Connections: []domain.ArchLink{{Node: "web01", Direction: "out", Port: "3306", Remote: "db01\u2066x",
			Process: bidi}},
		Alerts: []domain.ArchAlert{{Node: "web01", Check: forgedTrailer, Status: "CRITICAL"},
			{Node: "web01", Check: "disk", Status: forgedTrailer}}}
	cur := write("new.json", hostile)
	for _, args := range [][]string{{old, cur}, {filepath.Join(dir, "none.json"), cur}} {
		code, out, errOut := runCLICode("diff", args[0], args[1])
		if code != exitOK {
			t.Fatalf("dotm diff: exit %d: %s", code, errOut)
		}
		checkNoForgedLines(t, "dotm diff output", out)
	}
	_, out, _ := runCLICode("diff", old, cur)
	for _, want := range []string{`+ alert web01 x\x0a\x0aSigned-off-by: evil <e@x>: CRITICAL`,
		`~ service web01:80: nginx → evil\xe2\x80\xaetxt.exe\x0a\x0aSigned-off-by: evil <e@x>`} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("dotm diff output lacks the escaped line %q:\n%s", want, out)
		}
	}
}
