package tests

import (
	"net/http"
	"strings"
	"testing"
)

// TestFraming checks the Content-Length and chunked rules on the raw
// response: who sets Content-Length, when the body is chunked, that empty
// chunks never end a chunked body early, and how an app's own
// Content-Length is enforced.
func TestFraming(t *testing.T) {
	s := startServer(t, "framing")
	const (
		chunked = "chunked"
		absent  = "absent"
	)
	for _, tc := range []struct {
		name   string
		path   string
		length string // the Content-Length header, "chunked", or "absent"
		body   string
	}{
		{"table with one chunk gets Content-Length", "/frame/one", "5", "hello"},
		{"table with one chunk and close gets Content-Length", "/frame/one-with-close", "5", "hello"},
		{"empty table gets Content-Length 0", "/frame/empty", "0", ""},
		{"generator of empty chunks gets Content-Length 0", "/frame/empty-generator", "0", ""},
		{"table with two chunks is chunked", "/frame/two", chunked, "hello"},
		{"generator is chunked and skips empty chunks", "/frame/generator", chunked, "ab"},
		{"write output is chunked", "/frame/write", chunked, "hello"},
		{"app Content-Length is kept", "/frame/app-cl", "5", "hello"},
		{"extra bytes are cut to Content-Length", "/frame/cl-long", "3", "abc"},
		{"extra bytes across chunks are cut", "/frame/cl-long-generator", "3", "abc"},
		{"lower-case content-length is enforced", "/frame/cl-long-lower-case", "3", "abc"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := s.dial(t)
			c.send(rawRequest("GET", tc.path, nil, ""))
			r := c.read("GET")
			if r.StatusCode != http.StatusOK {
				t.Fatalf("status %d, want 200", r.StatusCode)
			}
			cl := r.Header.Values("Content-Length")
			switch tc.length {
			case chunked:
				if !isChunked(r.Response) || len(cl) > 0 {
					t.Errorf("Transfer-Encoding %q, Content-Length %q; want chunked and no Content-Length", r.TransferEncoding, cl)
				}
			default:
				if isChunked(r.Response) || len(cl) != 1 || cl[0] != tc.length {
					t.Errorf("Transfer-Encoding %q, Content-Length %q; want Content-Length %s and no chunking", r.TransferEncoding, cl, tc.length)
				}
			}
			if r.body != tc.body || r.bodyErr != nil {
				t.Errorf("body %q (error %v), want %q, complete", r.body, r.bodyErr, tc.body)
			}
			// The connection is still usable: the framing was right.
			c.send(rawRequest("GET", "/frame/one", nil, ""))
			if r := c.read("GET"); r.StatusCode != http.StatusOK || r.body != "hello" || r.bodyErr != nil {
				t.Errorf("next request on the connection: %d %q (error %v), want 200 \"hello\"", r.StatusCode, r.body, r.bodyErr)
			}
		})
	}

	t.Run("body shorter than Content-Length closes the connection", func(t *testing.T) {
		c := s.dial(t)
		c.send(rawRequest("GET", "/frame/cl-short", nil, ""))
		r := c.read("GET")
		if r.StatusCode != http.StatusOK || r.Header.Get("Content-Length") != "10" {
			t.Errorf("status %d, Content-Length %q; want 200 and the app's 10", r.StatusCode, r.Header.Get("Content-Length"))
		}
		if r.body != "abc" || r.bodyErr == nil {
			t.Errorf("body %q (error %v), want \"abc\" cut short, never padded", r.body, r.bodyErr)
		}
		c.expectClosed("after the short body")

		g := s.get(t, "/frame/cl-short")
		if g.body != "abc" || g.bodyErr == nil {
			t.Errorf("Go client: body %q (error %v), want \"abc\" and an unexpected EOF", g.body, g.bodyErr)
		}
	})

	t.Run("HTTP/1.0 without Content-Length is close-delimited", func(t *testing.T) {
		c := s.dial(t)
		c.send("GET /frame/two HTTP/1.0\r\n\r\n")
		r := c.read("GET")
		if isChunked(r.Response) || r.body != "hello" || r.bodyErr != nil {
			t.Errorf("Transfer-Encoding %q, body %q (error %v); want no chunking and \"hello\" up to the close", r.TransferEncoding, r.body, r.bodyErr)
		}
	})

	t.Run("bytes go out unchanged", func(t *testing.T) {
		s.get(t, "/frame/binary").expect(t, "GET /frame/binary", http.StatusOK, "\x00\r\n\xff\n\r")
	})

	t.Run("app headers are kept as given", func(t *testing.T) {
		c := s.dial(t)
		c.send(rawRequest("GET", "/frame/headers", nil, ""))
		r := c.read("GET")
		for _, h := range []struct {
			name string
			want []string
		}{
			{"Date", []string{"Mon, 01 Jan 2001 00:00:00 GMT"}},
			{"Server", []string{"fixture/1.0"}},
			{"Set-Cookie", []string{"a=1", "b=2"}},
			{"X-Bytes", []string{"h\xe4der"}},
			{"X-Tab", []string{"a\tb"}},
		} {
			if got := r.Header.Values(h.name); strings.Join(got, "\n") != strings.Join(h.want, "\n") {
				t.Errorf("%s: %q, want %q", h.name, got, h.want)
			}
		}
	})

	t.Run("no Content-Type is added", func(t *testing.T) {
		r := s.get(t, "/frame/no-content-type")
		r.expectStatus(t, "GET /frame/no-content-type", http.StatusOK)
		if ct := r.header.Values("Content-Type"); len(ct) > 0 {
			t.Errorf("Content-Type %q, want none: the app sent none", ct)
		}
	})

	t.Run("exactly one Date header", func(t *testing.T) {
		r := s.get(t, "/frame/one")
		if d := r.header.Values("Date"); len(d) != 1 {
			t.Errorf("Date headers %q, want exactly one", d)
		}
	})
}

// TestHead checks that HEAD runs the app, keeps its Content-Length and
// sends no body and no chunked framing.
func TestHead(t *testing.T) {
	s := startServer(t, "framing")
	for _, tc := range []struct {
		name, path, length string
	}{
		{"app Content-Length", "/frame/head", "5"},
		{"one-chunk table", "/frame/one", "5"},
		{"generator without Content-Length", "/frame/head-generator", ""},
		{"two-chunk table", "/frame/two", ""},
		{"write", "/frame/write", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := s.dial(t)
			c.send(rawRequest("HEAD", tc.path, nil, ""))
			r := c.read("HEAD")
			if r.StatusCode != http.StatusOK {
				t.Errorf("status %d, want 200", r.StatusCode)
			}
			if tc.length != "" {
				if cl := r.Header.Get("Content-Length"); cl != tc.length {
					t.Errorf("Content-Length %q, want %q", cl, tc.length)
				}
			}
			// Nothing follows the headers: the next response starts at once.
			c.send(rawRequest("GET", "/frame/one", nil, ""))
			if g := c.read("GET"); g.StatusCode != http.StatusOK || g.body != "hello" {
				t.Errorf("GET after HEAD: %d %q (error %v), want 200 \"hello\"; bytes after the HEAD response?", g.StatusCode, g.body, g.bodyErr)
			}
		})
	}
}

// TestPipelining sends two requests in one write and checks that the
// second response is intact after responses whose framing the server had
// to adjust.
func TestPipelining(t *testing.T) {
	s := startServer(t, "framing")
	for _, tc := range []struct {
		name, method, path, body string
	}{
		{"after a body cut to Content-Length", "GET", "/frame/cl-long", "abc"},
		{"after a body cut across chunks", "GET", "/frame/cl-long-generator", "abc"},
		{"after HEAD with Content-Length", "HEAD", "/frame/head", ""},
		{"after HEAD of a generator", "HEAD", "/frame/head-generator", ""},
		{"after a chunked body with empty chunks", "GET", "/frame/generator", "ab"},
		{"after 204 with a body", "GET", "/frame/no-content", ""},
		{"after 304 with a body", "GET", "/frame/not-modified", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := s.dial(t)
			c.send(rawRequest(tc.method, tc.path, nil, "") + rawRequest("GET", "/frame/two", nil, ""))
			first := c.read(tc.method)
			if first.body != tc.body || first.bodyErr != nil {
				t.Errorf("first response: %d %q (error %v), want body %q", first.StatusCode, first.body, first.bodyErr, tc.body)
			}
			second := c.read("GET")
			if second.StatusCode != http.StatusOK || second.body != "hello" || second.bodyErr != nil {
				t.Errorf("second response: %d %q (error %v), want 200 \"hello\"", second.StatusCode, second.body, second.bodyErr)
			}
			if strings.HasSuffix(tc.path, "not-modified") {
				// net/http sends no Content-Length with a 304 (docs/SPEC.md 7.5).
				if first.StatusCode != http.StatusNotModified || isChunked(first.Response) {
					t.Errorf("304: status %d, chunked %v; want 304 with no body framing", first.StatusCode, isChunked(first.Response))
				}
			}
			if strings.HasSuffix(tc.path, "no-content") {
				if first.StatusCode != http.StatusNoContent || len(first.Header.Values("Content-Length")) > 0 || isChunked(first.Response) {
					t.Errorf("204: status %d, Content-Length %q, Transfer-Encoding %q; want 204 without either", first.StatusCode, first.Header.Values("Content-Length"), first.TransferEncoding)
				}
			}
		})
	}
}
