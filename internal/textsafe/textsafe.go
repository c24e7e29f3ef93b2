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
