// Package bintest builds the module's programs for tests that run them as
// a user would: as separate processes, found beside each other or in PATH.
package bintest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Module is the import path of the module's commands.
const Module = "github.com/lwindolf/dotm/cmd/"

// Build builds the named commands of the module (e.g. "dotm",
// "dotm-layout") into dir, as `go build -o bin/ ./cmd/...` does.
func Build(dir string, commands ...string) error {
	args := []string{"build", "-o", dir + string(filepath.Separator)}
	for _, c := range commands {
		args = append(args, Module+c)
	}
	if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("go build %v: %w\n%s", commands, err, out)
	}
	return nil
}

// Runner is what TestMain runs: *testing.M.
type Runner interface{ Run() int }

// WithLayout runs m's tests with dotm-layout (the embedded layout engine's
// program) built into a temporary directory first in PATH, the way a test
// binary, which has no dotm-layout beside it, finds it.
func WithLayout(m Runner) Runner { return withLayout{m} }

type withLayout struct{ m Runner }

func (w withLayout) Run() int {
	dir, err := os.MkdirTemp("", "dotm-layout-bin-")
	if err == nil {
		defer os.RemoveAll(dir)
		err = Build(dir, "dotm-layout")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	os.Setenv("PATH", dir+string(filepath.ListSeparator)+os.Getenv("PATH"))
	return w.m.Run()
}

// Tool builds name, a program of the tools module (internal/tools: the
// servers tests talk to, kept out of dotm's go.mod), and returns the path
// of its binary, as "go tool -n NAME" run there does.
func Tool(name string) (string, error) {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	cmd := exec.Command("go", "tool", "-n", name)
	cmd.Dir = filepath.Join(root, "internal", "tools")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("build %s (go tool -n %s in %s): %w\n%s", name, name, cmd.Dir, err, stderr.String())
	}
	return strings.TrimSpace(string(out)), nil
}
