package render

import (
	"bytes"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// inertText replaces, in a rendered page, what html/template lets through
// but no page needs: control characters other than newline, tab and
// carriage return (a terminal escape sequence in a check's output would
// otherwise reach whoever views the archived site with cat or git diff),
// bidirectional overrides (which make "evil\u202etxt.exe" read as
// "evilexe.txt") and invalid UTF-8. Each becomes U+FFFD.
func inertText(page []byte) []byte {
	return rewriteUnsafe(page, func(out []byte, _ rune, _ []byte) []byte {
		return utf8.AppendRune(out, utf8.RuneError)
	})
}

// InertJSON writes, in encoded JSON, the characters that inertText
// replaces and encoding/json leaves raw (C1 controls, bidirectional
// overrides) as \uXXXX escapes: the same values, inert on a terminal.
// Such characters only occur inside JSON strings, where the escape is
// valid.
func InertJSON(doc []byte) []byte {
	return rewriteUnsafe(doc, func(out []byte, r rune, raw []byte) []byte {
		if r == utf8.RuneError { // encoding/json writes no invalid UTF-8
			return append(out, raw...)
		}
		return fmt.Appendf(out, `\u%04x`, r)
	})
}

// rewriteUnsafe copies b, passing each unsafe rune (and each byte of
// invalid UTF-8, as utf8.RuneError) to fix.
func rewriteUnsafe(b []byte, fix func(out []byte, r rune, raw []byte) []byte) []byte {
	if !bytes.ContainsFunc(b, unsafeRune) {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if unsafeRune(r) {
			out = fix(out, r, b[i:i+size])
		} else {
			out = append(out, b[i:i+size]...)
		}
		i += size
	}
	return out
}

func unsafeRune(r rune) bool {
	switch r {
	case '\n', '\t', '\r':
		return false
	case utf8.RuneError:
		return true
	}
	return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r)
}
