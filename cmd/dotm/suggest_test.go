package main

import "testing"

func TestSuggestName(t *testing.T) {
	names := []string{"nodes", "config", "collect", "render", "report", "check", "export", "diff", "worker", "agent", "demo"}
	for typed, want := range map[string]string{
		"colect": "collect", "rnder": "render", "reprot": "report", "col": "collect", "dem": "demo",
		"nodse": "nodes", "xyz": "", "deploy": "", "": "",
	} {
		if got := suggestName(typed, names); got != want {
			t.Errorf("suggestName(%q) = %q, want %q", typed, got, want)
		}
	}
	if d := levenshtein("kitten", "sitting"); d != 3 {
		t.Errorf("levenshtein(kitten, sitting) = %d, want 3", d)
	}
}
