package tests

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// chunk encodes parts as a chunked request body.
func chunk(parts ...string) string {
	var sb strings.Builder
	for _, p := range parts {
		fmt.Fprintf(&sb, "%x\r\n%s\r\n", len(p), p)
	}
	sb.WriteString("0\r\n\r\n")
	return sb.String()
}

// TestInput checks lsgi.input: read(n), read(), readline() and lines(), the
// end of the body (nil from read(n) and readline(), "" from read()), never
// reading past the body, and chunked uploads.
func TestInput(t *testing.T) {
	s := startServer(t, "input")
	big := strings.Repeat("0123456789abcdef", 12500) // 200 000 bytes

	for _, tc := range []struct {
		name    string
		path    string
		body    string // sent with Content-Length
		chunked []string
		want    string
	}{
		{"read() then read() then read(1)", "/input/all", "hello", nil, "[hello][]nil"},
		{"read() of no body", "/input/all", "", nil, "[][]nil"},
		{"read(3) until nil", "/input/sized", "hello", nil, "[hel][lo]nil"},
		{"read(n) stops at the body's end", "/input/past-end", "hello", nil, "[hello]nil"},
		{"readline() until nil", "/input/readline", "a\nb\nc", nil, "[a\n][b\n][c]nil"},
		{"readline() with a final newline", "/input/readline", "a\nb\n", nil, "[a\n][b\n]nil"},
		{"lines()", "/input/lines", "a\nb\nc", nil, "<a><b><c>"},
		{"large body", "/input/length", big, nil, "len=200000"},
		{"chunked: read()", "/input/all", "", []string{"hello", " ", "world"}, "[hello world][]nil"},
		{"chunked: read(3)", "/input/sized", "", []string{"he", "llo"}, "[hel][lo]nil"},
		{"chunked: readline() across chunks", "/input/readline", "", []string{"a\nb", "\nc"}, "[a\n][b\n][c]nil"},
		{"chunked: lines()", "/input/lines", "", []string{"a\n", "b\nc"}, "<a><b><c>"},
		{"chunked: large body", "/input/length", "", []string{big[:70000], big[70000:]}, "len=200000"},
		{"chunked: metadata", "/input/meta", "", []string{"hello"}, "cl=nil;terminated=true;body=[hello]"},
		{"Content-Length: metadata", "/input/meta", "hello", nil, "cl=5;terminated=true;body=[hello]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var req string
			if tc.chunked != nil {
				req = rawRequest("POST", tc.path, []string{"Transfer-Encoding: chunked"}, chunk(tc.chunked...))
			} else {
				req = rawRequest("POST", tc.path, []string{fmt.Sprintf("Content-Length: %d", len(tc.body))}, tc.body)
			}
			c := s.dial(t)
			c.send(req)
			r := c.read("POST")
			if r.StatusCode != http.StatusOK || r.body != tc.want || r.bodyErr != nil {
				t.Errorf("got %d %q (error %v), want 200 %q", r.StatusCode, r.body, r.bodyErr, tc.want)
			}
		})
	}

	t.Run("GET without a body", func(t *testing.T) {
		s.get(t, "/input/all").expect(t, "GET /input/all", http.StatusOK, "[][]nil")
	})

	// A pipelined request after the body must be neither read by the app nor
	// lost.
	for _, tc := range []struct {
		name, first, want string
	}{
		{"reading stops at the body's end", "/input/past-end", "[hello]nil"},
		{"read() stops at the body's end", "/input/all", "[hello][]nil"},
		{"an unread body is skipped", "/input/ignore", "ignored"},
	} {
		t.Run("pipelined: "+tc.name, func(t *testing.T) {
			c := s.dial(t)
			c.send(rawRequest("POST", tc.first, []string{"Content-Length: 5"}, "hello") +
				rawRequest("POST", "/input/all", []string{"Content-Length: 3"}, "abc"))
			if r := c.read("POST"); r.StatusCode != http.StatusOK || r.body != tc.want {
				t.Errorf("first: %d %q (error %v), want 200 %q", r.StatusCode, r.body, r.bodyErr, tc.want)
			}
			if r := c.read("POST"); r.StatusCode != http.StatusOK || r.body != "[abc][]nil" {
				t.Errorf("second: %d %q (error %v), want 200 %q", r.StatusCode, r.body, r.bodyErr, "[abc][]nil")
			}
		})
	}

	t.Run("Expect: 100-continue, app reads", func(t *testing.T) {
		c := s.dial(t)
		c.send(rawRequest("POST", "/input/all", []string{"Content-Length: 5", "Expect: 100-continue"}, ""))
		if r := c.head("POST"); r.StatusCode != http.StatusContinue {
			t.Fatalf("first response %d, want 100 Continue before the body is sent", r.StatusCode)
		}
		c.send("hello")
		if r := c.read("POST"); r.StatusCode != http.StatusOK || r.body != "[hello][]nil" {
			t.Errorf("final response %d %q (error %v), want 200 %q", r.StatusCode, r.body, r.bodyErr, "[hello][]nil")
		}
	})

	t.Run("Expect: 100-continue, app does not read", func(t *testing.T) {
		c := s.dial(t)
		c.send(rawRequest("POST", "/input/ignore", []string{"Content-Length: 5", "Expect: 100-continue"}, ""))
		if r := c.read("POST"); r.StatusCode != http.StatusOK || r.body != "ignored" {
			t.Errorf("response %d %q (error %v), want 200 \"ignored\" and no 100", r.StatusCode, r.body, r.bodyErr)
		}
	})

	t.Run("upload cut short", func(t *testing.T) {
		// The client declares 10 bytes, sends 3 and stops sending: read
		// raises, so the app cannot answer as if it had the whole body.
		c := s.dial(t)
		c.send(rawRequest("POST", "/input/all", []string{"Content-Length: 10"}, "abc"))
		if err := c.conn.(*net.TCPConn).CloseWrite(); err != nil {
			t.Fatalf("half-close: %v", err)
		}
		resp, err := http.ReadResponse(c.r, &http.Request{Method: "POST"})
		if err == nil {
			defer resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				body, _ := io.ReadAll(resp.Body)
				t.Errorf("got 200 %q (Content-Length %q) for a cut-off upload: a response the app cannot have given", body, resp.Header.Get("Content-Length"))
			}
		}
		// The server is still fine.
		s.get(t, "/input/all").expect(t, "GET /input/all afterwards", http.StatusOK, "[][]nil")
	})

	t.Run("pipelined after a chunked body", func(t *testing.T) {
		c := s.dial(t)
		c.send(rawRequest("POST", "/input/past-end", []string{"Transfer-Encoding: chunked"}, chunk("hel", "lo")) +
			rawRequest("POST", "/input/all", []string{"Content-Length: 3"}, "abc"))
		if r := c.read("POST"); r.body != "[hello]nil" {
			t.Errorf("first: %d %q (error %v), want 200 %q", r.StatusCode, r.body, r.bodyErr, "[hello]nil")
		}
		if r := c.read("POST"); r.body != "[abc][]nil" {
			t.Errorf("second: %d %q (error %v), want 200 %q", r.StatusCode, r.body, r.bodyErr, "[abc][]nil")
		}
	})
}
