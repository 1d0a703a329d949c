package sysmem

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAvailable(t *testing.T) {
	m := Available()
	if m.Bytes <= 0 || m.Source == "" || m.Source == "unknown" {
		t.Fatalf("Available() = %+v, want a positive amount and its source", m)
	}
}

func TestParseLimit(t *testing.T) {
	tests := []struct {
		desc   string
		in     string
		want   int64
		wantOK bool
	}{
		{"bytes", "536870912\n", 512 << 20, true},
		{"v2 no limit", "max\n", 0, false},
		{"v1 no limit", "9223372036854771712\n", 0, false},
		{"garbage", "lots", 0, false},
		{"zero", "0", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			got, ok := parseLimit(tt.in)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("parseLimit(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

// mountinfoHybrid is /proc/self/mountinfo on a host with cgroup v1
// controllers and the v2 hierarchy at /sys/fs/cgroup/unified.
const mountinfoHybrid = `22 27 0:20 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`

// mountinfoUnified is a systemd host with cgroup v2 only.
const mountinfoUnified = `29 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
`

// mountinfoNamespaced is a container whose cgroup namespace root is a
// service's cgroup on the host.
const mountinfoNamespaced = `612 600 0:26 /system.slice/app.service /sys/fs/cgroup ro,nosuid - cgroup2 cgroup2 rw
`

func TestCgroupDir(t *testing.T) {
	tests := []struct {
		desc       string
		mountinfo  string
		procCgroup string
		v2         bool
		want       string
	}{
		{"v2 on a systemd host", mountinfoUnified, "0::/system.slice/lsgi.service\n", true, "/sys/fs/cgroup/system.slice/lsgi.service"},
		{"v2 of a hybrid host", mountinfoHybrid, "4:memory:/process_api/a6\n0::/\n", true, "/sys/fs/cgroup/unified"},
		{"v1 memory of a hybrid host", mountinfoHybrid, "4:memory:/process_api/a6\n3:cpuset:/\n0::/\n", false, "/sys/fs/cgroup/memory/process_api/a6"},
		{"inside a cgroup namespace", mountinfoNamespaced, "0::/\n", true, "/sys/fs/cgroup"},
		{"path under the namespace root", mountinfoNamespaced, "0::/system.slice/app.service/worker\n", true, "/sys/fs/cgroup/worker"},
		{"no v2 mount", mountinfoHybrid[:len(mountinfoHybrid)-len("41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n")], "0::/\n", true, ""},
		{"no v1 memory on a v2 host", mountinfoUnified, "0::/user.slice\n", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			got, ok := cgroupDir(tt.procCgroup, parseMountinfo(strings.NewReader(tt.mountinfo)), tt.v2)
			if got != tt.want || ok != (tt.want != "") {
				t.Errorf("cgroupDir = %q, %v; want %q", got, ok, tt.want)
			}
		})
	}
}

func TestV2Limit(t *testing.T) {
	root := t.TempDir()
	leaf := filepath.Join(root, "a", "b")
	if err := os.MkdirAll(leaf, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(dir, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "memory.max"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(root, "max\n")
	write(filepath.Join(root, "a"), "1073741824\n")
	write(leaf, "max\n")
	if got, ok := v2Limit(leaf, root); !ok || got != 1<<30 {
		t.Errorf("v2Limit = %d, %v; want the ancestor's 1 GiB", got, ok)
	}
	write(leaf, "268435456\n")
	if got, ok := v2Limit(leaf, root); !ok || got != 256<<20 {
		t.Errorf("v2Limit = %d, %v; want the leaf's 256 MiB", got, ok)
	}
}
