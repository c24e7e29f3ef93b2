package netinfo

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// Container is what a process's cgroup path says about the container it
// runs in.
type Container struct {
	// Runtime is "docker", "podman", "containerd" or "cri-o"; "" when
	// only the Kubernetes pod is known.
	Runtime string
	// ID is the container's ID (64 hex digits); "" when not in the path.
	ID string
	// PodUID is the Kubernetes pod's UID (with '-', as the API shows it),
	// "" outside Kubernetes.
	PodUID string
}

// The cgroup path forms container runtimes and the kubelet create (see
// testdata/cgroup/README.md for where each comes from). The systemd
// cgroup driver names a container's unit <prefix>-<id>.scope, the
// cgroupfs driver uses a directory /<prefix>/<id>; the kubelet puts pods
// in kubepods[-<qos>]-pod<uid>.slice (the UID's '-' written as '_') or
// /kubepods[/<qos>]/pod<uid>/.
var (
	cgroupScope   = regexp.MustCompile(`(?:^|/)(docker|libpod|cri-containerd|crio)-([0-9a-f]{64})\.scope(?:/|$)`)
	cgroupFSDir   = regexp.MustCompile(`(?:^|/)(docker|libpod_parent/libpod)[-/]([0-9a-f]{64})(?:/|$)`)
	cgroupPodUnit = regexp.MustCompile(`kubepods(?:-[a-z]+)?-pod([0-9a-f_]{36})\.slice`)
	cgroupPodDir  = regexp.MustCompile(`/kubepods(?:/[a-z]+)?/pod([0-9a-f-]{36})(?:/([0-9a-f]{64}))?`)
)

// runtimeOf maps a cgroup name prefix to the runtime.
var runtimeOf = map[string]string{
	"docker": "docker", "libpod": "podman", "libpod_parent/libpod": "podman",
	"cri-containerd": "containerd", "crio": "cri-o",
}

// ParseCgroup reads /proc/<pid>/cgroup (cgroup v1 lines
// "N:controllers:/path" and the v2 line "0::/path") and returns the
// container the paths name, and whether they name one. A pod found
// through the cgroupfs driver's /kubepods/.../<id> gets the runtime ""
// (the path does not say which).
func ParseCgroup(r io.Reader) (Container, bool) {
	var c Container
	sc := bufio.NewScanner(io.LimitReader(r, 1<<20))
	for sc.Scan() {
		_, rest, _ := strings.Cut(sc.Text(), ":")
		_, path, _ := strings.Cut(rest, ":")
		if m := cgroupScope.FindStringSubmatch(path); m != nil && c.ID == "" {
			c.Runtime, c.ID = runtimeOf[m[1]], m[2]
		}
		if m := cgroupFSDir.FindStringSubmatch(path); m != nil && c.ID == "" {
			c.Runtime, c.ID = runtimeOf[m[1]], m[2]
		}
		if m := cgroupPodUnit.FindStringSubmatch(path); m != nil && c.PodUID == "" {
			c.PodUID = strings.ReplaceAll(m[1], "_", "-")
		}
		if m := cgroupPodDir.FindStringSubmatch(path); m != nil && c.PodUID == "" {
			c.PodUID = m[1]
			if c.ID == "" {
				c.ID = m[2]
			}
		}
	}
	return c, c.ID != "" || c.PodUID != ""
}

// Namer names network namespaces (see NameNetns). Root is prepended to
// the paths of the runtimes' state ("/" on a real host; a test's
// directory in tests).
type Namer struct {
	Root string
}

// NameNetns names the namespaces of all (inode → PIDs in it), in this
// order of rules:
//
//  1. the `ip netns` name: a file in /run/netns that is a bind mount of
//     the namespace (same device and inode as its ns/net);
//  2. the container of one of its processes, from /proc/<pid>/cgroup
//     (ParseCgroup): a Kubernetes pod is "<namespace>/<pod>" from the
//     kubelet's /var/log/pods/<namespace>_<pod>_<uid> directory; a Docker
//     container its name from /var/lib/docker/containers/<id>/config.v2.json;
//     a Podman container its name from
//     /var/lib/containers/storage/overlay-containers/containers.json;
//     failing those, "<runtime>-<first 12 digits of the ID>" (or
//     "pod-<uid>");
//  3. the program of its lowest PID (/proc/<pid>/comm).
//
// Names are cleaned (cleanNetnsName); a name two namespaces would share
// gets "#2", "#3", ... in the order of their lowest PIDs.
func (n Namer) NameNetns(procRoot string, all netnsProcs) map[uint64]Netns {
	netns := n.ipNetns(procRoot, all)
	out := make(map[uint64]Netns, len(all))
	inodes := make([]uint64, 0, len(all))
	for ino := range all {
		inodes = append(inodes, ino)
	}
	slices.SortFunc(inodes, func(a, b uint64) int { return all[a][0] - all[b][0] })
	used := map[string]int{}
	for _, ino := range inodes {
		pids := all[ino]
		ns := Netns{Inode: ino, PID: pids[0]}
		switch name, ok := netns[ino]; {
		case ok:
			ns.Name, ns.Kind = name, "netns"
		default:
			ns.Name, ns.Kind = n.containerName(procRoot, pids)
		}
		if ns.Name == "" {
			comm, _ := readComm(filepath.Join(procRoot, strconv.Itoa(pids[0])))
			ns.Name, ns.Kind = comm, "process"
		}
		ns.Name = cleanNetnsName(ns.Name)
		if used[ns.Name]++; used[ns.Name] > 1 {
			ns.Name = fmt.Sprintf("%s#%d", ns.Name, used[ns.Name])
		}
		out[ino] = ns
	}
	return out
}

// ipNetns maps the inodes of the namespaces bind-mounted in /run/netns
// to their names. The device must be that of the namespaces (nsfs), so a
// plain file there that happens to share an inode number names nothing.
func (n Namer) ipNetns(procRoot string, all netnsProcs) map[uint64]string {
	var dev uint64
	for _, pids := range all {
		var st syscall.Stat_t
		if syscall.Stat(filepath.Join(procRoot, strconv.Itoa(pids[0]), "ns", "net"), &st) == nil {
			dev = st.Dev
			break
		}
	}
	dir := filepath.Join(n.Root, "run", "netns")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	out := map[uint64]string{}
	for _, e := range entries {
		var st syscall.Stat_t
		if syscall.Stat(filepath.Join(dir, e.Name()), &st) != nil || st.Dev != dev {
			continue
		}
		if _, ok := all[st.Ino]; ok {
			out[st.Ino] = e.Name()
		}
	}
	return out
}

// maxCgroupTries bounds how many processes of one namespace are asked for
// their cgroup: a container's processes share it, and the first few tell.
const maxCgroupTries = 4

// containerName names a namespace after the container of its first
// processes, or returns "" when none runs in one.
func (n Namer) containerName(procRoot string, pids []int) (name, kind string) {
	for _, pid := range pids[:min(len(pids), maxCgroupTries)] {
		f, err := os.Open(filepath.Join(procRoot, strconv.Itoa(pid), "cgroup"))
		if err != nil {
			continue
		}
		c, ok := ParseCgroup(f)
		f.Close()
		if ok {
			return n.nameContainer(c)
		}
	}
	return "", ""
}

// nameContainer finds the name of c in the runtimes' state on the host.
func (n Namer) nameContainer(c Container) (name, kind string) {
	if c.PodUID != "" {
		if pod := n.kubePod(c.PodUID); pod != "" {
			return pod, "kubernetes"
		}
		return "pod-" + c.PodUID, "kubernetes"
	}
	var found string
	switch c.Runtime {
	case "docker":
		found = n.dockerName(c.ID)
	case "podman":
		found = n.podmanName(c.ID)
	}
	if found != "" {
		return found, c.Runtime
	}
	return c.Runtime + "-" + c.ID[:12], c.Runtime
}

// maxStateFile bounds what is read of a runtime's state file.
const maxStateFile = 16 << 20

// readJSON decodes at most maxStateFile bytes of path into v.
func readJSON(path string, v any) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return json.NewDecoder(io.LimitReader(f, maxStateFile)).Decode(v)
}

// dockerName reads the container's name from Docker's config.v2.json
// ("Name": "/web").
func (n Namer) dockerName(id string) string {
	var cfg struct{ Name string }
	if readJSON(filepath.Join(n.Root, "var/lib/docker/containers", id, "config.v2.json"), &cfg) != nil {
		return ""
	}
	return strings.TrimPrefix(cfg.Name, "/")
}

// podmanName reads the container's first name from containers/storage's
// containers.json (a list of {"id", "names": [...]}).
func (n Namer) podmanName(id string) string {
	var list []struct {
		ID    string   `json:"id"`
		Names []string `json:"names"`
	}
	if readJSON(filepath.Join(n.Root, "var/lib/containers/storage/overlay-containers/containers.json"), &list) != nil {
		return ""
	}
	for _, c := range list {
		if c.ID == id && len(c.Names) > 0 {
			return c.Names[0]
		}
	}
	return ""
}

// kubePod finds "<namespace>/<pod>" of a pod UID in the kubelet's log
// directory /var/log/pods/<namespace>_<pod>_<uid>.
func (n Namer) kubePod(uid string) string {
	entries, err := os.ReadDir(filepath.Join(n.Root, "var/log/pods"))
	if err != nil {
		return ""
	}
	for _, e := range entries {
		rest, ok := strings.CutSuffix(e.Name(), "_"+uid)
		if !ok {
			continue
		}
		if ns, pod, ok := strings.Cut(rest, "_"); ok {
			return ns + "/" + pod
		}
	}
	return ""
}
