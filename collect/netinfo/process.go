package netinfo

import (
	"strings"
	"unique"
)

// CanonicalProcess turns a process name as a tool printed it into the
// program's name as ss and /proc/<pid>/comm give it, so one process has
// one name whatever read the host. Many daemons rewrite their argv into a
// status title, and netstat -p prints that title cut at its column width;
// the decoration is dropped and the base name of a path is kept:
//
//	nginx: master, nginx: worker      → nginx
//	gunicorn: mas (cut by netstat)    → gunicorn
//	postgres: 15/main: checkpointer   → postgres
//	sshd: root@pts/0, php-fpm: pool w → sshd, php-fpm
//	redis-server *, redis-server 1    → redis-server
//	./redfleet, /usr/bin/python3      → redfleet, python3
//
// The name is what comes before the first ": " (or a trailing ":" that
// netstat's cut left), else before the first space, then after the last
// "/". title is raw (trimmed) when it differs from the name, so what the
// tool printed is kept where it adds information, and "" otherwise. A
// name that itself contains a space ("my server") keeps its first word:
// the same on every tool, at the price of the rest, which stays in title.
// An empty raw name (an owner the tool could not see) gives "" and "".
func CanonicalProcess(raw string) (name, title string) {
	raw = strings.TrimSpace(raw)
	name = raw
	if i := strings.Index(name, ": "); i > 0 {
		name = name[:i]
	} else if i := strings.IndexByte(name, ' '); i > 0 {
		name = name[:i]
	}
	if n := strings.TrimSuffix(name, ":"); n != "" {
		name = n
	}
	if i := strings.LastIndexByte(name, '/'); i >= 0 && i < len(name)-1 {
		name = name[i+1:]
	}
	if name != raw {
		title = raw
	}
	return intern(name), intern(title)
}

// intern returns the one shared copy of s. A fleet's sockets repeat a few
// program names and states thousands of times, and a name cut from its
// input line would keep the whole line alive as long as the socket.
func intern(s string) string {
	if s == "" {
		return ""
	}
	return unique.Make(s).Value()
}
