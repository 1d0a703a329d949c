package main

import "testing"

func TestGCPercent(t *testing.T) {
	tests := []struct {
		desc string
		live uint64
		want int
	}{
		{"nothing measured yet", 0, 400},
		{"a few megabytes: 400", 4 << 20, 400},
		{"16 MiB: still 400", 16 << 20, 400},
		{"32 MiB: 64 MiB of headroom", 32 << 20, 200},
		{"48 MiB: in steps of ten", 48 << 20, 130},
		{"64 MiB: Go's default", 64 << 20, 100},
		{"a gigabyte: never below the default", 1 << 30, 100},
	}
	for _, tt := range tests {
		if got := gcPercent(tt.live); got != tt.want {
			t.Errorf("%s: gcPercent(%d) = %d, want %d", tt.desc, tt.live, got, tt.want)
		}
	}
}
