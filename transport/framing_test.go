package transport

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestFramingScan(t *testing.T) {
	tests := []struct {
		desc   string
		stream string
		want   bool
	}{
		{"content-length only", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", false},
		{"chunked only", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", false},
		{"both", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", true},
		{"both, other order and case", "POST / HTTP/1.1\r\ntransfer-ENCODING: chunked\r\nHost: x\r\ncontent-length: 5\r\n\r\n", true},
		{"both, bare line feeds", "POST / HTTP/1.1\nContent-Length: 5\nTransfer-Encoding: chunked\n\n", true},
		{"in two requests, one each", "POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\nPOST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", false},
		{"the second of two requests", "GET / HTTP/1.1\r\nHost: x\r\n\r\nPOST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", true},
		{"a longer name that starts alike", "POST / HTTP/1.1\r\nContent-Length-X: 1\r\nTransfer-Encoding: chunked\r\n\r\n", false},
		{"a value that names the other", "POST / HTTP/1.1\r\nX-Note: Content-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", false},
		{"long lines between", "POST / HTTP/1.1\r\nCookie: " + strings.Repeat("a", 10000) + "\r\nContent-Length: 1\r\nX: " + strings.Repeat("b", 5000) + "\r\nTransfer-Encoding: chunked\r\n\r\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			// Whole, byte by byte, and in pieces of 7: the answer must
			// not depend on where reads split the stream.
			for _, size := range []int{len(tt.stream), 1, 7} {
				var s framingScan
				got := false
				for p := tt.stream; len(p) > 0 && !got; {
					n := min(size, len(p))
					got = s.feed([]byte(p[:n]))
					p = p[n:]
				}
				if got != tt.want {
					t.Errorf("pieces of %d: conflict = %v, want %v", size, got, tt.want)
				}
			}
		})
	}
}

// TestConflictingFramingClosesTheConnection sends a request with both
// Content-Length and Transfer-Encoding followed by a second request
// hidden after the chunked body: the server answers the first, says
// Connection: close and never serves the second (RFC 9112 section 6.1).
// A plainly chunked request keeps its connection.
func TestConflictingFramingClosesTheConnection(t *testing.T) {
	served := make(chan string, 8)
	srv := NewHTTPServer("", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		served <- r.URL.Path
		io.WriteString(w, "ok "+r.URL.Path)
	}), discardLogger())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(HTTPListener(ln))
	defer srv.Close()

	tests := []struct {
		desc      string
		request   string
		wantClose bool
	}{
		{"chunked", "POST /first HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", false},
		{"both", "POST /first HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			io.WriteString(c, tt.request+"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n")
			br := bufio.NewReader(c)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.Close != tt.wantClose {
				t.Errorf("Connection: close = %v, want %v", resp.Close, tt.wantClose)
			}
			second, err := http.ReadResponse(br, nil)
			switch {
			case tt.wantClose && err == nil:
				t.Errorf("the bytes after the chunked body were served as a request: %s", second.Status)
			case !tt.wantClose && err != nil:
				t.Errorf("the next request on the connection: %v", err)
			}
			for len(served) > 0 {
				if p := <-served; p == "/smuggled" && tt.wantClose {
					t.Errorf("the handler served /smuggled")
				}
			}
		})
	}
}

// TestChunkedOverTLSCloses: over TLS no listener sees the plaintext, so a
// chunked HTTP/1 request closes its connection whatever its headers; a
// request with a Content-Length keeps it.
func TestChunkedOverTLSCloses(t *testing.T) {
	ts := httptest.NewUnstartedServer(closeOnConflict{http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, "ok")
	})})
	ts.StartTLS()
	defer ts.Close()
	tests := []struct {
		desc      string
		body      io.Reader
		wantClose bool
	}{
		{"chunked", io.MultiReader(strings.NewReader("hello")), true},
		{"with a length", strings.NewReader("hello"), false},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			resp, err := ts.Client().Post(ts.URL, "text/plain", tt.body)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.Close != tt.wantClose {
				t.Errorf("Connection: close = %v, want %v", resp.Close, tt.wantClose)
			}
		})
	}
}
