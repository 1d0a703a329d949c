package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const sampleTSV = "mode\tpeer\tworkload\trep\trequests\tduration_us\trps\tp50_us\tp90_us\tp99_us\tmax_us\terr_connect\terr_read\terr_write\terr_status\terr_timeout\tcpu0_busy_pct\tcpu1_busy_pct\tother_cpu_pct\n" +
	"pinned\tgo-raw\thello\t1\t200000\t5000000\t40000\t1\t1\t1\t1\t0\t0\t0\t0\t0\t70\t100\t0\n" +
	"pinned\tgo-raw\thello\t2\t250000\t5000000\t50000\t1\t1\t1\t1\t0\t0\t0\t0\t0\t70\t100\t0\n" +
	"pinned\tgo-raw\thello\t3\t150000\t5000000\t30000\t1\t1\t1\t1\t0\t0\t0\t0\t0\t70\t100\t0\n" +
	"pinned\tlsgi-fast\thello\t1\t300000\t5000000\t60000\t1\t1\t1\t1\t0\t0\t0\t0\t0\t90\t60\t0\n" +
	"unpinned\tlsgi-fast\thello\t1\t1\t5000000\t1\t1\t1\t1\t1\t0\t0\t0\t0\t0\t90\t60\t0\n"

func TestChart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "runs.tsv")
	if err := os.WriteFile(path, []byte(sampleTSV), 0o644); err != nil {
		t.Fatal(err)
	}
	runs, err := readRuns(path, "pinned", 1)
	if err != nil {
		t.Fatal(err)
	}
	tb := summarize(runs)
	tests := []struct {
		desc string
		got  float64
		want float64
	}{
		{"median req/s of three repeats", tb.rps[[2]string{"go-raw", "hello"}], 40000},
		{"server CPU µs per request: a busy core for 5 s over 200,000 requests", tb.cpu[[2]string{"go-raw", "hello"}], 25},
		{"60% of a core for 5 s over 300,000 requests", tb.cpu[[2]string{"lsgi-fast", "hello"}], 10},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: %v, want %v", tt.desc, tt.got, tt.want)
		}
	}
	var md, svg bytes.Buffer
	tb.markdown(&md)
	if !strings.Contains(md.String(), "| lsgi-fast | 60,000 (1.50) | 10.0 |") {
		t.Errorf("table:\n%s", md.String())
	}
	tb.svg(&svg)
	if !strings.HasPrefix(svg.String(), "<svg") || strings.Count(svg.String(), "<rect") != 4 {
		t.Errorf("svg:\n%s", svg.String())
	}
}
