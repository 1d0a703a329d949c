package transport

// This file closes HTTP/1 connections on which a request came with both
// Content-Length and Transfer-Encoding. RFC 9112 section 6.1: such a
// message "might indicate an attempt to perform request smuggling ... a
// server MAY reject [it] or process such a request in accordance with the
// Transfer-Encoding alone. Regardless, the server MUST close the
// connection after responding to such a request". net/http does the
// second and keeps the connection open, and it deletes Content-Length
// from the request before the handler sees it, so the handler cannot tell.
// The connection can: HTTPListener watches the bytes net/http reads.

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"sync/atomic"
)

// HTTPListener wraps ln for an [http.Server] made by [NewHTTPServer], so
// that the server closes a connection after answering a request that
// declared both Content-Length and Transfer-Encoding (RFC 9112 section
// 6.1), instead of reading the bytes after its chunked body as the next
// request. Wrap the listener that yields plaintext HTTP: the TLS
// listener's, when the server speaks TLS.
//
// It looks at the first bytes of every line the server reads and marks
// the connection when one header block (lines up to an empty one) holds
// both fields. A request body that happens to hold both as lines marks
// its connection too, which costs that client only a new connection.
func HTTPListener(ln net.Listener) net.Listener { return framingListener{ln} }

type framingListener struct{ net.Listener }

func (l framingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &framingConn{Conn: c}, nil
}

// framingConn is a connection whose reads are watched for conflicting
// framing. net/http reads a connection from one goroutine at a time, so
// the scan needs no lock; the handler reads the result from another.
type framingConn struct {
	net.Conn
	scan     framingScan
	conflict atomic.Bool
}

func (c *framingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && !c.conflict.Load() && c.scan.feed(p[:n]) {
		c.conflict.Store(true)
	}
	return n, err
}

// CloseWrite shuts down the writing side, as net/http does before it
// closes a connection whose request body it did not read.
func (c *framingConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// framingScan follows the lines of a byte stream fed in pieces of any
// size and reports a header block that holds both Content-Length and
// Transfer-Encoding. It keeps the start of the current line, enough to
// recognise the two field names, and skips the rest with IndexByte.
type framingScan struct {
	head   [len("transfer-encoding:")]byte // start of the current line, lower case
	col    int                             // bytes of the current line so far
	cl, te bool                            // seen in the current header block
}

var (
	contentLength    = []byte("content-length:")
	transferEncoding = []byte("transfer-encoding:")
)

// feed consumes p and reports whether a header block with both fields has
// been seen.
func (s *framingScan) feed(p []byte) bool {
	for len(p) > 0 {
		if s.col < len(s.head) {
			b := p[0]
			p = p[1:]
			if b == '\n' {
				if s.endLine() {
					return true
				}
				continue
			}
			if 'A' <= b && b <= 'Z' {
				b += 'a' - 'A'
			}
			s.head[s.col] = b
			s.col++
			continue
		}
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			return false // the line goes on in the next piece
		}
		p = p[i+1:]
		if s.endLine() {
			return true
		}
	}
	return false
}

// endLine takes note of a complete line; it reports a conflict.
func (s *framingScan) endLine() bool {
	line := s.head[:min(s.col, len(s.head))]
	s.col = 0
	switch {
	case len(line) == 0 || len(line) == 1 && line[0] == '\r':
		// An empty line ends a header block.
		s.cl, s.te = false, false
	case bytes.HasPrefix(line, contentLength):
		s.cl = true
	case bytes.HasPrefix(line, transferEncoding):
		s.te = true
	}
	return s.cl && s.te
}

// framingKey is the context key of the connection's *framingConn.
type framingKey struct{}

// connContext gives each request the connection it came on, when it is
// watched.
func connContext(ctx context.Context, c net.Conn) context.Context {
	if fc, ok := c.(*framingConn); ok {
		return context.WithValue(ctx, framingKey{}, fc)
	}
	return ctx
}

// closeOnConflict closes the connection after the response to a request
// that came with conflicting framing. Over TLS, where net/http reads the
// plaintext inside its own TLS connection and no listener sees it, it
// closes the connection after every chunked HTTP/1 request instead, the
// one kind a conflict can hide in (HTTP/2 has framing of its own).
type closeOnConflict struct{ h http.Handler }

func (g closeOnConflict) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fc, watched := r.Context().Value(framingKey{}).(*framingConn)
	if watched && fc.conflict.Load() || !watched && r.TLS != nil && r.ProtoMajor == 1 && len(r.TransferEncoding) > 0 {
		w.Header().Set("Connection", "close")
	}
	g.h.ServeHTTP(w, r)
}
