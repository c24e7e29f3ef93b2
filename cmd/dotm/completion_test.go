package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lwindolf/dotm/internal/redistest"
)

// completionScript writes dotm's completion script for shell into a
// temporary file.
func completionScript(t *testing.T, shell string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"completion", shell}, &env{stdout: &out, stderr: &errb, getenv: os.Getenv}); code != 0 {
		t.Fatalf("dotm completion %s: exit %d: %s", shell, code, errb.String())
	}
	f := filepath.Join(t.TempDir(), "dotm."+shell)
	if err := os.WriteFile(f, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// completions are what the shells complete for a command line (the
// last word being completed) and must offer.
var completions = []struct {
	line string
	want []string
}{
	{"dotm col", []string{"collect"}},
	{"dotm nodes ", []string{"add", "remove", "list", "show", "import", "suggest"}},
	{"dotm nodes add --m", []string{"--method"}},
	{"dotm collect --q", []string{"--quiet"}},
	{"dotm collect --re", []string{"--redis"}},
	{"dotm --vers", []string{"--version"}},
	{"dotm completion ", []string{"bash", "zsh", "fish"}},
}

func checkCompletions(t *testing.T, shell string, complete func(line string) string) {
	for _, c := range completions {
		got := strings.Fields(complete(c.line))
		for _, w := range c.want {
			found := false
			for _, g := range got {
				found = found || g == w
			}
			if !found {
				t.Errorf("%s completes %q to %q, want %q among them", shell, c.line, got, w)
			}
		}
	}
}

func TestCompletionBash(t *testing.T) {
	bash := redistest.Require(t, "bash")
	script := completionScript(t, "bash")
	checkCompletions(t, "bash", func(line string) string {
		out, err := exec.Command(bash, "-c", `source "$1"; read -ra COMP_WORDS <<<"$2"; `+
			`[[ $2 == *" " ]] && COMP_WORDS+=(""); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _dotm; echo "${COMPREPLY[*]}"`,
			"bash", script, line).CombinedOutput()
		if err != nil {
			t.Fatalf("bash: %v\n%s", err, out)
		}
		return string(out)
	})
	// after a flag that takes a value: file names
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "site-x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bash, "-c", `source "$1"; COMP_WORDS=(dotm render --out "$2/si"); COMP_CWORD=3; _dotm; echo "${COMPREPLY[*]}"`,
		"bash", script, dir).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != dir+"/site-x" {
		t.Errorf("bash completes --out %s/si to %q (%v), want the file", dir, out, err)
	}
}

func TestCompletionFish(t *testing.T) {
	fish := redistest.Require(t, "fish")
	script := completionScript(t, "fish")
	checkCompletions(t, "fish", func(line string) string {
		out, err := exec.Command(fish, "--no-config", "-c", `source $argv[1]; complete -C $argv[2] | string replace -r '\t.*' ''; true`,
			script, line).CombinedOutput()
		if err != nil {
			t.Fatalf("fish: %v\n%s", err, out)
		}
		return string(out)
	})
}

// TestCompletionZsh runs the zsh script's function with zsh's _describe
// and _files replaced by functions that print what they are given: zsh's
// completion system proper needs an interactive line editor, which a test
// has not. The script's syntax and its path logic are zsh's own.
func TestCompletionZsh(t *testing.T) {
	zsh := redistest.Require(t, "zsh")
	script := completionScript(t, "zsh")
	if out, err := exec.Command(zsh, "-n", script).CombinedOutput(); err != nil {
		t.Fatalf("zsh -n: %v\n%s", err, out)
	}
	checkCompletions(t, "zsh", func(line string) string {
		out, err := exec.Command(zsh, "-f", "-c", `compdef() { :; }
_describe() { local name; for name in ${(P)4}; do print -r -- "${name%%:*}"; done; }
_files() { print _files; }
source $1
words=(${=2}); [[ $2 == *" " ]] && words+=("")
CURRENT=${#words}
_dotm`, "zsh", script, line).CombinedOutput()
		if err != nil {
			t.Fatalf("zsh: %v\n%s", err, out)
		}
		return strings.ReplaceAll(string(out), `\:`, ":")
	})
}
