package supervisor

// This file puts each worker in a cgroup v2 of its own with memory.max
// (Linux's Documentation/admin-guide/cgroup-v2.rst), where the supervisor
// may create cgroups.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lsgi/lsgi/sysmem"
)

// supervisorLeaf is the cgroup the supervisor moves itself into when it
// takes over a delegated cgroup: cgroup v2 lets a cgroup that hands
// controllers to its children hold no process itself.
const supervisorLeaf = "lsgi-supervisor"

// Cgroup is a cgroup v2 directory under which the supervisor creates one
// cgroup per worker, with the memory controller. Make one with
// [DelegateCgroup].
type Cgroup struct {
	dir string
}

// Dir returns the cgroup's directory.
func (c *Cgroup) Dir() string { return c.dir }

// DelegateCgroup prepares the process's own cgroup v2 to hold one child
// cgroup per worker with a memory limit, or says why it cannot:
//
//   - the cgroup must have the memory controller (cgroup.controllers);
//   - if it already hands memory to its children (cgroup.subtree_control),
//     workers' cgroups are made beside the supervisor;
//   - else, if the supervisor is the only process in it, as in a systemd
//     service with Delegate=yes, the supervisor moves itself into a child
//     cgroup (lsgi-supervisor) and enables memory for the children;
//   - else (a login shell's cgroup, say) it leaves the cgroup alone.
//
// Creating cgroups needs write access to the cgroup's directory.
func DelegateCgroup() (*Cgroup, error) {
	dir, ok := sysmem.CgroupDir(true)
	if !ok {
		return nil, errors.New("supervisor: no cgroup v2 hierarchy is mounted")
	}
	return delegateIn(dir, os.Getpid())
}

// delegation is how DelegateCgroup can use a cgroup.
type delegation int

const (
	delegateDirect   delegation = iota + 1 // children get memory already
	delegateMoveSelf                       // move the supervisor to a leaf first
)

// planDelegation decides from a cgroup's cgroup.controllers,
// cgroup.subtree_control and cgroup.procs how the supervisor (process
// self) can give its workers cgroups with memory limits.
func planDelegation(controllers, subtree string, procs []int, self int) (delegation, error) {
	if !slices.Contains(strings.Fields(controllers), "memory") {
		return 0, fmt.Errorf("the memory controller is not available (cgroup.controllers: %q)", strings.TrimSpace(controllers))
	}
	if slices.Contains(strings.Fields(subtree), "memory") {
		return delegateDirect, nil
	}
	for _, pid := range procs {
		if pid != self {
			return 0, fmt.Errorf("the cgroup holds other processes (pid %d); run lsgi in a cgroup of its own, such as a systemd service with Delegate=yes", pid)
		}
	}
	return delegateMoveSelf, nil
}

// delegateIn does DelegateCgroup's work in the cgroup directory dir.
func delegateIn(dir string, self int) (*Cgroup, error) {
	controllers, err := os.ReadFile(filepath.Join(dir, "cgroup.controllers"))
	if err != nil {
		return nil, fmt.Errorf("supervisor: cgroup %s: %w", dir, err)
	}
	subtree, err := os.ReadFile(filepath.Join(dir, "cgroup.subtree_control"))
	if err != nil {
		return nil, fmt.Errorf("supervisor: cgroup %s: %w", dir, err)
	}
	procs, err := readPids(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		return nil, fmt.Errorf("supervisor: cgroup %s: %w", dir, err)
	}
	plan, err := planDelegation(string(controllers), string(subtree), procs, self)
	if err != nil {
		return nil, fmt.Errorf("supervisor: cgroup %s: %w", dir, err)
	}
	if plan == delegateMoveSelf {
		leaf := filepath.Join(dir, supervisorLeaf)
		if err := os.Mkdir(leaf, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("supervisor: cgroup: %w", err)
		}
		if err := writeCgroupFile(leaf, "cgroup.procs", strconv.Itoa(self)); err != nil {
			return nil, err
		}
		if err := writeCgroupFile(dir, "cgroup.subtree_control", "+memory"); err != nil {
			return nil, err
		}
	}
	return &Cgroup{dir: dir}, nil
}

// workerCgroup is the cgroup of one worker.
type workerCgroup struct {
	dir string
}

// newWorker creates the cgroup of the supervisor's seq-th worker with
// memory.max set to memory, no swap (where swap is accounted), and
// memory.oom.group so that the OOM killer takes every process in it at
// once.
func (c *Cgroup) newWorker(seq int, memory int64) (*workerCgroup, error) {
	dir := filepath.Join(c.dir, fmt.Sprintf("lsgi-%d-worker-%d", os.Getpid(), seq))
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, fmt.Errorf("supervisor: cgroup: %w", err)
	}
	w := &workerCgroup{dir: dir}
	if err := writeCgroupFile(dir, "memory.max", strconv.FormatInt(memory, 10)); err != nil {
		w.remove()
		return nil, err
	}
	// Optional files: memory.swap.max exists only with swap accounting.
	_ = writeCgroupFile(dir, "memory.swap.max", "0")
	_ = writeCgroupFile(dir, "memory.oom.group", "1")
	return w, nil
}

// open returns the cgroup's directory, for clone3's CLONE_INTO_CGROUP
// (syscall.SysProcAttr.CgroupFD).
func (w *workerCgroup) open() (*os.File, error) {
	f, err := os.Open(w.dir)
	if err != nil {
		return nil, fmt.Errorf("supervisor: cgroup: %w", err)
	}
	return f, nil
}

// add moves process pid into the cgroup, for kernels without
// CLONE_INTO_CGROUP.
func (w *workerCgroup) add(pid int) error {
	return writeCgroupFile(w.dir, "cgroup.procs", strconv.Itoa(pid))
}

// oomKills returns how many processes the OOM killer ended in the cgroup
// (memory.events, oom_kill).
func (w *workerCgroup) oomKills() int {
	b, err := os.ReadFile(filepath.Join(w.dir, "memory.events"))
	if err != nil {
		return 0
	}
	return parseOOMKills(string(b))
}

// parseOOMKills reads the oom_kill count of a memory.events file.
func parseOOMKills(events string) int {
	for line := range strings.Lines(events) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "oom_kill "); ok {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	return 0
}

// remove deletes the cgroup once its worker has exited. Processes the
// worker left behind are killed first (cgroup.kill), so that none outlives
// it.
func (w *workerCgroup) remove() error {
	err := os.Remove(w.dir)
	if err == nil || errors.Is(err, os.ErrNotExist) {
		return nil
	}
	_ = writeCgroupFile(w.dir, "cgroup.kill", "1")
	for range 50 { // the kill is asynchronous: up to a second
		time.Sleep(20 * time.Millisecond)
		if err = os.Remove(w.dir); err == nil {
			return nil
		}
	}
	return fmt.Errorf("supervisor: remove cgroup: %w", err)
}

// writeCgroupFile writes one value to a cgroup interface file.
func writeCgroupFile(dir, name, value string) error {
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("supervisor: cgroup: %w", err)
	}
	_, err = f.WriteString(value)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("supervisor: cgroup: write %s to %s: %w", value, filepath.Join(dir, name), err)
	}
	return nil
}

// readPids reads a cgroup.procs file.
func readPids(path string) ([]int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var pids []int
	for f := range strings.FieldsSeq(string(b)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		pids = append(pids, pid)
	}
	return pids, nil
}
