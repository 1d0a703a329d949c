package main

// This file picks the HTTP/1.1 engine of lsgi serve (--engine).

import (
	"context"
	"log/slog"
	"net"
	"time"

	"github.com/lsgi/lsgi/host"
	"github.com/lsgi/lsgi/transport"
	"github.com/lsgi/lsgi/transport/fast"
)

// The values of --engine: fast is package transport/fast, std is net/http
// through transport.NewHTTPServer.
const (
	engineFast = "fast"
	engineStd  = "std"
)

// The engines' names in the log and on the admin status page.
const (
	engineNameFast = "fast"
	engineNameStd  = "net/http"
)

// defaultEngine serves unless --engine says otherwise: the fast engine
// passes the whole end-to-end suite as net/http does and takes about half
// the CPU per request (docs/PERFORMANCE.md).
const defaultEngine = engineFast

// httpServer is what serveHTTP needs of an engine: *http.Server and
// *fast.Server alike.
type httpServer interface {
	Shutdown(ctx context.Context) error
	Close() error
	RegisterOnShutdown(f func())
}

// httpEngine returns the server of the engine f.engine names for h, with
// the same timeouts either way, the function that serves ln with it, and
// the URL scheme.
func (f *serveFlags) httpEngine(ln net.Listener, h *host.Handler, cert *transport.Certificate, logger *slog.Logger) (httpServer, func() error, string) {
	if f.engine() == engineNameFast {
		srv := &fast.Server{
			Handler:           h,
			Logger:            logger,
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       75 * time.Second,
			RequestTimeout:    f.timeout,
			MaxHeaderBytes:    64 << 10,
		}
		if w := f.workers.worker; w != nil {
			srv.BeforeRequest = w.Request
		}
		return srv, func() error { return srv.Serve(ln) }, "http"
	}
	srv := transport.NewHTTPServer(ln.Addr().String(), f.workers.count(h), logger)
	if cert != nil {
		srv.TLSConfig = cert.TLSConfig()
		// The framing check needs the plaintext, which net/http reads
		// inside its TLS connection: transport.NewHTTPServer closes every
		// chunked HTTP/1 request's connection instead.
		return srv, func() error { return srv.ServeTLS(ln, "", "") }, "https"
	}
	return srv, func() error { return srv.Serve(transport.HTTPListener(ln)) }, "http"
}
