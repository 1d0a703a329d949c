package tests

// This file is a transport written outside package host, on the host's
// lower seam: a small HTTP/1.1 server that parses requests itself and calls
// host.Handler.ServeRequest with a host.Request and a host.ResponseWriter.
// It imports nothing of net/http, so no *http.Request and no http.Header is
// made on its path: what another HTTP engine (fasthttp, say) would do. The
// conformance suite runs every app through it.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"

	lsgienviron "github.com/lsgi/lsgi/environ"
	"github.com/lsgi/lsgi/host"
)

// seamServer serves one request per connection with h.
type seamServer struct {
	h  *host.Handler
	ln net.Listener
	wg sync.WaitGroup
}

func startSeamServer(t *testing.T, h *host.Handler) *seamServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &seamServer{h: h, ln: ln}
	s.wg.Add(1)
	go s.accept()
	t.Cleanup(func() {
		ln.Close()
		s.wg.Wait()
	})
	return s
}

func (s *seamServer) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			s.serve(c)
		}()
	}
}

// serve reads one request from c and answers it through the lower seam.
func (s *seamServer) serve(c net.Conn) {
	br := bufio.NewReader(c)
	req, err := readSeamRequest(br)
	if err != nil {
		io.WriteString(c, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
		return
	}
	req.RemoteAddr = c.RemoteAddr().String()
	req.LocalAddr = c.LocalAddr()
	w := &seamWriter{bw: bufio.NewWriter(c), head: req.Method == "HEAD"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := s.h.ServeRequest(ctx, w, req); err != nil {
		// host.ErrAborted: cut the connection, with no last chunk, so
		// that the client sees a truncated body.
		w.bw.Flush()
		return
	}
	if !w.sent {
		w.WriteHeader(200, "")
	}
	if w.chunked {
		w.bw.WriteString("0\r\n\r\n")
	}
	w.bw.Flush()
}

// seamFields is a request's header as the server read it, field by field.
type seamFields [][2]string

func (f seamFields) VisitFields(v lsgienviron.FieldVisitor) {
	for _, kv := range f {
		v.Field(kv[0], kv[1])
	}
}

func (f seamFields) get(name string) (string, bool) {
	for _, kv := range f {
		if strings.EqualFold(kv[0], name) {
			return kv[1], true
		}
	}
	return "", false
}

// readSeamRequest parses a request line, the header fields and the body's
// framing (origin-form targets only, as a client sends them).
func readSeamRequest(br *bufio.Reader) (*host.Request, error) {
	line, err := readLine(br)
	if err != nil {
		return nil, err
	}
	parts := strings.Split(line, " ")
	if len(parts) != 3 || !strings.HasPrefix(parts[1], "/") {
		return nil, fmt.Errorf("bad request line %q", line)
	}
	r := &host.Request{}
	r.Method, r.Target, r.Proto = parts[0], parts[1], parts[2]
	r.Path, r.Query, _ = strings.Cut(r.Target, "?")
	var fields seamFields
	for {
		line, err := readLine(br)
		if err != nil {
			return nil, err
		}
		if line == "" {
			break
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("bad header line %q", line)
		}
		fields = append(fields, [2]string{name, strings.TrimSpace(value)})
	}
	r.Header = fields
	r.Host, _ = fields.get("Host")
	if te, ok := fields.get("Transfer-Encoding"); ok && strings.EqualFold(te, "chunked") {
		r.Chunked, r.ContentLength, r.Body = true, -1, &chunkedReader{br: br}
	} else if cl, ok := fields.get("Content-Length"); ok {
		n, err := strconv.ParseInt(cl, 10, 64)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("bad Content-Length %q", cl)
		}
		r.ContentLength = n
		if n > 0 {
			r.Body = io.LimitReader(br, n)
		}
	}
	return r, nil
}

func readLine(br *bufio.Reader) (string, error) {
	line, err := br.ReadString('\n')
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r"), nil
}

// chunkedReader decodes a chunked request body (RFC 9112 7.1), without
// extensions or trailers.
type chunkedReader struct {
	br   *bufio.Reader
	left int64
	done bool
}

func (c *chunkedReader) Read(p []byte) (int, error) {
	if c.done {
		return 0, io.EOF
	}
	if c.left == 0 {
		line, err := readLine(c.br)
		if err != nil {
			return 0, io.ErrUnexpectedEOF
		}
		n, err := strconv.ParseInt(line, 16, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("bad chunk size %q", line)
		}
		if n == 0 {
			c.done = true
			_, err := readLine(c.br) // the empty line after the last chunk
			if err != nil {
				return 0, io.ErrUnexpectedEOF
			}
			return 0, io.EOF
		}
		c.left = n
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.br.Read(p)
	c.left -= int64(n)
	if c.left == 0 && err == nil {
		_, err = readLine(c.br) // the CRLF that ends a chunk
	}
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// seamWriter writes an HTTP/1.1 response: the app's own reason phrase, a
// Content-Length body as is, any other body chunked, and Connection: close.
type seamWriter struct {
	bw      *bufio.Writer
	head    bool
	fields  [][2]string
	sent    bool
	chunked bool
}

func (w *seamWriter) AddHeader(name, value string) {
	w.fields = append(w.fields, [2]string{name, value})
}

func (w *seamWriter) WriteHeader(status int, reason string) error {
	if reason == "" {
		reason = seamReasons[status]
	}
	fmt.Fprintf(w.bw, "HTTP/1.1 %d %s\r\n", status, reason)
	framed := status == 204 || status == 304 || w.head
	for _, f := range w.fields {
		fmt.Fprintf(w.bw, "%s: %s\r\n", f[0], f[1])
		framed = framed || strings.EqualFold(f[0], "Content-Length")
	}
	if !framed {
		w.chunked = true
		w.bw.WriteString("Transfer-Encoding: chunked\r\n")
	}
	w.bw.WriteString("Connection: close\r\n\r\n")
	w.sent = true
	return nil
}

func (w *seamWriter) Write(chunk string, flush bool) error {
	if chunk != "" && w.chunked {
		fmt.Fprintf(w.bw, "%x\r\n%s\r\n", len(chunk), chunk)
	} else {
		w.bw.WriteString(chunk)
	}
	if flush {
		return w.bw.Flush()
	}
	return nil
}

// seamReasons are the standard phrases of the statuses the host makes.
var seamReasons = map[int]string{
	200: "OK", 400: "Bad Request", 404: "Not Found", 413: "Request Entity Too Large",
	500: "Internal Server Error", 503: "Service Unavailable", 504: "Gateway Timeout",
}
