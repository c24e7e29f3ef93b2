package site

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"testing"
)

var slugPattern = regexp.MustCompile(`^[a-z0-9_][a-z0-9._-]*$`)

func TestSlug(t *testing.T) {
	long := strings.Repeat("x", 150)
	for _, tc := range []struct{ name, want string }{
		{"web01.dc1.example.com", "web01.dc1.example.com"},
		{"nginx", "nginx"},
		{"a_b", "a_b"},
		{"a/b", "a_b-c14cddc0"},
		{"Web01", "web01-92360b16"},
		{"../../etc/passwd", "_._.._etc_passwd-3754d6cb"},
		{"<script>alert(1)</script>", "_script_alert_1___script_-5c140d35"},
		{"", "_-e3b0c442"},
		{".", "_-cdb4ee2a"},
		{"..", "_.-5ec1f7e7"},
		{"/", "_-8a5edab2"},
		{"münchen", "m_nchen-f75c175f"},
		{"a_b-12345678", "a_b-12345678-54ff961c"}, // a safe name cannot pose as a slug
		{long, long[:60] + "-" + sha8(long)},
	} {
		if got := Slug(tc.name); got != tc.want {
			t.Errorf("Slug(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// hostileNames are names a fleet may report; their slugs must all be safe
// and pairwise distinct, also when case is ignored.
var hostileNames = []string{
	"", ".", "..", "...", "/", "\\", "a/b", "a_b", "a\\b", "a\x00b", "a b", "a:b", "a?b", "a#b", "a%2fb",
	"../../etc/passwd", "/etc/passwd", "..\\..\\windows", "<script>alert(1)</script>", `"quoted"`,
	"web01", "Web01", "WEB01", "web01.", ".web01", "-rf", "_rf", "con", "nul.txt",
	"münchen", "munchen", "m_nchen", "日本語", "\xff\xfe", "emoji-😀", "tab\there", "new\nline",
	strings.Repeat("a", 60), strings.Repeat("a", 61), strings.Repeat("a", 200), strings.Repeat("a", 200) + "b",
	strings.Repeat("ü", 100), "a_b-c14cddc0", "web01-92360b16",
}

func TestSlugHostile(t *testing.T) {
	seen := map[string]string{}
	for _, name := range hostileNames {
		s := Slug(name)
		if !slugPattern.MatchString(s) || s == "." || s == ".." || len(s) > 69 {
			t.Errorf("Slug(%q) = %q: not a safe file name", name, s)
		}
		if Slug(name) != s {
			t.Errorf("Slug(%q) is not deterministic", name)
		}
		if other, ok := seen[strings.ToLower(s)]; ok {
			t.Errorf("Slug(%q) = Slug(%q) = %q (ignoring case)", name, other, s)
		}
		seen[strings.ToLower(s)] = name
	}
}

func TestSlugKeepsSafeNames(t *testing.T) {
	for _, name := range []string{"web01", "web01.dc1.example.com", "mysqld", "php-fpm7.4", "a_b", "x", "0", strings.Repeat("a", 60)} {
		s := Slug(name)
		if s != name {
			t.Errorf("Slug(%q) = %q, want the name itself", name, s)
		}
		if Slug(s) != s {
			t.Errorf("Slug is not idempotent on %q", name)
		}
	}
}

func TestPath(t *testing.T) {
	for _, tc := range []struct{ dir, name, ext, want string }{
		{"nodes", "web01", ".html", "nodes/web01.html"},
		{"nodes", "../../etc/passwd", ".html", "nodes/_._.._etc_passwd-3754d6cb.html"},
		{"services", "/", ".html", "services/_-8a5edab2.html"},
	} {
		if got := Path(tc.dir, tc.name, tc.ext); got != tc.want {
			t.Errorf("Path(%q, %q, %q) = %q, want %q", tc.dir, tc.name, tc.ext, got, tc.want)
		}
		if err := checkRel(Path(tc.dir, tc.name, tc.ext)); err != nil {
			t.Errorf("Path(%q, %q, %q) is refused by Write: %v", tc.dir, tc.name, tc.ext, err)
		}
	}
}

func TestRel(t *testing.T) {
	for _, tc := range []struct{ from, to, want string }{
		{"nodes/web01.html", "index.html", "../index.html"},
		{"nodes/web01.html", "assets/site.css", "../assets/site.css"},
		{"nodes/web01.html", "nodes/db01.html", "db01.html"},
		{"nodes/web01.html", "nodes/web01.svg", "web01.svg"},
		{"index.html", "nodes/web01.html", "nodes/web01.html"},
		{"index.html", "index.html", "index.html"},
		{"index.html", "assets/site.css", "assets/site.css"},
		{"a/b/c.html", "a/d/e.html", "../d/e.html"},
		{"a/b/c.html", "x.html", "../../x.html"},
		{"nodes/web01.html", "", "../"},
		{"index.html", "", "./"},
		{"index.html", "nodes/", "nodes/"},
		{"nodes/web01.html", "nodes/", "../nodes/"},
		{"index.html", "a b/c#d?.html", "a%20b/c%23d%3F.html"},
		{"index.html", "a:b.html", "./a:b.html"},
		{"/nodes/web01.html", "/index.html", "../index.html"},
	} {
		if got := Rel(tc.from, tc.to); got != tc.want {
			t.Errorf("Rel(%q, %q) = %q, want %q", tc.from, tc.to, got, tc.want)
		}
	}
}

func sha8(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:8]
}
