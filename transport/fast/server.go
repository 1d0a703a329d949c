package fast

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lsgi/lsgi/host"
)

// Handler is what a [Server] serves: the lower seam of package host, which
// *host.Handler implements.
type Handler interface {
	ServeRequest(ctx context.Context, w host.ResponseWriter, r *host.Request) error
}

// Server serves HTTP/1.1 on listeners with a [Handler]. Set its fields
// before Serve; the zero values of the timeouts and sizes are those of
// transport.NewHTTPServer.
//
// # Lifecycle
//
//  1. [Server.Serve] accepts connections on a listener until the listener
//     fails or the server shuts down; each connection is served by its
//     own goroutine.
//  2. [Server.Shutdown] stops accepting, closes idle connections, lets the
//     requests in flight finish (each connection closes after its
//     response) and returns when all are done or its context ends.
//  3. [Server.Close] closes every listener and connection at once.
//
// A Server is safe for concurrent use once serving.
type Server struct {
	Handler Handler

	// Logger receives the server's own errors (a failed accept); nil
	// means slog.Default.
	Logger *slog.Logger

	// ReadHeaderTimeout bounds reading a request's headers, from their
	// first byte (default 10 s).
	ReadHeaderTimeout time.Duration

	// IdleTimeout bounds the wait for the next request on a kept-alive
	// connection (default 75 s).
	IdleTimeout time.Duration

	// RequestTimeout bounds reading a request's body from the request's
	// arrival, and each write of a response to a client that does not read
	// (default 30 s, lsgi serve's --timeout).
	RequestTimeout time.Duration

	// MaxHeaderBytes bounds a request's line and header fields; past it
	// the client gets 431 (default 64 KiB).
	MaxHeaderBytes int

	// BeforeRequest, if set, runs as each request arrives, before the
	// handler; it returns true to close the connection after the
	// response (a worker that is being replaced).
	BeforeRequest func() (closeAfter bool)

	mu         sync.Mutex
	onShutdown []func()
	listeners  map[net.Listener]struct{}
	conns      map[*conn]struct{}
	inShutdown atomic.Bool
	done       chan struct{} // closed by Shutdown and Close
	wg         sync.WaitGroup
}

// ErrServerClosed is returned by [Server.Serve] after Shutdown or Close.
var ErrServerClosed = errors.New("fast: server closed")

func (s *Server) init() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done == nil {
		s.done = make(chan struct{})
		s.listeners = make(map[net.Listener]struct{})
		s.conns = make(map[*conn]struct{})
	}
}

func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

func (s *Server) readHeaderTimeout() time.Duration {
	return cmpOr(s.ReadHeaderTimeout, 10*time.Second)
}

func (s *Server) idleTimeout() time.Duration { return cmpOr(s.IdleTimeout, 75*time.Second) }

func (s *Server) requestTimeout() time.Duration { return cmpOr(s.RequestTimeout, 30*time.Second) }

func (s *Server) maxHeaderBytes() int {
	if s.MaxHeaderBytes > 0 {
		return s.MaxHeaderBytes
	}
	return 64 << 10
}

func cmpOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// Serve accepts connections on ln and serves each in its own goroutine. It
// returns [ErrServerClosed] after Shutdown or Close, and the accept error
// otherwise. Temporary accept errors (too many open files) are logged and
// retried after a pause, as net/http does.
func (s *Server) Serve(ln net.Listener) error {
	s.init()
	s.mu.Lock()
	if s.inShutdown.Load() {
		s.mu.Unlock()
		return ErrServerClosed
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
		ln.Close()
	}()
	var pause time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.inShutdown.Load() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || isTemporary(err) {
				pause = min(max(2*pause, 5*time.Millisecond), time.Second)
				s.logger().Warn("fast: accept failed; retrying", "err", err, "in", pause)
				select {
				case <-time.After(pause):
				case <-s.done:
				}
				continue
			}
			return err
		}
		pause = 0
		c := newConn(s, nc)
		if !s.track(c) {
			nc.Close()
			return ErrServerClosed
		}
		go c.serve()
	}
}

// isTemporary reports accept errors worth retrying: out of file
// descriptors, a connection reset before it was accepted.
func isTemporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

func (s *Server) track(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inShutdown.Load() {
		return false
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	return true
}

func (s *Server) untrack(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.wg.Done()
}

// RegisterOnShutdown registers f to run, in a goroutine of its own, when
// Shutdown begins, as [http.Server.RegisterOnShutdown] does: for responses
// that never end by themselves (a stream of events) to be ended.
func (s *Server) RegisterOnShutdown(f func()) {
	s.mu.Lock()
	s.onShutdown = append(s.onShutdown, f)
	s.mu.Unlock()
}

// Shutdown stops the server gracefully: it closes the listeners and the
// idle connections, and waits for the connections in flight to finish
// their request (each then closes) or for ctx to end, whichever comes
// first; it returns ctx's error in the second case. Connections still
// open then are left to [Server.Close].
func (s *Server) Shutdown(ctx context.Context) error {
	s.init()
	s.mu.Lock()
	if !s.inShutdown.Swap(true) {
		close(s.done)
		for _, f := range s.onShutdown {
			go f()
		}
	}
	for ln := range s.listeners {
		ln.Close()
	}
	s.mu.Unlock()
	finished := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(finished)
	}()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		s.closeIdle()
		select {
		case <-finished:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// closeIdle closes the connections waiting for a request.
func (s *Server) closeIdle() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		if c.state.CompareAndSwap(stateIdle, stateClosing) {
			c.nc.Close()
		}
	}
}

// Close closes every listener and connection now.
func (s *Server) Close() error {
	s.init()
	s.mu.Lock()
	if !s.inShutdown.Swap(true) {
		close(s.done)
	}
	for ln := range s.listeners {
		ln.Close()
	}
	for c := range s.conns {
		c.nc.Close()
	}
	s.mu.Unlock()
	return nil
}
