package supervisor

// This file is the shared socket as a worker serves it: it follows the
// connections the worker accepted, so that a worker being replaced can
// drain them before it shuts down; and for FastCGI it counts requests and
// waits for connections at shutdown, which net/http/fcgi offers no hook
// for.

import (
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// fcgiBeginRequest is the type of the record that opens a FastCGI request
// (FastCGI specification, section 5.1).
const fcgiBeginRequest = 1

// workerListener wraps a worker's copy of the shared socket.
//
// Why a worker being replaced drains before it shuts down: net/http's
// Server.Shutdown drops a connection it accepted whose first request it
// reads only after the shutdown began, and closes kept-alive connections
// at once, racing with a client sending its next request on one. Under
// steady load a worker always has such connections. So it first stops
// accepting, answers the next request on each connection with
// "Connection: close", waits for the connections to close, and only then
// shuts down.
type workerListener struct {
	net.Listener
	w       *Worker
	fastCGI bool
	grace   time.Duration // FastCGI: how long Close waits for open connections

	mu        sync.Mutex
	open      int           // accepted connections not yet closed
	accepting int           // Accept calls under way
	changed   chan struct{} // closed and replaced when open or accepting change
	paused    atomic.Bool   // draining: accept nothing more
	closing   bool
	closed    chan struct{} // closed by Close
	closeErr  error
}

func newWorkerListener(ln net.Listener, w *Worker, fastCGI bool, grace time.Duration) *workerListener {
	return &workerListener{
		Listener: ln,
		w:        w,
		fastCGI:  fastCGI,
		grace:    grace,
		changed:  make(chan struct{}),
		closed:   make(chan struct{}),
	}
}

// Accept accepts the next connection. Once the listener is paused it
// accepts nothing more, and waits for Close: a server whose Accept fails
// before it is shut down would stop with an error.
func (l *workerListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	if l.paused.Load() {
		l.mu.Unlock()
		<-l.closed
		return nil, net.ErrClosed
	}
	l.accepting++
	l.mu.Unlock()

	c, err := l.Listener.Accept()

	l.mu.Lock()
	l.accepting--
	paused := l.paused.Load()
	var wc *workerConn
	if err == nil {
		wc = &workerConn{Conn: c, l: l}
		l.open++
	}
	l.unsyncedChanged()
	l.mu.Unlock()
	if err != nil {
		if paused {
			<-l.closed
			return nil, net.ErrClosed
		}
		return nil, err
	}
	return wc, nil
}

// stopAccepting drains the worker before its shutdown: it closes the
// worker's copy of the socket (the others keep accepting on theirs), has
// each connection closed after its next response (see requestArrived),
// and waits, up to bound, for the Accept calls under way to return and
// every connection to close. A connection still open then is one whose
// client has been idle all along; the shutdown closes it.
func (l *workerListener) stopAccepting(bound time.Duration) {
	l.mu.Lock()
	l.paused.Store(true)
	l.mu.Unlock()
	_ = l.Listener.Close()
	l.wait(func() bool { return l.accepting == 0 && l.open == 0 }, bound)
}

// wait waits, up to bound, until done (called with l.mu held) is true.
func (l *workerListener) wait(done func() bool, bound time.Duration) {
	deadline := time.NewTimer(bound)
	defer deadline.Stop()
	for {
		l.mu.Lock()
		ok, changed := done(), l.changed
		l.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-changed:
		case <-deadline.C:
			return
		}
	}
}

// draining reports whether the worker is draining: a connection should
// then close after its response.
func (l *workerListener) draining() bool { return l.paused.Load() }

// Close stops accepting. For FastCGI it then waits, up to the grace
// period, for the open connections to close.
func (l *workerListener) Close() error {
	l.mu.Lock()
	first := !l.closing
	l.closing = true
	if first {
		if !l.paused.Load() { // else stopAccepting closed it
			l.closeErr = l.Listener.Close()
		}
		close(l.closed)
	}
	l.mu.Unlock()
	if l.fastCGI {
		l.wait(func() bool { return l.open == 0 }, l.grace)
	}
	return l.closeErr
}

func (l *workerListener) connClosed(c *workerConn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
	l.unsyncedChanged()
}

func (l *workerListener) unsyncedChanged() {
	close(l.changed)
	l.changed = make(chan struct{})
}

// workerConn is a connection a worker accepted.
type workerConn struct {
	net.Conn
	l         *workerListener
	records   recordCounter // FastCGI only
	closeOnce sync.Once
}

// Read reads from the connection; on FastCGI connections it counts the
// requests that begin.
func (c *workerConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if c.l.fastCGI {
		for range c.records.feed(p[:n]) {
			c.l.w.countRequest()
		}
	}
	return n, err
}

func (c *workerConn) Close() error {
	err := c.Conn.Close()
	c.closeOnce.Do(func() { c.l.connClosed(c) })
	return err
}

// recordCounter follows the record boundaries of a FastCGI byte stream,
// fed in pieces of any size, and counts the records that begin requests.
// Each record is an 8-byte header (version, type, request id, content
// length, padding length, reserved) and then its content and padding.
type recordCounter struct {
	header [8]byte
	have   int // header bytes held
	skip   int // content and padding bytes left of the current record
}

// feed consumes p and returns how many FCGI_BEGIN_REQUEST headers it
// completed.
func (rc *recordCounter) feed(p []byte) int {
	begins := 0
	for len(p) > 0 {
		if rc.skip > 0 {
			k := min(rc.skip, len(p))
			rc.skip -= k
			p = p[k:]
			continue
		}
		k := copy(rc.header[rc.have:], p)
		rc.have += k
		p = p[k:]
		if rc.have < len(rc.header) {
			break
		}
		if rc.header[1] == fcgiBeginRequest {
			begins++
		}
		rc.skip = int(rc.header[4])<<8 | int(rc.header[5]) + int(rc.header[6])
		rc.have = 0
	}
	return begins
}
