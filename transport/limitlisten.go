package transport

// This file caps the connections a server holds at once, for any server
// that accepts from a net.Listener (net/http, net/http/fcgi, another HTTP
// engine), so that a flood of connections ends in refusals instead of
// "too many open files", which stops every server in the process from
// accepting anything.

import (
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// HTTPRefusal is what [LimitListener] writes to an HTTP connection it
// refuses past its cap: a complete 503 response that closes the
// connection, sent before the request is read.
var HTTPRefusal = []byte("HTTP/1.1 503 Service Unavailable\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"X-Content-Type-Options: nosniff\r\n" +
	"Retry-After: 1\r\n" +
	"Connection: close\r\n" +
	"Content-Length: 24\r\n" +
	"\r\n" +
	"503 Service Unavailable\n")

// Refusals in progress beyond this many are closed at once, unanswered:
// each holds a file descriptor while it lingers.
const maxRefusing = 64

// refuseLinger bounds how long a refused connection is kept open after its
// refusal was sent, waiting for the client to close first: closing a
// socket whose client's request is still unread makes the kernel send a
// reset, which can reach the client before the refusal does.
const refuseLinger = 500 * time.Millisecond

// refusalLogEvery spaces the warnings about refused connections.
const refusalLogEvery = 10 * time.Second

// DefaultMaxConnections is the default of lsgi serve --max-connections:
// the process's limit on open files (RLIMIT_NOFILE, which the Go runtime
// raises to its hard limit at start) less an eighth of it, at least 64,
// left for everything else that opens files: plugin files, logs,
// databases, outbound requests, the listening socket, the refusals in
// progress. It is never below 16.
func DefaultMaxConnections() int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Cur > 1<<30 {
		return 1 << 20
	}
	n := int(rl.Cur)
	return max(n-max(64, n/8), 16)
}

// LimitListener returns a listener that keeps at most maxConns of the
// connections it accepted open at once (none if maxConns <= 0). Past the
// cap it still accepts each new connection, so that the kernel's queue
// does not fill with clients left waiting, writes refusal to it (nil:
// nothing) and closes it, and warns on logger at most every ten seconds.
// A connection counts until it is closed.
//
// Refused connections are never returned by Accept. Serve HTTP with
// [HTTPRefusal] as the refusal; FastCGI with nil, since a front server
// that finds its connection closed answers 502 itself.
func LimitListener(ln net.Listener, maxConns int, refusal []byte, logger *slog.Logger) net.Listener {
	if maxConns <= 0 {
		return ln
	}
	if logger == nil {
		logger = slog.Default()
	}
	return &limitListener{
		Listener: ln,
		slots:    make(chan struct{}, maxConns),
		refusing: make(chan struct{}, maxRefusing),
		refusal:  refusal,
		log:      logger,
	}
}

type limitListener struct {
	net.Listener
	slots    chan struct{} // one token per open connection
	refusing chan struct{} // one token per refusal in progress
	refusal  []byte
	log      *slog.Logger

	refused   atomic.Int64 // since the last warning
	lastWarn  atomic.Int64 // unix nanoseconds
	warnMutex sync.Mutex
}

// Accept returns the next connection under the cap; connections past it
// are refused here and never returned.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		select {
		case l.slots <- struct{}{}:
			return &limitConn{Conn: c, slots: l.slots}, nil
		default:
			l.refuse(c)
		}
	}
}

// refuse answers a connection past the cap, in the background, or closes
// it at once when too many refusals are already lingering.
func (l *limitListener) refuse(c net.Conn) {
	l.warn()
	select {
	case l.refusing <- struct{}{}:
	default:
		c.Close()
		return
	}
	go func() {
		defer func() { <-l.refusing }()
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(refuseLinger))
		if len(l.refusal) > 0 {
			if _, err := c.Write(l.refusal); err != nil {
				return
			}
		}
		if cw, ok := c.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		}
		// Read what the client sent until it closes, or the linger ends.
		_, _ = io.Copy(io.Discard, io.LimitReader(c, 64<<10))
	}()
}

// warn logs the refusals, at most once every refusalLogEvery.
func (l *limitListener) warn() {
	n := l.refused.Add(1)
	now := time.Now().UnixNano()
	if now-l.lastWarn.Load() < int64(refusalLogEvery) {
		return
	}
	l.warnMutex.Lock()
	defer l.warnMutex.Unlock()
	if now-l.lastWarn.Load() < int64(refusalLogEvery) {
		return
	}
	l.lastWarn.Store(now)
	n = l.refused.Swap(0)
	l.log.Warn("connection limit reached: refusing new connections (raise it with --max-connections)",
		"max_connections", cap(l.slots), "refused", n)
}

// limitConn is a connection under the cap: closing it frees its place.
type limitConn struct {
	net.Conn
	slots chan struct{}
	once  sync.Once
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { <-c.slots })
	return err
}

// CloseWrite shuts down the writing side, as net/http does before it
// closes a connection whose request body it did not read.
func (c *limitConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
