package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lsgi/lsgi/supervisor"
)

// TestMain runs the test binary as lsgi when a supervisor under test
// starts it as a worker.
func TestMain(m *testing.M) {
	if _, ok := os.LookupEnv(supervisor.EnvVar); ok {
		os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func TestServeWorkerFlags(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "none")
	tests := []struct {
		desc       string
		args       []string
		wantCode   int
		wantStderr []string
	}{
		{"workers that cannot start fail fast", []string{"--workers", "2", missing}, 1,
			[]string{"worker exited before it was ready", "cannot start the workers", "no such file or directory"}},
		{"negative workers", []string{"--workers", "-1", missing}, 2, []string{"-workers -1: want 0 to 256"}},
		{"too many workers", []string{"--workers", "1000", missing}, 2, []string{"want 0 to 256"}},
		{"max requests without workers", []string{"--max-requests", "10", missing}, 2, []string{"need -workers"}},
		{"worker memory without workers", []string{"--worker-memory", "1g", missing}, 2, []string{"need -workers"}},
		{"negative max requests", []string{"--workers", "1", "--max-requests", "-5", missing}, 2, []string{"cannot be negative"}},
		{"worker memory below the minimum", []string{"--workers", "1", "--worker-memory", "1m", missing}, 2, []string{"want at least 33554432"}},
		{"worker memory with a bad unit", []string{"--workers", "1", "--worker-memory", "1t", missing}, 2, []string{`invalid value "1t" for flag -worker-memory`}},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := append([]string{"serve", "--bind", "127.0.0.1:0"}, tt.args...)
			code := run(args, strings.NewReader(""), &stdout, &stderr)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d (stderr: %s)", code, tt.wantCode, stderr.String())
			}
			for _, want := range tt.wantStderr {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
				}
			}
		})
	}
}
