package site

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"path"
	"strings"
)

// maxSlugBase is how many bytes of a sanitised name a slug keeps before
// its hash suffix.
const maxSlugBase = 60

// hashLen is how many hex digits of sha256(name) a changed name gets.
const hashLen = 8

// Slug turns an untrusted name (a node, a process, a check) into one
// file-name component that is safe on every file system and in a URL,
// deterministic, and distinct for distinct names (two changed names that
// read alike after the changes differ in their 32-bit hash).
//
// A name made only of [a-z0-9._-], not starting with '.' or '-', at most
// 60 bytes long and not itself looking like a slug (ending in '-' and 8
// hex digits) stays as it is: "web01.dc1.example.com" stays readable. Any
// other name is lower-cased, has every other character ('/', '\\', NUL,
// unicode, ...) and a leading '.' or '-' replaced by '_', is cut to 60
// bytes, and gets '-' and the first 8 hex digits of sha256(name). So "a/b"
// becomes "a_b-c14cddc0" and cannot meet the safe name "a_b", and "Web01"
// cannot meet "web01" on a case-insensitive file system. The result is
// never empty, "." or "..", and at most 69 bytes long.
func Slug(name string) string {
	base := sanitize(name)
	if base == name && !looksHashed(name) {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	return base + "-" + hex.EncodeToString(sum[:])[:hashLen]
}

// sanitize lower-cases name, keeps [a-z0-9._-], replaces every other rune
// (and a leading '.' or '-') by '_', and cuts the result to maxSlugBase
// bytes; the empty name becomes "_".
func sanitize(name string) string {
	var b strings.Builder
	for _, r := range name {
		if b.Len() == maxSlugBase {
			break
		}
		if r >= 'A' && r <= 'Z' {
			r += 'a' - 'A'
		}
		if !safeRune(r) || (b.Len() == 0 && (r == '.' || r == '-')) {
			r = '_'
		}
		b.WriteRune(r)
	}
	if b.Len() == 0 {
		return "_"
	}
	return b.String()
}

// safeRune tells whether r may stand in a slug as it is.
func safeRune(r rune) bool {
	return (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '.' || r == '_' || r == '-'
}

// looksHashed tells whether s ends like a hashed slug ("-" and hashLen
// lower-case hex digits), so that a safe name cannot pose as the slug of
// another one.
func looksHashed(s string) bool {
	if len(s) < hashLen+1 || s[len(s)-hashLen-1] != '-' {
		return false
	}
	for _, c := range s[len(s)-hashLen:] {
		if !(c >= '0' && c <= '9') && !(c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// Path is the site path of the file for an untrusted name in a fixed
// directory: Path("nodes", "web01", ".html") is "nodes/web01.html". dir
// and ext are the caller's own constants; name goes through Slug.
func Path(dir, name, ext string) string {
	return path.Join(dir, Slug(name)+ext)
}

// Rel is the relative URL from the page at site path from to the file at
// site path to, e.g. from "nodes/web01.html" to "assets/site.css" it is
// "../assets/site.css". Both paths are slash paths from the site root; a
// to of "" or "." is the site root itself. Each component is escaped with
// url.PathEscape, so the link works from any web server path and from
// file://.
func Rel(from, to string) string {
	fromDir := splitPath(path.Dir(clean(from)))
	target := splitPath(clean(to))
	common := 0
	for common < len(fromDir) && common < len(target)-1 && fromDir[common] == target[common] {
		common++
	}
	parts := make([]string, 0, len(fromDir)-common+len(target)-common)
	for range fromDir[common:] {
		parts = append(parts, "..")
	}
	for _, p := range target[common:] {
		parts = append(parts, url.PathEscape(p))
	}
	return relURL(parts, isDir(to))
}

// clean makes p a clean slash path from the site root ("" for the root).
func clean(p string) string {
	return strings.TrimPrefix(path.Clean("/"+p), "/")
}

// splitPath splits a clean site path into its components (none for the
// root).
func splitPath(p string) []string {
	if p == "" || p == "." {
		return nil
	}
	return strings.Split(p, "/")
}

// isDir tells whether the site path p names a directory (the root or a
// path ending in '/').
func isDir(p string) bool {
	return clean(p) == "" || strings.HasSuffix(p, "/")
}

// relURL joins the components of a relative URL. A directory gets a
// trailing '/' ("./" for the current one), and a first component with a
// ':' gets "./" so that it is not read as a URL scheme.
func relURL(parts []string, dir bool) string {
	u := strings.Join(parts, "/")
	switch {
	case u == "":
		return "./"
	case len(parts) > 0 && strings.Contains(parts[0], ":"):
		u = "./" + u
	}
	if dir && !strings.HasSuffix(u, "/") {
		u += "/"
	}
	return u
}
