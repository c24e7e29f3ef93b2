// Package buildinfo tells which build of dotm is running: its version,
// commit, build date and Go version, for the --version of every program.
//
// A release build sets the first three with the linker:
//
//	go build -ldflags "-X github.com/lwindolf/dotm/internal/buildinfo.version=1.2.0 \
//	  -X github.com/lwindolf/dotm/internal/buildinfo.commit=$(git rev-parse HEAD) \
//	  -X github.com/lwindolf/dotm/internal/buildinfo.date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
//
// Without them they come from the build information Go records in every
// binary: the module version (`go install ...@v1.2.0`) and, for a build
// in a git checkout, vcs.revision, vcs.time and vcs.modified.
package buildinfo

import (
	"fmt"
	"runtime/debug"
)

// Set with -ldflags -X; empty means "from the build information".
var version, commit, date string

// Info is one binary's build.
type Info struct {
	Version   string // "1.2.0", or "devel" for an unreleased build
	Commit    string // the git commit, "+dirty" when the tree had changes; "" if unknown
	Date      string // the commit's or build's time (RFC 3339); "" if unknown
	GoVersion string // the Go toolchain that built it
}

// Get returns the running binary's build.
func Get() Info {
	bi, _ := debug.ReadBuildInfo()
	return get(bi, version, commit, date)
}

// get combines the linker-set values with the build information bi
// (nil when the binary has none); the linker's win.
func get(bi *debug.BuildInfo, version, commit, date string) Info {
	i := Info{Version: version, Commit: commit, Date: date}
	if bi == nil {
		i.Version = or(i.Version, "devel")
		return i
	}
	i.GoVersion = bi.GoVersion
	if v := bi.Main.Version; i.Version == "" && v != "" && v != "(devel)" {
		i.Version = v
	}
	i.Version = or(i.Version, "devel")
	var rev, vcsTime string
	var modified bool
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			vcsTime = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if i.Commit == "" && rev != "" {
		i.Commit = rev
		if modified {
			i.Commit += "+dirty"
		}
	}
	i.Date = or(i.Date, vcsTime)
	return i
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// String is the --version line: "dotm 1.2.0 (commit 3f2a..., built
// 2026-12-01T10:00:00Z, go1.26.8)".
func (i Info) String() string {
	return fmt.Sprintf("%s (commit %s, built %s, %s)", i.Version, or(i.Commit, "unknown"), or(i.Date, "unknown"),
		or(i.GoVersion, "unknown Go"))
}

// Line is the --version output of the program named prog.
func (i Info) Line(prog string) string { return prog + " " + i.String() }
