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

func TestCell(t *testing.T) {
	for in, want := range map[string]string{
		"nginx":             "nginx",
		"a\tb\nc":           `a\x09b\x0ac`,
		"evil\u202etxt.exe": `evil\xe2\x80\xaetxt.exe`,
		"\x1b[31mred":       `\x1b[31mred`,
	} {
		if got := Cell(in); got != want {
			t.Errorf("Cell(%q) = %q, want %q", in, got, want)
		}
	}
}
