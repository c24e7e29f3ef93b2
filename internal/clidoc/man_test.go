package clidoc

import (
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func TestWriteMan(t *testing.T) {
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	fs.BoolP("quiet", "q", false, "say nothing")
	fs.Duration("timeout", 0, "how long")
	var b strings.Builder
	err := WriteMan(&b, Page{Name: "x-y", Section: 1, Summary: "a → b", Synopsis: "x y",
		Body: "first\n.rm line\n'so /etc/passwd\n\nsecond \\ back", Flags: fs})
	if err != nil {
		t.Fatal(err)
	}
	got := b.String()
	for _, want := range []string{
		`.TH "X\-Y" 1 `, "x\\-y \\- a \\[u2192] b\n",
		"\\&.rm line\n", "\\&'so /etc/passwd\n", ".PP\nsecond \\e back\n",
		".TP\n\\fB\\-q\\fR, \\fB\\-\\-quiet\\fR\nsay nothing\n",
		".TP\n\\fB\\-\\-timeout\\fR \\fIduration\\fR\nhow long\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("page lacks %q:\n%s", want, got)
		}
	}
	if u := Usages(fs); !strings.Contains(u, "  -q, --quiet              say nothing\n      --timeout duration   how long\n") {
		t.Errorf("Usages:\n%s", u)
	}
}
