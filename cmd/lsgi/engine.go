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

// The engines: fast is package transport/fast, std is net/http through
// transport.NewHTTPServer.
const (
	engineFast = "fast"
	engineStd  = "std"
)

// defaultEngine serves unless --engine says otherwise: the fast engine
// passes the whole end-to-end suite as net/http does and takes about half
// the CPU per request (docs/PERFORMANCE.md).
const defaultEngine = engineFast

// httpServer is what serveHTTP needs of an engine: *http.Server and
// *fast.Server alike.
type httpServer interface {
	Serve(ln net.Listener) error
	Shutdown(ctx context.Context) error
	Close() error
}

// httpEngine returns the server of the chosen engine for h, with the same
// timeouts either way.
func (f *serveFlags) httpEngine(ln net.Listener, h *host.Handler, logger *slog.Logger) httpServer {
	if f.engine != engineFast {
		return transport.NewHTTPServer(ln.Addr().String(), f.workers.count(h), logger)
	}
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
	return srv
}
