package supervisor

// This file sizes and applies the in-process memory fences: the default
// budget derived from the machine, RLIMIT_DATA and the Go soft limit.

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
)

// MinWorkerMemory is the smallest memory budget a worker may have: below
// it a worker cannot load a few apps' Lua states.
const MinWorkerMemory = 32 << 20

// Memory is an amount of memory and what set it.
type Memory struct {
	Bytes  int64
	Source string // "physical memory", "cgroup memory.max", "RLIMIT_DATA", ...
}

// AvailableMemory returns the memory this process may really use: the
// smallest of the physical memory, the memory limit of its cgroup (v2
// memory.max, here and in every ancestor; or v1 memory.limit_in_bytes),
// its RLIMIT_DATA and its RLIMIT_AS, with which of them it was.
func AvailableMemory() Memory {
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

// DefaultWorkerMemory is the memory budget of each of n workers when none
// is given: three quarters of avail (see [AvailableMemory]) shared among
// them. The quarter left is headroom for the supervisor, the kernel's page
// cache and whatever else runs beside, and for the way a worker overshoots
// its fence before the fence bites. It is never below [MinWorkerMemory].
func DefaultWorkerMemory(avail int64, n int) int64 {
	if n < 1 {
		n = 1
	}
	return max(avail/4*3/int64(n), MinWorkerMemory)
}

// Fence is what [Worker.FenceMemory] did.
type Fence struct {
	// DataLimit is the RLIMIT_DATA the worker set, 0 if none.
	DataLimit uint64
	// Base is the worker's data size (VmData) when it set it.
	Base uint64
	// GoLimit is the Go soft memory limit, or -1 when GOMEMLIMIT in the
	// environment chose it.
	GoLimit int64
}

// FenceMemory fences the worker to its memory budget, if it has one: the
// Go soft memory limit at nine tenths of the budget (unless GOMEMLIMIT is
// set), so that the garbage collector works hard before the hard fence,
// and RLIMIT_DATA at the data the worker has mapped now plus the budget,
// soft and hard alike so that nothing the worker runs can raise it again.
// Call it before loading any application, so that the budget is theirs.
//
// RLIMIT_DATA (Linux 4.7 and later) counts private writable mappings:
// memory the Go runtime has committed, thread stacks included. RLIMIT_AS
// would count address space instead, which the Go runtime reserves in
// 64 MiB arenas well ahead of use: under a 128 MiB RLIMIT_AS budget a
// worker died with 12 MB of heap in use.
func (w *Worker) FenceMemory() (Fence, error) {
	budget := w.spec.Memory
	if budget <= 0 {
		return Fence{}, nil
	}
	f := Fence{GoLimit: -1}
	if os.Getenv("GOMEMLIMIT") == "" {
		f.GoLimit = budget / 10 * 9
		debug.SetMemoryLimit(f.GoLimit)
	}
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return f, fmt.Errorf("supervisor: data size: %w", err)
	}
	base, err := parseStatusBytes(string(status), "VmData")
	if err != nil {
		return f, err
	}
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_DATA, &rl); err != nil {
		return f, fmt.Errorf("supervisor: getrlimit RLIMIT_DATA: %w", err)
	}
	limit := min(base+uint64(budget), rl.Max)
	if err := syscall.Setrlimit(syscall.RLIMIT_DATA, &syscall.Rlimit{Cur: limit, Max: limit}); err != nil {
		return f, fmt.Errorf("supervisor: setrlimit RLIMIT_DATA %d: %w", limit, err)
	}
	f.DataLimit, f.Base = limit, base
	return f, nil
}

// parseStatusBytes returns a size field of /proc/PID/status (proc(5)),
// such as "VmData:\t  115708 kB", in bytes.
func parseStatusBytes(status, field string) (uint64, error) {
	for line := range strings.Lines(status) {
		v, ok := strings.CutPrefix(line, field+":")
		if !ok {
			continue
		}
		num, unit, _ := strings.Cut(strings.TrimSpace(v), " ")
		n, err := strconv.ParseUint(num, 10, 64)
		if err != nil || unit != "kB" {
			return 0, fmt.Errorf("supervisor: /proc/self/status %s: %q", field, strings.TrimSpace(v))
		}
		return n << 10, nil
	}
	return 0, fmt.Errorf("supervisor: /proc/self/status has no %s", field)
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
		if !v2 && m.fstype == "cgroup" && hasWord(m.options, "memory", ",") {
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
		if !v2 && !hasWord(parts[1], "memory", ",") {
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

// hasWord reports whether list, split at sep, holds word.
func hasWord(list, word, sep string) bool {
	for w := range strings.SplitSeq(list, sep) {
		if w == word {
			return true
		}
	}
	return false
}
