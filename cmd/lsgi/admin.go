package main

// This file is lsgi serve --admin-bind: a listener apart from the apps'
// for health and readiness probes, the status page and Prometheus's
// /metrics, up while the apps load.

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"net"
	"net/http"

	"github.com/lsgi/lsgi/host"
	"github.com/lsgi/lsgi/host/metrics"
	"github.com/lsgi/lsgi/transport"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// adminServer serves host.Handler.AdminHandler, with /metrics, on
// --admin-bind. A nil *adminServer (no --admin-bind) does nothing.
type adminServer struct {
	ln     net.Listener
	srv    *http.Server
	served chan error
	logger *slog.Logger
	worker bool // a worker's, on its socket for the supervisor's listener
}

// listenAdmin opens the admin listener, so that a busy port fails before
// any app loads; "" means no admin listener.
func listenAdmin(bind string, logger *slog.Logger) (*adminServer, error) {
	if bind == "" {
		return nil, nil
	}
	ln, err := listen(bind)
	if err != nil {
		return nil, err
	}
	return &adminServer{ln: ln, logger: logger, served: make(chan error, 1)}, nil
}

// start serves h's admin endpoints and metrics. It runs as the handler's
// Config.BeforeLoad, so that /readyz says 503 while the apps load.
func (a *adminServer) start(h *host.Handler, engine string) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		metrics.NewCollector(h),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	promLog := slog.NewLogLogger(a.logger.Handler(), slog.LevelWarn)
	handler := h.AdminHandler(host.AdminOptions{
		Engine:  engine,
		Metrics: promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: promLog}),
	})
	a.serve(handler)
	if a.worker {
		a.logger.Debug("admin socket for the supervisor", "socket", a.ln.Addr().String())
		return
	}
	a.logger.Info("Admin listening at: http://"+a.ln.Addr().String(), "endpoints", "/ /healthz /readyz /metrics")
}

// serve serves handler on the admin listener.
func (a *adminServer) serve(handler http.Handler) {
	a.srv = transport.NewHTTPServer(a.ln.Addr().String(), handler, a.logger)
	go func() { a.served <- a.srv.Serve(a.ln) }()
}

// shutdown stops the admin server within ctx, after the apps' server: the
// probes keep answering (/readyz with 503) while requests drain.
func (a *adminServer) shutdown(ctx context.Context) {
	if a == nil {
		return
	}
	if a.srv == nil {
		a.ln.Close()
		return
	}
	if err := a.srv.Shutdown(ctx); err != nil {
		_ = a.srv.Close()
	}
	if err := <-a.served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		a.logger.Warn("admin server", "err", err)
	}
}

// opsFlags are the flags of lsgi serve for operations: the admin listener
// and TLS.
type opsFlags struct {
	adminBind         string
	certFile, keyFile string
}

func addOpsFlags(fs *flag.FlagSet) *opsFlags {
	o := &opsFlags{}
	fs.StringVar(&o.adminBind, "admin-bind", "", "`address` of the admin listener: /healthz, /readyz, /metrics (Prometheus) and the status page at /; off by default; keep it private")
	fs.StringVar(&o.certFile, "certfile", "", "TLS certificate `file` (PEM, the chain with the server's first): serve HTTPS and HTTP/2; reread on SIGHUP")
	fs.StringVar(&o.keyFile, "keyfile", "", "TLS private key `file` (PEM) of --certfile")
	return o
}

// check refuses the combinations that cannot work.
func (o *opsFlags) check(f *serveFlags) error {
	switch {
	case (o.certFile == "") != (o.keyFile == ""):
		return errors.New("-certfile and -keyfile go together")
	case o.certFile != "" && f.fastCGI:
		return errors.New("-certfile: FastCGI has no TLS; the front server terminates it")
	}
	return nil
}

// certificate loads the TLS certificate, nil without --certfile.
func (o *opsFlags) certificate() (*transport.Certificate, error) {
	if o.certFile == "" {
		return nil, nil
	}
	return transport.LoadCertificate(o.certFile, o.keyFile)
}
