package render

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"

	"github.com/lwindolf/dotm/internal/nofollow"
)

// maxNote is the largest note read, in bytes.
const maxNote = 1 << 20

// noteKinds are the subdirectories of the notes directory.
var noteKinds = []string{"nodes", "services"}

// readNote reads dir/kind/name.md. It reads only a regular file inside
// dir, never through a symlink at the note's own name or one leading out
// of dir, so a note planted as a link to a root-only file is not
// published. ok is false when there is no such note or it was refused.
func readNote(dir, kind, name string) (src []byte, ok bool) {
	src, err := nofollow.ReadFile(dir, path.Join(kind, name+".md"), maxNote)
	return src, err == nil
}

// NoteProblems lists the notes in dir that render leaves out, each as an
// error naming the file: symlinks, files that are not regular files,
// notes larger than 1 MiB, and a kind directory that leads out of dir.
// A missing dir or kind directory is no problem.
func NoteProblems(dir string) []error {
	if dir == "" {
		return nil
	}
	root, err := os.OpenRoot(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return []error{fmt.Errorf("notes directory %s does not exist; no notes are shown", dir)}
	}
	if err != nil {
		return []error{fmt.Errorf("notes directory: %w", err)}
	}
	defer root.Close()
	var bad []error
	for _, kind := range noteKinds {
		entries, err := fs.ReadDir(root.FS(), kind)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			bad = append(bad, fmt.Errorf("notes in %s are left out: %w", path.Join(dir, kind), err))
			continue
		}
		for _, e := range entries {
			if path.Ext(e.Name()) != ".md" {
				continue
			}
			rel := path.Join(kind, e.Name())
			if _, err := nofollow.ReadFile(dir, rel, maxNote); err != nil {
				why := err.Error()
				if errors.Is(err, nofollow.ErrNotRegular) {
					why = "it is a symlink or not a regular file; notes are read only from regular files in the notes directory"
				}
				bad = append(bad, fmt.Errorf("note %s is left out: %s", path.Join(dir, rel), why))
			}
		}
	}
	return bad
}
