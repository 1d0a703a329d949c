package tests

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// response is what Go's HTTP client saw.
type response struct {
	status  int
	header  http.Header
	body    string
	bodyErr error // non-nil when the body could not be read to its end
}

// do sends req with the server's client. It returns an error only when no
// response arrived at all.
func (s *server) do(req *http.Request) (*response, error) {
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return &response{status: resp.StatusCode, header: resp.Header, body: string(body), bodyErr: err}, nil
}

// request sends METHOD path with the given body (nil for none) and headers
// given as name, value pairs.
func (s *server) request(t *testing.T, method, path string, body io.Reader, header ...string) *response {
	t.Helper()
	req, err := http.NewRequest(method, s.base+path, body)
	if err != nil {
		t.Fatalf("new request %s %s: %v", method, path, err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	r, err := s.do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

// get sends GET path.
func (s *server) get(t *testing.T, path string) *response {
	t.Helper()
	return s.request(t, http.MethodGet, path, nil)
}

// expect checks status and body of a complete response.
func (r *response) expect(t *testing.T, what string, status int, body string) {
	t.Helper()
	if r.status != status || r.body != body || r.bodyErr != nil {
		t.Errorf("%s: got %d %q (body error %v), want %d %q", what, r.status, r.body, r.bodyErr, status, body)
	}
}

// expectStatus checks the status of a response whose body was read in full.
func (r *response) expectStatus(t *testing.T, what string, status int) {
	t.Helper()
	if r.status != status {
		t.Errorf("%s: got status %d (body %q), want %d", what, r.status, r.body, status)
	}
	if r.bodyErr != nil {
		t.Errorf("%s: reading the body: %v", what, r.bodyErr)
	}
}

// rawConn is a TCP connection on which a test writes requests by hand and
// reads the responses with http.ReadResponse, so that framing is visible.
type rawConn struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

// rawResponse is one response read from a rawConn.
type rawResponse struct {
	*http.Response
	body    string
	bodyErr error
}

// dial opens a raw connection to the server, closed when the test ends.
// Every read and write on it is bounded by 20 s.
func (s *server) dial(t *testing.T) *rawConn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", s.addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", s.addr, err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	return &rawConn{t: t, conn: conn, r: bufio.NewReader(conn)}
}

// rawRequest builds an HTTP/1.1 request with the given header lines
// ("Name: value") and body, and a Host header unless the lines hold one.
func rawRequest(method, target string, lines []string, body string) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s %s HTTP/1.1\r\n", method, target)
	hasHost := false
	for _, l := range lines {
		hasHost = hasHost || strings.HasPrefix(strings.ToLower(l), "host:")
	}
	if !hasHost {
		sb.WriteString("Host: 127.0.0.1\r\n")
	}
	for _, l := range lines {
		sb.WriteString(l)
		sb.WriteString("\r\n")
	}
	sb.WriteString("\r\n")
	sb.WriteString(body)
	return sb.String()
}

// send writes raw bytes.
func (c *rawConn) send(data string) {
	c.t.Helper()
	if _, err := io.WriteString(c.conn, data); err != nil {
		c.t.Fatalf("write request: %v", err)
	}
}

// head reads a status line and headers, but not the body, of the response
// to a request with the given method.
func (c *rawConn) head(method string) *http.Response {
	c.t.Helper()
	resp, err := http.ReadResponse(c.r, &http.Request{Method: method})
	if err != nil {
		c.t.Fatalf("read response to %s: %v", method, err)
	}
	return resp
}

// read reads a whole response to a request with the given method. A body
// that ends early is recorded in bodyErr, not reported.
func (c *rawConn) read(method string) *rawResponse {
	c.t.Helper()
	resp := c.head(method)
	body, err := io.ReadAll(resp.Body)
	return &rawResponse{Response: resp, body: string(body), bodyErr: err}
}

// expectClosed checks that the server closes the connection (rather than
// keeping it open or sending more bytes) within 10 s.
func (c *rawConn) expectClosed(what string) {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	b, err := c.r.ReadByte()
	switch {
	case err == nil:
		rest, _ := c.r.Peek(c.r.Buffered())
		c.t.Errorf("%s: more bytes after the response: %q", what, append([]byte{b}, rest...))
	case errors.Is(err, os.ErrDeadlineExceeded):
		c.t.Errorf("%s: the server kept the connection open", what)
	case errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET):
	default:
		c.t.Errorf("%s: reading after the response: %v", what, err)
	}
}

// isChunked reports whether the response used chunked framing.
func isChunked(r *http.Response) bool {
	return len(r.TransferEncoding) > 0 && r.TransferEncoding[0] == "chunked"
}
