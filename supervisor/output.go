package supervisor

// This file passes a worker's output through to the supervisor's and keeps
// what explains a death: the Go runtime's fatal error lines and the last
// lines written.

import (
	"bufio"
	"io"
	"regexp"
	"strings"
	"sync"
)

// Bounds on what is kept of a worker's output.
const (
	maxLine       = 4096 // longer lines are passed through in pieces, and kept cut
	keptLastLines = 5
	keptCrashes   = 4
)

// crashLine matches the lines the Go runtime and the race detector write
// when they end a process: "fatal error: out of memory", "runtime: out of
// memory: cannot allocate ...", "runtime: goroutine stack exceeds ...",
// "panic: ...", "SIGSEGV: ...", "==123==ERROR: ThreadSanitizer ...".
var crashLine = regexp.MustCompile(`^(fatal error: |runtime: |panic: |SIG[A-Z]+: |==\d+==ERROR: )`)

// lockedWriter serialises whole lines from several workers onto one
// writer, so that their lines never interleave mid-line.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) writeLine(line []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = l.w.Write(line)
}

// outputTail is what is kept of one worker's output.
type outputTail struct {
	mu      sync.Mutex
	last    []string // the last keptLastLines lines
	crashes []string // the first keptCrashes crash lines
}

// add records one line (without its newline).
func (t *outputTail) add(line string) {
	if len(line) > maxLine {
		line = line[:maxLine]
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if crashLine.MatchString(line) && len(t.crashes) < keptCrashes {
		t.crashes = append(t.crashes, line)
	}
	t.last = append(t.last, line)
	if len(t.last) > keptLastLines {
		t.last = t.last[1:]
	}
}

// cause returns the crash lines, joined, or "" when there were none.
func (t *outputTail) cause() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.crashes, "; ")
}

// lastLines returns the last lines, joined.
func (t *outputTail) lastLines() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.last, " | ")
}

// lastLine returns the last line.
func (t *outputTail) lastLine() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.last) == 0 {
		return ""
	}
	return t.last[len(t.last)-1]
}

// relay copies r to out line by line, recording each line in t, until r
// ends.
func relay(r io.Reader, out *lockedWriter, t *outputTail) {
	br := bufio.NewReaderSize(r, maxLine)
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			if err != nil && err != bufio.ErrBufferFull {
				// A last line with no newline still ends a line, lest the
				// next worker's output run on from it.
				line = append(line[:len(line):len(line)], '\n')
			}
			out.writeLine(line)
			t.add(strings.TrimRight(string(line), "\r\n"))
		}
		if err != nil && err != bufio.ErrBufferFull {
			return
		}
	}
}
