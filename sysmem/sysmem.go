// Package sysmem says how much memory this process may really use: the
// smallest of the machine's physical memory, the memory limit of its
// cgroup (v2 memory.max of its cgroup and every ancestor, or v1
// memory.limit_in_bytes), its RLIMIT_DATA and its RLIMIT_AS. The host
// sizes its memory fence from it, and the supervisor its workers' budgets.
//
// It reads /proc and /sys and calls getrlimit(2) and sysinfo(2); it keeps
// no state. Linux only, as the rest of the project.
package sysmem

import (
	"bufio"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// Memory is an amount of memory and what set it.
type Memory struct {
	Bytes  int64
	Source string // "physical memory", "cgroup memory.max", "RLIMIT_DATA", ...
}

// Available returns the memory this process may really use: the smallest
// of the physical memory, the memory limit of its cgroup (v2 memory.max,
// here and in every ancestor; or v1 memory.limit_in_bytes), its
// RLIMIT_DATA and its RLIMIT_AS, with which of them it was.
func Available() Memory {
	var si syscall.Sysinfo_t
	best := Memory{Bytes: math.MaxInt64, Source: "unknown"}
	if syscall.Sysinfo(&si) == nil {
		best = Memory{Bytes: int64(si.Totalram) * int64(si.Unit), Source: "physical memory"}
	}
	if limit, source, ok := cgroupMemoryLimit(); ok && limit < best.Bytes {
		best = Memory{Bytes: limit, Source: source}
	}
	for _, rlimit := range []struct {
		resource int
		name     string
	}{{syscall.RLIMIT_DATA, "RLIMIT_DATA"}, {syscall.RLIMIT_AS, "RLIMIT_AS"}} {
		var rl syscall.Rlimit
		if syscall.Getrlimit(rlimit.resource, &rl) == nil && rl.Cur != math.MaxUint64 && rl.Cur < uint64(best.Bytes) {
			best = Memory{Bytes: int64(rl.Cur), Source: rlimit.name}
		}
	}
	return best
}

// CgroupDir returns the directory of this process's own cgroup: in the
// cgroup v2 hierarchy with v2, else in the v1 hierarchy of the memory
// controller. ok is false when that hierarchy is not mounted.
func CgroupDir(v2 bool) (dir string, ok bool) {
	cg, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", false
	}
	mounts, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", false
	}
	defer mounts.Close()
	return cgroupDir(string(cg), parseMountinfo(mounts), v2)
}

// cgroupMemoryLimit returns the memory limit the process's cgroup puts on
// it, looking at cgroup v2 first and then at v1's memory controller.
func cgroupMemoryLimit() (int64, string, bool) {
	cg, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return 0, "", false
	}
	mounts, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return 0, "", false
	}
	defer mounts.Close()
	mts := parseMountinfo(mounts)
	if dir, ok := cgroupDir(string(cg), mts, true); ok {
		if limit, ok := v2Limit(dir, cgroupMount(mts, true).point); ok {
			return limit, "cgroup memory.max", true
		}
	}
	if dir, ok := cgroupDir(string(cg), mts, false); ok {
		if limit, ok := readLimit(filepath.Join(dir, "memory.limit_in_bytes")); ok {
			return limit, "cgroup memory.limit_in_bytes", true
		}
	}
	return 0, "", false
}

// v2Limit returns the smallest memory.max from dir up to the mount point.
func v2Limit(dir, top string) (int64, bool) {
	best, found := int64(math.MaxInt64), false
	for {
		if limit, ok := readLimit(filepath.Join(dir, "memory.max")); ok && limit < best {
			best, found = limit, true
		}
		if dir == top || !strings.HasPrefix(dir, top) {
			return best, found
		}
		dir = filepath.Dir(dir)
	}
}

// readLimit reads a cgroup memory limit file. "max" (v2) and the huge
// page-rounded maximum of v1 mean no limit.
func readLimit(path string) (int64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	return parseLimit(string(b))
}

// parseLimit parses a cgroup memory limit: a number of bytes, or "max".
// Values from 2^62 up are v1's way of saying "no limit".
func parseLimit(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n >= 1<<62 {
		return 0, false
	}
	return n, true
}

// mount is one line of /proc/self/mountinfo that matters here.
type mount struct {
	root, point, fstype, options string
}

// parseMountinfo reads the cgroup mounts of /proc/self/mountinfo
// (proc(5)): ID, parent, major:minor, root, mount point, options, optional
// fields up to "-", then the file system type, source and super options.
func parseMountinfo(r io.Reader) []mount {
	var out []mount
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		f, g := strings.Fields(pre), strings.Fields(post)
		if len(f) < 5 || len(g) < 1 || !strings.HasPrefix(g[0], "cgroup") {
			continue
		}
		m := mount{root: f[3], point: f[4], fstype: g[0]}
		if len(g) >= 3 {
			m.options = g[2]
		}
		out = append(out, m)
	}
	return out
}

// cgroupMount finds the cgroup2 mount (v2) or the v1 mount of the memory
// controller.
func cgroupMount(mts []mount, v2 bool) mount {
	for _, m := range mts {
		if v2 && m.fstype == "cgroup2" {
			return m
		}
		if !v2 && m.fstype == "cgroup" && slices.Contains(strings.Split(m.options, ","), "memory") {
			return m
		}
	}
	return mount{}
}

// cgroupDir returns the directory of the process's own cgroup, v2 or v1
// memory, from the contents of /proc/self/cgroup ("ID:CONTROLLERS:PATH"
// lines; v2's is "0::PATH") and the mounts.
func cgroupDir(procCgroup string, mts []mount, v2 bool) (string, bool) {
	m := cgroupMount(mts, v2)
	if m.point == "" {
		return "", false
	}
	for line := range strings.Lines(procCgroup) {
		parts := strings.SplitN(strings.TrimSpace(line), ":", 3)
		if len(parts) != 3 {
			continue
		}
		if v2 && (parts[0] != "0" || parts[1] != "") {
			continue
		}
		if !v2 && !slices.Contains(strings.Split(parts[1], ","), "memory") {
			continue
		}
		// Inside a cgroup namespace the path is relative to the mount's
		// root; outside, it starts with it.
		rel := parts[2]
		if m.root != "/" {
			if r, ok := strings.CutPrefix(rel, m.root); ok {
				rel = r
			}
		}
		return filepath.Join(m.point, rel), true
	}
	return "", false
}
