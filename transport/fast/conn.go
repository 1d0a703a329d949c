package fast

// This file is the connection loop: read a request, serve it, write the
// response, as long as the connection is kept alive.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lsgi/lsgi/environ"
	"github.com/lsgi/lsgi/host"
	"github.com/valyala/fasthttp"
)

// Connection states, for Shutdown: it closes idle connections only.
const (
	stateIdle    int32 = iota // waiting for a request's first byte
	stateActive               // reading or serving a request
	stateClosing              // Shutdown closed it while idle
)

const (
	// readBufferSize is a connection's read buffer, which holds a
	// request's line and header fields; it grows to MaxHeaderBytes for a
	// request that needs more.
	readBufferSize = 4 << 10
	// maxPending bounds the response bytes kept before they are written:
	// a long body goes out in pieces of about this size.
	maxPending = 32 << 10
	// maxDrain is how much of a body the app did not read is read and
	// dropped to keep the connection, as net/http does.
	maxDrain = 256 << 10
	// drainTimeout bounds the wait for that body.
	drainTimeout = time.Second
)

var readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, readBufferSize) }}

// conn is one connection and the request it serves; everything the loop
// needs per request lives here and is reused.
type conn struct {
	s     *Server
	nc    net.Conn
	state atomic.Int32
	br    *bufio.Reader
	big   bool // br was grown to MaxHeaderBytes

	// out holds response bytes not yet written to nc.
	out []byte
	// writeDeadline is the write deadline set on nc, zero when none.
	writeDeadline time.Time
	writeErr      error

	remote  string          // the peer's address, "ip:port"
	local   net.Addr        // the listener's address
	gateway environ.Gateway // SERVER_NAME and SERVER_PORT, from local

	req     fasthttp.Request // its Header parses each request
	scratch []byte
	fields  headerFields
	hreq    host.Request
	body    body
	resp    response
	arrived time.Time // when the request's header was read
	ctx     context.Context
	linger  bool // close after the client had time to read the response
}

func newConn(s *Server, nc net.Conn) *conn {
	c := &conn{s: s, nc: nc, local: nc.LocalAddr(), ctx: context.Background()}
	if a := nc.RemoteAddr(); a != nil {
		c.remote = a.String()
	}
	c.gateway.ServerName, c.gateway.ServerPort = environ.ServerNamePort(c.local)
	c.state.Store(stateIdle)
	c.body.c = c
	c.resp.c = c
	return c
}

// serve runs the loop until the connection ends.
func (c *conn) serve() {
	defer c.s.untrack(c)
	defer c.nc.Close()
	defer func() {
		if c.br != nil && !c.big {
			c.br.Reset(nil)
			readerPool.Put(c.br)
		}
	}()
	c.br = readerPool.Get().(*bufio.Reader)
	c.br.Reset(c.nc)
	for n := 0; ; n++ {
		if !c.readRequest(n == 0) {
			c.flush()
			return
		}
		if !c.serveRequest() || c.s.inShutdown.Load() {
			if c.flush() && c.linger {
				c.closeLingering()
			}
			return
		}
		// Pipelined requests waiting in the buffer share one write.
		if c.br.Buffered() == 0 || len(c.out) >= maxPending {
			if !c.flush() {
				return
			}
		}
	}
}

// readRequest waits for a request and reads its header into c.req; it
// reports false when the connection should end (closed, timed out, a
// malformed request answered with 400 or 431, the server shutting down).
func (c *conn) readRequest(first bool) bool {
	c.state.Store(stateIdle)
	if c.s.inShutdown.Load() {
		return false
	}
	if c.br.Buffered() == 0 {
		wait := c.s.idleTimeout()
		if first {
			wait = c.s.readHeaderTimeout()
		}
		// A request's first byte: the connection is idle until then.
		if !c.flush() || c.nc.SetReadDeadline(time.Now().Add(wait)) != nil {
			return false
		}
		if _, err := c.br.Peek(1); err != nil {
			return false
		}
	}
	if !c.state.CompareAndSwap(stateIdle, stateActive) {
		return false // Shutdown closed it
	}
	c.arrived = time.Now()
	if !first {
		if c.nc.SetReadDeadline(c.arrived.Add(c.s.readHeaderTimeout())) != nil {
			return false
		}
	}
	c.req.Header.Reset()
	err := c.req.Header.Read(c.br)
	var small *fasthttp.ErrSmallBuffer
	if errors.As(err, &small) && !c.big {
		// The header outgrew the read buffer: go on with one of
		// MaxHeaderBytes, which keeps what was read.
		head, _ := c.br.Peek(c.br.Buffered())
		head = bytes.Clone(head)
		c.br.Reset(nil)
		readerPool.Put(c.br)
		c.br = bufio.NewReaderSize(io.MultiReader(bytes.NewReader(head), c.nc), c.s.maxHeaderBytes())
		c.big = true
		c.req.Header.Reset()
		err = c.req.Header.Read(c.br)
	}
	switch {
	case err == nil:
		return true
	case errors.As(err, &small):
		c.errorPage(431, "431 Request Header Fields Too Large")
	case errors.Is(err, io.EOF), errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, net.ErrClosed):
		// The client left or stalled: nothing to answer.
	default:
		var nothing fasthttp.ErrNothingRead
		if !errors.As(err, &nothing) {
			c.errorPage(400, "400 Bad Request")
		}
	}
	return false
}

// serveRequest serves the request read into c.req and reports whether the
// connection may serve another.
func (c *conn) serveRequest() bool {
	h := &c.req.Header
	if string(h.RequestURI()) == "*" && string(h.Method()) == "OPTIONS" {
		// The server itself answers "OPTIONS *", as net/http does: it
		// asks about the server, not about a resource (RFC 9110 9.3.7).
		c.out = appendStatusLine(c.out, h.IsHTTP11(), 200, "")
		c.out = append(c.out, dateLine()...)
		c.out = append(c.out, "Content-Length: 0\r\n\r\n"...)
		return !h.ConnectionClose() && h.ContentLength() == -2
	}
	c.describe(h)
	keep := !h.ConnectionClose()
	if c.s.BeforeRequest != nil && c.s.BeforeRequest() {
		keep = false
	}
	c.body.reset(h)
	c.resp.reset(h, c.hreq.Method == "HEAD", keep)
	err := c.s.Handler.ServeRequest(c.ctx, &c.resp, &c.hreq)
	keep = c.resp.finish(err)
	if !c.body.done() {
		keep = false
		c.linger = true
	}
	c.body.end()
	c.hreq = host.Request{}
	return keep
}

// lingerTimeout is how long a connection closed with a request body still
// coming stays open for reading, so that the client reads the response
// before a reset (net/http's rstAvoidanceDelay).
const lingerTimeout = 500 * time.Millisecond

// closeLingering shuts the writing side and reads what the client still
// sends for a while: closing a socket with unread data resets the
// connection, and the client could lose the response.
func (c *conn) closeLingering() {
	cw, ok := c.nc.(interface{ CloseWrite() error })
	if !ok || cw.CloseWrite() != nil {
		return
	}
	if c.nc.SetReadDeadline(time.Now().Add(lingerTimeout)) == nil {
		_, _ = io.Copy(io.Discard, c.nc)
	}
}

// errorPage answers a request the server could not read, and ends the
// connection.
func (c *conn) errorPage(status int, msg string) {
	c.out = appendStatusLine(c.out, true, status, "")
	c.out = append(c.out, "Content-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: "...)
	c.out = appendInt(c.out, int64(len(msg)))
	c.out = append(c.out, "\r\n\r\n"...)
	c.out = append(c.out, msg...)
	c.flush()
}

// flush writes out the pending response bytes, under a write deadline of
// RequestTimeout (set again only when half of it has passed, to spare the
// call); it reports false when the client is gone.
func (c *conn) flush() bool {
	if c.writeErr != nil {
		return false
	}
	if len(c.out) == 0 {
		return true
	}
	now := time.Now()
	if d := c.s.requestTimeout(); c.writeDeadline.Sub(now) < d/2 {
		c.writeDeadline = now.Add(d)
		if err := c.nc.SetWriteDeadline(c.writeDeadline); err != nil {
			c.writeErr = err
			return false
		}
	}
	_, err := c.nc.Write(c.out)
	c.out = c.out[:0]
	if cap(c.out) > 4*maxPending {
		c.out = nil // a long response's buffer is not kept
	}
	if err != nil {
		c.writeErr = err
		return false
	}
	return true
}

// body is the request body as the host reads it: fasthttp's reader for
// chunked and fixed-length bodies, opened on the first read, after a 100
// Continue when the client asked for one (docs/SPEC.md 9.4).
type body struct {
	c        *conn
	expect   bool // the client waits for 100 Continue
	has      bool // the request has a body
	stream   io.Reader
	eof      bool
	closed   bool // the response began: reading is over
	deadline bool // the read deadline is set
	err      error
}

var errBodyClosed = errors.New("fast: read of a request body after the response began")

func (b *body) reset(h *fasthttp.RequestHeader) {
	*b = body{c: b.c, has: b.c.hreq.Body != nil}
	b.expect = b.has && h.IsHTTP11() && bytes.EqualFold(h.Peek("Expect"), []byte("100-continue"))
}

// Read implements io.Reader.
func (b *body) Read(p []byte) (int, error) {
	switch {
	case b.eof:
		return 0, io.EOF
	case b.err != nil:
		return 0, b.err
	case b.closed:
		return 0, errBodyClosed
	}
	if b.stream == nil {
		if err := b.open(); err != nil {
			b.err = err
			return 0, err
		}
	}
	n, err := b.stream.Read(p)
	if err == io.EOF {
		b.eof = true
	} else if err != nil {
		b.err = err
	}
	return n, err
}

// open sends 100 Continue if the client waits for it, and starts reading
// the body from the connection.
func (b *body) open() error {
	c := b.c
	if !b.deadline {
		b.deadline = true
		if err := c.nc.SetReadDeadline(c.arrived.Add(c.s.requestTimeout())); err != nil {
			return err
		}
	}
	if b.expect {
		b.expect = false
		// Responses to earlier pipelined requests go first.
		c.out = append(c.out, "HTTP/1.1 100 Continue\r\n\r\n"...)
		if !c.flush() {
			return c.writeErr
		}
	}
	if err := c.req.ContinueReadBodyStream(c.br, math.MaxInt, false); err != nil {
		return err
	}
	b.stream = c.req.BodyStream()
	if b.stream == nil {
		b.stream = bytes.NewReader(c.req.Body())
	}
	return nil
}

// drain reads what the app left of the body, up to maxDrain and for at
// most drainTimeout, so that the connection can serve the next request; it
// runs before the response's header is written, as net/http's does, for
// clients that send their whole request before they read.
func (b *body) drain() {
	if !b.has || b.eof || b.err != nil || b.closed {
		b.closed = true
		return
	}
	if b.expect {
		// The client waits for 100 Continue before it sends the body,
		// and will not get it: the connection cannot be reused.
		b.closed, b.err = true, errBodyClosed
		return
	}
	c := b.c
	b.deadline = true
	if c.nc.SetReadDeadline(time.Now().Add(drainTimeout)) != nil {
		b.err = errBodyClosed
	} else {
		n, _ := io.CopyN(io.Discard, b, maxDrain+1)
		if !b.eof || n > maxDrain {
			b.err = errBodyClosed
		}
	}
	b.closed = true
}

// done reports whether the connection is where the next request starts.
func (b *body) done() bool { return !b.has || b.eof }

// end lets go of the request's body.
func (b *body) end() {
	if b.stream != nil {
		b.c.req.CloseBodyStream()
	}
	b.c.req.Reset()
	b.stream = nil
}
