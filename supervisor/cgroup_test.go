package supervisor

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lsgi/lsgi/sysmem"
)

func TestPlanDelegation(t *testing.T) {
	tests := []struct {
		desc        string
		controllers string
		subtree     string
		procs       []int
		want        delegation
		wantErr     string
	}{
		{"no memory controller", "cpu io pids\n", "", []int{7}, 0, "memory controller is not available"},
		{"empty controllers", "\n", "", []int{7}, 0, "memory controller is not available"},
		{"children already get memory", "cpu memory pids\n", "memory\n", []int{7}, delegateDirect, ""},
		{"alone in a delegated cgroup", "cpu memory pids\n", "\n", []int{7}, delegateMoveSelf, ""},
		{"sharing a login shell's cgroup", "memory\n", "", []int{3, 7, 9}, 0, "holds other processes (pid 3)"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			got, err := planDelegation(tt.controllers, tt.subtree, tt.procs, 7)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("planDelegation = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestParseOOMKills(t *testing.T) {
	tests := []struct {
		desc   string
		events string
		want   int
	}{
		{"killed twice", "low 0\nhigh 0\nmax 12\noom 3\noom_kill 2\noom_group_kill 0\n", 2},
		{"never", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n", 0},
		{"no such line", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			if got := parseOOMKills(tt.events); got != tt.want {
				t.Errorf("parseOOMKills = %d, want %d", got, tt.want)
			}
		})
	}
}

// fakeCgroup makes a directory that looks, to DelegateCgroup's reads and
// writes, like a cgroup v2 directory holding the given processes.
func fakeCgroup(t *testing.T, controllers, subtree string, procs ...int) string {
	t.Helper()
	dir := t.TempDir()
	var pids strings.Builder
	for _, p := range procs {
		fmt.Fprintln(&pids, p)
	}
	for name, content := range map[string]string{
		"cgroup.controllers":     controllers,
		"cgroup.subtree_control": subtree,
		"cgroup.procs":           pids.String(),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDelegateInMovesItselfAside(t *testing.T) {
	self := os.Getpid()
	dir := fakeCgroup(t, "cpu memory pids\n", "\n", self)
	cg, err := delegateIn(dir, self)
	if err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(dir, supervisorLeaf, "cgroup.procs")); got != fmt.Sprint(self) {
		t.Errorf("supervisor leaf's cgroup.procs = %q, want our pid", got)
	}
	if got := readFile(t, filepath.Join(dir, "cgroup.subtree_control")); got != "+memory" {
		t.Errorf("cgroup.subtree_control = %q, want +memory", got)
	}

	w, err := cg.newWorker(3, 256<<20)
	if err != nil {
		t.Fatal(err)
	}
	wantDir := filepath.Join(dir, fmt.Sprintf("lsgi-%d-worker-3", self))
	if w.dir != wantDir {
		t.Errorf("worker cgroup %s, want %s", w.dir, wantDir)
	}
	for file, want := range map[string]string{"memory.max": "268435456", "memory.swap.max": "0", "memory.oom.group": "1"} {
		if got := readFile(t, filepath.Join(w.dir, file)); got != want {
			t.Errorf("%s = %q, want %q", file, got, want)
		}
	}
	if err := os.WriteFile(filepath.Join(w.dir, "memory.events"), []byte("oom 1\noom_kill 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if n := w.oomKills(); n != 1 {
		t.Errorf("oomKills = %d, want 1", n)
	}
}

func TestDelegateInRefuses(t *testing.T) {
	tests := []struct {
		desc    string
		dir     func(t *testing.T) string
		wantErr string
	}{
		{"not a cgroup", func(t *testing.T) string { return t.TempDir() }, "cgroup.controllers"},
		{"no memory controller", func(t *testing.T) string { return fakeCgroup(t, "cpu\n", "", os.Getpid()) }, "memory controller"},
		{"shared with other processes", func(t *testing.T) string { return fakeCgroup(t, "memory\n", "", 1, os.Getpid()) }, "other processes"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			dir := tt.dir(t)
			_, err := delegateIn(dir, os.Getpid())
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if _, err := os.Stat(filepath.Join(dir, supervisorLeaf)); err == nil {
				t.Errorf("refused, yet created %s", supervisorLeaf)
			}
		})
	}
}

func TestDelegateCgroupOnThisHost(t *testing.T) {
	// On a host whose cgroup already hands memory to its children, a real
	// worker cgroup is created and removed. Elsewhere the test says why it
	// cannot run; it never moves the test process (the fake tree above
	// covers that).
	dir, ok := sysmem.CgroupDir(true)
	if !ok {
		t.Skip("no cgroup v2 hierarchy is mounted")
	}
	controllers, _ := os.ReadFile(filepath.Join(dir, "cgroup.controllers"))
	subtree, _ := os.ReadFile(filepath.Join(dir, "cgroup.subtree_control"))
	procs, _ := readPids(filepath.Join(dir, "cgroup.procs"))
	plan, err := planDelegation(string(controllers), string(subtree), procs, os.Getpid())
	if err != nil {
		t.Skipf("cgroup %s cannot be delegated: %v", dir, err)
	}
	if plan != delegateDirect {
		t.Skipf("cgroup %s can be delegated only by moving the test process", dir)
	}
	cg, err := DelegateCgroup()
	if err != nil {
		t.Fatal(err)
	}
	w, err := cg.newWorker(1, 64<<20)
	if err != nil {
		t.Skipf("cannot create cgroups in %s: %v", dir, err)
	}
	if got := strings.TrimSpace(readFile(t, filepath.Join(w.dir, "memory.max"))); got != "67108864" {
		t.Errorf("memory.max = %q", got)
	}
	if err := w.remove(); err != nil {
		t.Fatal(err)
	}
}
