package supervisor

// This file sizes and applies the in-process memory fences: the default
// budget derived from the machine, RLIMIT_DATA and the Go soft limit.

import (
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"

	"github.com/lsgi/lsgi/sysmem"
)

// MinWorkerMemory is the smallest memory budget a worker may have: below
// it a worker cannot load a few apps' Lua states.
const MinWorkerMemory = 32 << 20

// Memory is an amount of memory and what set it: [sysmem.Memory].
type Memory = sysmem.Memory

// AvailableMemory returns the memory this process may really use
// ([sysmem.Available]).
func AvailableMemory() Memory { return sysmem.Available() }

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
