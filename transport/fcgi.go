package transport

// This file is the FastCGI side: a responder behind a front server (nginx
// fastcgi_pass, Apache mod_proxy_fcgi), on net/http/fcgi.

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/fcgi"
	"sync"
	"time"

	"github.com/lsgi/lsgi/environ"
)

// ServeFastCGI serves h over FastCGI on l until l is closed, as
// net/http/fcgi's Serve does with any handler, and with the same argument
// order. Use a [FastCGIServer] to shut down gracefully.
//
// net/http/fcgi rebuilds the request from REQUEST_URI and drops SCRIPT_NAME
// and PATH_INFO, so an LSGI host behind it takes its mount point from its
// Config.Root: with nginx "location /app/ { fastcgi_pass ...; }", set Root
// to "/app". The request's Gateway says the front server's SERVER_NAME and
// SERVER_PORT and the REMOTE_USER, AUTH_TYPE and REMOTE_IDENT it passed.
//
// net/http/fcgi does not recover handler panics: an aborted response (an
// app error after the headers) just ends early, since FastCGI has no way to
// mark it broken, and any other panic is logged to slog.Default() rather
// than taking the process down.
func ServeFastCGI(l net.Listener, h http.Handler) error {
	return fcgi.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serveFastCGI(h, w, r)
	}))
}

// FastCGIServer serves a handler over FastCGI as [ServeFastCGI] does, and
// shuts down gracefully, which net/http/fcgi offers no way to do: it
// stops accepting, lets the requests in flight finish, then closes the
// connections the front server keeps open.
type FastCGIServer struct {
	// Handler serves the requests.
	Handler http.Handler

	mu       sync.Mutex
	ln       net.Listener
	conns    map[*fcgiConn]struct{}
	inFlight int
	idle     chan struct{} // closed when inFlight drops to 0 during a shutdown
	shutdown bool
}

// Serve serves FastCGI on l until l fails or [FastCGIServer.Shutdown] is
// called; it then returns [http.ErrServerClosed], as http.Server does.
func (s *FastCGIServer) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.shutdown {
		s.mu.Unlock()
		return http.ErrServerClosed
	}
	s.ln = l
	s.conns = map[*fcgiConn]struct{}{}
	s.mu.Unlock()
	err := fcgi.Serve(fcgiListener{l, s}, http.HandlerFunc(s.serve))
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutdown {
		return http.ErrServerClosed
	}
	return err
}

// serve counts the request in flight while it runs.
func (s *FastCGIServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.inFlight++
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inFlight--
		if s.inFlight == 0 && s.idle != nil {
			close(s.idle)
			s.idle = nil
		}
		s.mu.Unlock()
	}()
	serveFastCGI(s.Handler, w, r)
}

// Shutdown stops accepting connections, waits until no request is in
// flight or ctx ends, and closes every connection. It returns ctx's error
// when the requests outlived it (their connections are closed under
// them).
func (s *FastCGIServer) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.shutdown = true
	ln := s.ln
	var idle chan struct{}
	if s.inFlight > 0 {
		idle = make(chan struct{})
		s.idle = idle
	}
	s.mu.Unlock()
	closed := make(chan struct{})
	go func() {
		// A listener may wait for its connections to close (a worker's
		// does), which happens below: do not wait for it first.
		if ln != nil {
			ln.Close()
		}
		close(closed)
	}()
	var err error
	if idle != nil {
		select {
		case <-idle:
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	if err == nil {
		s.settle(ctx)
	}
	s.mu.Lock()
	for c := range s.conns {
		c.Conn.Close()
	}
	s.mu.Unlock()
	select {
	case <-closed:
	case <-ctx.Done():
		err = ctx.Err()
	}
	return err
}

// settleTime is how long Shutdown lets connections close on their own once
// no request is in flight: net/http/fcgi writes a request's END_REQUEST
// record, and closes a connection the front server did not ask to keep,
// just after the handler returns.
const settleTime = 250 * time.Millisecond

// settle waits until every connection has closed, settleTime has passed,
// or ctx ends.
func (s *FastCGIServer) settle(ctx context.Context) {
	deadline := time.Now().Add(settleTime)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		s.mu.Lock()
		open := len(s.conns)
		s.mu.Unlock()
		if open == 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// fcgiListener follows the connections a FastCGIServer accepted.
type fcgiListener struct {
	net.Listener
	s *FastCGIServer
}

func (l fcgiListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	fc := &fcgiConn{Conn: c, s: l.s}
	l.s.mu.Lock()
	if l.s.shutdown {
		l.s.mu.Unlock()
		c.Close()
		return nil, net.ErrClosed
	}
	l.s.conns[fc] = struct{}{}
	l.s.mu.Unlock()
	return fc, nil
}

// fcgiConn is a connection of a FastCGIServer.
type fcgiConn struct {
	net.Conn
	s    *FastCGIServer
	once sync.Once
}

func (c *fcgiConn) Close() error {
	c.once.Do(func() {
		c.s.mu.Lock()
		delete(c.s.conns, c)
		c.s.mu.Unlock()
	})
	return c.Conn.Close()
}

func serveFastCGI(h http.Handler, w http.ResponseWriter, r *http.Request) {
	env := fcgi.ProcessEnv(r)
	if r.RequestURI == "" {
		// net/http/fcgi parses REQUEST_URI into r.URL but keeps no raw copy.
		r.RequestURI = r.URL.RequestURI()
	}
	if r.ContentLength > 0 {
		// Only a positive length: net/http/fcgi reads an absent and an
		// empty body both as 0.
		restoreContentLength(r)
	}
	gw := &environ.Gateway{
		ServerName: env["SERVER_NAME"],
		ServerPort: env["SERVER_PORT"],
		Vars:       passedVars(func(name string) string { return env[name] }),
	}
	var panicked *PanicError
	if err := Catch(h, w, environ.WithGateway(r, gw)); errors.As(err, &panicked) {
		slog.Default().Error("panic while serving", "path", r.URL.Path, "panic", panicked.Value, "stack", string(panicked.Stack))
	}
}
