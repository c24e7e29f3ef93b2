package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHostileSecrets: monitoring passwords, in the password field or in
// the source URL, never show in config list/get, on the Settings page, or
// in the messages of a collect that fails to read the source, even when
// the URL does not parse.
func TestHostileSecrets(t *testing.T) {
	const pw, pw2 = "S3cretPw", "Other5ecret"
	dataDir := t.TempDir()
	dd := "--data-dir=" + dataDir
	setting := `{"source":"icinga2+https://dotm:` + pw + `@127.0.0.1:1?ca=/nonexistent","password":"` + pw2 + `"}`
	if code, _, errOut := runCLIAll("config", "set", "nagios_instance", setting, dd); code != 0 {
		t.Fatalf("config set: %s", errOut)
	}
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte(pw+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "site")
	commands := [][]string{
		{"config", "list"}, {"config", "get", "nagios_instance"}, {"config", "export"},
		{"collect", "--timeout", "2s"}, // reads nagios_instance's source
		{"collect", "--timeout", "2s", "--monitoring", "icinga2+https://dotm:" + pw + "@127.0.0.1:1"},
		{"collect", "--monitoring", "icinga2+https://dotm:" + pw + "@mon:99x"}, // a URL that does not parse
		{"collect", "--timeout", "2s", "--monitoring", "nagios+https://127.0.0.1:1/cgi-bin?user=dotm&password_file=" + pwFile},
		{"render", "--out", out, "--cache", t.TempDir()},
	}
	for _, args := range commands {
		_, stdout, stderr := runCLIAll(append(args, dd)...)
		for _, secret := range []string{pw, pw2} {
			if strings.Contains(stdout+stderr, secret) {
				t.Errorf("dotm %s shows a password:\n%s%s", strings.Join(args, " "), stdout, stderr)
			}
		}
	}
	for name, b := range readTree(t, out) {
		if strings.Contains(string(b), pw) || strings.Contains(string(b), pw2) {
			t.Errorf("site file %s shows a password", name)
		}
	}
	// An export re-imported keeps the stored secrets rather than the masks.
	_, export, _ := runCLIAll("config", "export", dd)
	imp := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(imp, []byte(export), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runCLIAll("config", "import", imp, dd); code != 0 {
		t.Fatalf("config import: %s", errOut)
	}
	if _, all, _ := runCLIAll("config", "export", "--secrets", dd); !strings.Contains(all, pw) || !strings.Contains(all, pw2) {
		t.Errorf("re-importing a masked export lost the passwords:\n%s", all)
	}
}
