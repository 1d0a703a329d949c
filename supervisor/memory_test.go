package supervisor

import (
	"strings"
	"testing"
)

func TestDefaultWorkerMemory(t *testing.T) {
	tests := []struct {
		desc    string
		avail   int64
		workers int
		want    int64
	}{
		{"one worker gets three quarters", 8 << 30, 1, 6 << 30},
		{"shared among four", 8 << 30, 4, 1536 << 20},
		{"never below the minimum", 64 << 20, 8, MinWorkerMemory},
		{"zero workers counts as one", 4 << 30, 0, 3 << 30},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			if got := DefaultWorkerMemory(tt.avail, tt.workers); got != tt.want {
				t.Errorf("DefaultWorkerMemory(%d, %d) = %d, want %d", tt.avail, tt.workers, got, tt.want)
			}
		})
	}
}

func TestParseStatusBytes(t *testing.T) {
	status := "Name:\tlsgi\nVmPeak:\t 1624676 kB\nVmData:\t  115708 kB\nThreads:\t6\n"
	tests := []struct {
		desc    string
		field   string
		want    uint64
		wantErr string
	}{
		{"present", "VmData", 115708 << 10, ""},
		{"absent", "VmSwap", 0, "has no VmSwap"},
		{"not a size", "Threads", 0, "Threads"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			got, err := parseStatusBytes(status, tt.field)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("parseStatusBytes = %d, %v; want %d", got, err, tt.want)
			}
		})
	}
}
