package tests

import (
	"bufio"
	"io"
	"net/http"
	"testing"
	"time"
)

// TestStreaming checks that each chunk reaches the client before the app
// produces the next one. Every fixture sends "chunk1\n", then works for
// 1.5 s, then sends "chunk2\n": if chunk 1 was held back, both lines arrive
// together.
func TestStreaming(t *testing.T) {
	s := startServer(t, "streaming")
	const minGap = 750 * time.Millisecond // half the app's pause
	for _, name := range []string{"generator", "thread", "object", "write"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := s.dial(t)
			start := time.Now()
			c.send(rawRequest("GET", "/"+name, nil, ""))
			resp := c.head("GET")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d, want 200", resp.StatusCode)
			}
			body := bufio.NewReader(resp.Body)
			line1, err := body.ReadString('\n')
			t1 := time.Since(start)
			if err != nil || line1 != "chunk1\n" {
				t.Fatalf("first line %q (error %v), want %q", line1, err, "chunk1\n")
			}
			line2, err := body.ReadString('\n')
			t2 := time.Since(start)
			if err != nil || line2 != "chunk2\n" {
				t.Fatalf("second line %q (error %v), want %q", line2, err, "chunk2\n")
			}
			if rest, err := io.ReadAll(body); len(rest) > 0 || err != nil {
				t.Errorf("after chunk 2: %q (error %v), want the end of the body", rest, err)
			}
			t.Logf("chunk 1 at %v, chunk 2 at %v", t1.Round(time.Millisecond), t2.Round(time.Millisecond))
			if t2-t1 < minGap {
				t.Errorf("chunk 1 arrived only %v before chunk 2 (want at least %v): it was not flushed before the app went on", (t2 - t1).Round(time.Millisecond), minGap)
			}
		})
	}
}
