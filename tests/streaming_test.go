package tests

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"strings"
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

// TestStreamingLatency checks that a chunk an app yields reaches the client
// while the app works on (PEP 3333: the server goes on sending while the
// app produces the next block), within 50 ms, whether the server coalesces
// chunks (the default) or sends them one by one (lsgi.exact_chunks).
func TestStreamingLatency(t *testing.T) {
	s := startServer(t, "streaming")
	s.get(t, "/pause").expectStatus(t, "GET /pause (warm-up)", http.StatusOK)
	for _, target := range []string{"/pause", "/pause?exact=1"} {
		t.Run(target, func(t *testing.T) {
			c := s.dial(t)
			start := time.Now()
			c.send(rawRequest("GET", target, nil, ""))
			resp := c.head("GET")
			body := bufio.NewReader(resp.Body)
			first, err := body.ReadString('\n')
			t1 := time.Since(start)
			if err != nil || first != "first\n" {
				t.Fatalf("first line %q (error %v)", first, err)
			}
			last, err := body.ReadString('\n')
			t2 := time.Since(start)
			if err != nil || last != "last\n" {
				t.Fatalf("last line %q (error %v)", last, err)
			}
			t.Logf("first chunk at %v, last at %v", t1.Round(time.Millisecond), t2.Round(time.Millisecond))
			if t1 > 50*time.Millisecond || t2-t1 < 200*time.Millisecond {
				t.Errorf("first chunk at %v, last at %v: want the first within 50 ms, before the app's 300 ms of work", t1, t2)
			}
		})
	}
}

// TestExactChunks checks that lsgi.exact_chunks sends every chunk of an
// iterator as its own HTTP chunk, as LSGI did before it coalesced them.
func TestExactChunks(t *testing.T) {
	s := startServer(t, "streaming")
	c := s.dial(t)
	c.send(rawRequest("GET", "/exact?exact=1", nil, ""))
	var head []string
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line == "\r\n" {
			break
		}
		head = append(head, line)
	}
	var frames []string
	for {
		size, err := c.r.ReadString('\n')
		if err != nil {
			t.Fatalf("after frames %q: %v", frames, err)
		}
		var n int
		if _, err := fmt.Sscanf(size, "%x", &n); err != nil {
			t.Fatalf("chunk size %q: %v", size, err)
		}
		data := make([]byte, n+2)
		if _, err := io.ReadFull(c.r, data); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		frames = append(frames, string(data[:n]))
	}
	if strings.Join(frames, "|") != "chunk1\n|chunk2\n|chunk3\n" {
		t.Errorf("frames %q, want one per chunk (head %q)", frames, head)
	}
}
