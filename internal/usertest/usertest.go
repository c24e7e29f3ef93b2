// Package usertest creates throw-away system users, for tests that need a
// real second user on the machine: files owned by someone else, commands
// run as someone else. It needs root (as CI runs); elsewhere the test is
// skipped, except with CI=true, where it fails.
package usertest

import (
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// User is a throw-away user with its own group and no home directory.
type User struct {
	Name     string
	UID, GID int
}

// New creates a user with a random name and removes it (and its group)
// when the test ends.
func New(t testing.TB) *User {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("this test creates a throw-away user and needs root, and CI=true: run it as root")
		}
		t.Skip("this test creates a throw-away user: run it as root")
	}
	for _, tool := range []string{"useradd", "userdel"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed to create a throw-away user: %v", tool, err)
		}
	}
	name := "dotmt" + strings.ToLower(rand.Text()[:10])
	out, err := exec.Command("useradd", "--no-create-home", "--user-group", "--shell", "/usr/sbin/nologin", name).CombinedOutput()
	if err != nil {
		t.Fatalf("useradd %s: %v\n%s", name, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("userdel", name).CombinedOutput(); err != nil {
			t.Errorf("userdel %s: %v\n%s", name, err, out)
		}
	})
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &User{Name: name, UID: uid, GID: gid}
}

// Command is exec.Command run as the user (and its group only).
func (u *User) Command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(u.UID), Gid: uint32(u.GID)}}
	return cmd
}

// Chown gives paths to the user.
func (u *User) Chown(t testing.TB, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if err := os.Lchown(p, u.UID, u.GID); err != nil {
			t.Fatal(err)
		}
	}
}

// Dir makes a directory owned by the user inside parent, with mode perm.
func (u *User) Dir(t testing.TB, parent, name string, perm os.FileMode) string {
	t.Helper()
	dir := filepath.Join(parent, name)
	if err := os.Mkdir(dir, perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, perm); err != nil { // past the umask
		t.Fatal(err)
	}
	u.Chown(t, dir)
	return dir
}

// Reachable makes every directory from dir up to the root searchable by
// others (t.TempDir's are 0700), so that the user can reach dir.
func Reachable(t testing.TB, dir string) {
	t.Helper()
	for d := dir; d != filepath.Dir(d); d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o001 == 0 {
			if err := os.Chmod(d, fi.Mode().Perm()|0o011); err != nil {
				t.Fatal(fmt.Errorf("make %s reachable: %w", d, err))
			}
		}
	}
}
