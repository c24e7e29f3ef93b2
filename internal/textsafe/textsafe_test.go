package textsafe

import "testing"

func TestInert(t *testing.T) {
	for in, want := range map[string]string{
		"nginx":                   "nginx",
		"web01\tup\nnext":         "web01\tup\nnext",
		"\x1b[2Jgone\x1b]0;t\x07": `\x1b[2Jgone\x1b]0;t\x07`,
		"bad\xffbyte":             `bad\xffbyte`,
		"grüße \u009b31m":         `grüße \xc2\x9b31m`, // C1 control (CSI) in UTF-8
	} {
		if got := Inert(in); got != want {
			t.Errorf("Inert(%q) = %q, want %q", in, got, want)
		}
	}
}
