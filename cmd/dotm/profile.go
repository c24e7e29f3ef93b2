package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"syscall"
)

// profiled runs fn with the profiles --cpu-profile and --mem-profile ask
// for: CPU over the whole of fn, the heap as fn leaves it (with every
// allocation made, for -sample_index=alloc_space).
func (e *env) profiled(fn func() error) error {
	if e.cpuProfile != "" {
		f, err := createProfile(e.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("--cpu-profile %s: %w", e.cpuProfile, err)
		}
		defer pprof.StopCPUProfile()
	}
	err := fn()
	if e.memProfile != "" {
		f, perr := createProfile(e.memProfile)
		if perr == nil {
			runtime.GC() // the live heap as of now, not of the last cycle
			perr = pprof.Lookup("allocs").WriteTo(f, 0)
			if cerr := f.Close(); perr == nil {
				perr = cerr
			}
		}
		if perr != nil {
			err = errors.Join(err, fmt.Errorf("--mem-profile %s: %w", e.memProfile, perr))
		}
	}
	return err
}

// createProfile creates or truncates a profile file, readable by its
// owner only; it does not follow a symbolic link there, which another
// user could have planted in a shared directory.
func createProfile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, fmt.Errorf("profile file: %w; give a path to a regular file of yours", err)
	}
	return f, nil
}
