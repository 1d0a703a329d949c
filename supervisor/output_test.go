package supervisor

import (
	"strings"
	"testing"
)

func TestRelayKeepsTheCause(t *testing.T) {
	long := strings.Repeat("x", maxLine+100)
	tests := []struct {
		desc      string
		output    string
		wantOut   string // what reaches the supervisor's stderr ("": output)
		wantCause string
		wantLast  string
	}{
		{
			desc:     "ordinary log lines",
			output:   "time=1 level=INFO msg=a\ntime=2 level=INFO msg=b\n",
			wantLast: "time=1 level=INFO msg=a | time=2 level=INFO msg=b",
		},
		{
			desc: "Go runtime out of memory",
			output: "time=1 level=INFO msg=a\n" +
				"runtime: out of memory: cannot allocate 4194304-byte block (91717632 in use)\n" +
				"fatal error: out of memory\n\ngoroutine 1 gp=0x1 m=0 [running]:\nruntime.throw({0x1, 0x2})\n",
			wantCause: "runtime: out of memory: cannot allocate 4194304-byte block (91717632 in use); fatal error: out of memory",
			wantLast:  "runtime: out of memory: cannot allocate 4194304-byte block (91717632 in use) | fatal error: out of memory |  | goroutine 1 gp=0x1 m=0 [running]: | runtime.throw({0x1, 0x2})",
		},
		{
			desc:      "stack overflow",
			output:    "runtime: goroutine stack exceeds 1000000000-byte limit\nfatal error: stack overflow\n",
			wantCause: "runtime: goroutine stack exceeds 1000000000-byte limit; fatal error: stack overflow",
		},
		{
			desc:      "race detector's allocation failure",
			output:    "==6684==ERROR: ThreadSanitizer failed to allocate 0x2000000 (33554432) bytes\n",
			wantCause: "==6684==ERROR: ThreadSanitizer failed to allocate 0x2000000 (33554432) bytes",
		},
		{
			desc:      "an app's line that mentions a panic is no crash",
			output:    "time=1 level=ERROR msg=\"app error\" err=\"panic: x\"\n",
			wantCause: "",
		},
		{
			desc:     "a last line without a newline gets one",
			output:   "half",
			wantOut:  "half\n",
			wantLast: "half",
		},
		{
			desc:     "a long line passes in pieces and is kept cut",
			output:   long + "\n",
			wantLast: strings.Repeat("x", maxLine) + " | " + strings.Repeat("x", 100),
		},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			var out strings.Builder
			var tail outputTail
			relay(strings.NewReader(tt.output), &lockedWriter{w: &out}, &tail)
			wantOut := tt.wantOut
			if wantOut == "" {
				wantOut = tt.output
			}
			if out.String() != wantOut {
				t.Errorf("passed through %q, want %q", out.String(), wantOut)
			}
			if got := tail.cause(); got != tt.wantCause {
				t.Errorf("cause %q, want %q", got, tt.wantCause)
			}
			if tt.wantLast != "" {
				if got := tail.lastLines(); got != tt.wantLast {
					t.Errorf("last lines %q, want %q", got, tt.wantLast)
				}
			}
		})
	}
}
