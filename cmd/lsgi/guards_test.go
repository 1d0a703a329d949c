package main

import (
	"flag"
	"io"
	"log/slog"
	"testing"
)

func TestGuardFlags(t *testing.T) {
	tests := []struct {
		desc       string
		args       []string
		wantErr    bool
		wantMemory func(int64) bool
		wantConns  int
	}{
		{"defaults", nil, false, func(n int64) bool { return n > 0 }, 0},
		{"a size", []string{"--max-memory", "512m"}, false, func(n int64) bool { return n == 512<<20 }, 0},
		{"off", []string{"--max-memory", "off"}, false, func(n int64) bool { return n == -1 }, 0},
		{"too small", []string{"--max-memory", "1m"}, true, nil, 0},
		{"not a size", []string{"--max-memory", "lots"}, true, nil, 0},
		{"a connection cap", []string{"--max-connections", "100"}, false, func(n int64) bool { return n > 0 }, 100},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			fs := flag.NewFlagSet("serve", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			g := addGuardFlags(fs)
			err := fs.Parse(tt.args)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Parse(%q) = %v, want error %v", tt.args, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got := g.memory(slog.New(slog.NewTextHandler(io.Discard, nil))); !tt.wantMemory(got) {
				t.Errorf("MaxMemory = %d", got)
			}
			if g.maxConns != tt.wantConns {
				t.Errorf("max connections %d, want %d", g.maxConns, tt.wantConns)
			}
		})
	}
}
