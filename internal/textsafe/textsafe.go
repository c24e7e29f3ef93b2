// Package textsafe makes untrusted text (process names, host names, check
// output) safe to print on a terminal or in a plain-text e-mail.
package textsafe

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Inert shows control characters (terminal escape sequences among them)
// and invalid UTF-8 as \xNN escapes, keeping newlines and tabs.
func Inert(s string) string {
	if clean(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if unsafeRune(r, size) {
			for _, c := range []byte(s[i : i+size]) {
				fmt.Fprintf(&b, `\x%02x`, c)
			}
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func clean(s string) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if unsafeRune(r, size) {
			return false
		}
		i += size
	}
	return true
}

func unsafeRune(r rune, size int) bool {
	return (r == utf8.RuneError && size <= 1) || (unicode.IsControl(r) && r != '\n' && r != '\t')
}

// Cell is Inert for one cell of a table or one line of a report: newlines,
// tabs and bidirectional controls (which reorder what follows them, so
// "evil\u202etxt.exe" reads as "evilexe.txt") are shown as \xNN too, so a
// name can neither forge a row nor disguise itself.
func Cell(s string) string {
	s = Inert(s)
	if !strings.ContainsFunc(s, cellBreaker) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if cellBreaker(r) {
			for _, c := range []byte(string(r)) {
				fmt.Fprintf(&b, `\x%02x`, c)
			}
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func cellBreaker(r rune) bool { return r == '\n' || r == '\t' || unicode.Is(unicode.Bidi_Control, r) }
