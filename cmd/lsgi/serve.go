package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/lsgi/lsgi/host"
	"github.com/lsgi/lsgi/luabridge"
)

// shutdownGrace is the default of --graceful-timeout: how long in-flight
// requests may take to finish after SIGINT or SIGTERM.
const shutdownGrace = 10 * time.Second

func serve(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("lsgi serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bind := fs.String("bind", "127.0.0.1:8000", "`address` to listen on: host:port (port 0 picks a free one), or unix:PATH")
	fastCGI := fs.Bool("fastcgi", false, "speak FastCGI instead of HTTP, for nginx fastcgi_pass or Apache mod_proxy_fcgi")
	root := fs.String("root", "", "URL `prefix` the server is mounted under; SCRIPT_NAME starts with it (for FastCGI behind location /app/, say /app)")
	forwarded := fs.String("forwarded-allow-ips", "127.0.0.1,::1", "comma-separated `peers` (addresses or CIDR) whose X-Forwarded-For/-Proto/-Host are trusted; * for any")
	timeout := fs.Duration("timeout", 30*time.Second, "per-request deadline; an app past it is interrupted (504)")
	queueTimeout := fs.Duration("queue-timeout", 5*time.Second, "how long a request waits for a free Lua state before 503")
	states := fs.Int("states", 0, "Lua states per app, hence concurrent requests per app (default 2 x CPUs, at least 4)")
	maxBody := fs.Int64("max-body", 32<<20, "largest request body in bytes (-1: no limit)")
	trust := fs.Bool("trust", false, "open the whole Lua standard library (io, os, debug) to apps")
	reload := fs.Bool("reload", true, "reload a plugin as soon as its files change (turn off in production with --reload=false)")
	poll := fs.Duration("poll", 0, "poll for changes at this interval instead of using file system events (NFS, some container mounts)")
	dev := fs.Bool("dev", false, "development mode: wrap every app in lsgi.validator, and show loopback clients error pages with source and tracebacks")
	accessLog := fs.String("access-log", "-", "access log `file`: - for stderr, off for none")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	stateMax := fs.Int("state-max-requests", 0, "replace a Lua state after it has served this many requests, so that what an app leaks stays bounded (0: never)")
	stateJitter := fs.Int("state-max-requests-jitter", 0, "add a random 0 to N requests to each state's --state-max-requests")
	var limits luabridge.Limits
	fs.Var(&limits, "limit", "set a limit, as `NAME=VALUE` (repeatable): string-bytes, data-nodes, data-depth, pattern-steps, source-bytes, nesting, expression-depth (docs/SECURITY.md)")
	serviceFlags := addServiceFlags(fs)
	sqlf := addSQLFlags(fs)
	wk := addWorkerFlags(fs)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: lsgi serve [flags] [DIR]\n\nServe the Lua apps in DIR (default ./plugins) over HTTP.\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 1 {
		fs.Usage()
		return 2
	}
	dir := "plugins"
	if fs.NArg() == 1 {
		dir = fs.Arg(0)
	}

	// Each request allocates a few kilobytes over a small live heap, so the
	// default GOGC=100 collects very often; 400 costs little memory (a few
	// times that small heap) and about a tenth of a hello-world's CPU
	// (docs/PERFORMANCE.md). GOGC in the environment still wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "lsgi: -log-level: %v\n", err)
		return 2
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	logger, code, done := wk.start(args, *bind, *fastCGI, level, logger, stderr)
	if done {
		return code
	}
	services, err := serviceFlags.build(logger)
	if err == nil {
		if err = sqlf.fill(services, logger); err != nil {
			services.Close()
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "lsgi: %v\n", err)
		return 2
	}
	defer services.Close()

	cfg := host.Config{
		Dir:          dir,
		States:       *states,
		Timeout:      *timeout,
		QueueTimeout: *queueTimeout,
		MaxBodyBytes: *maxBody,
		Trust:        *trust,
		Watch:        *reload,
		PollInterval: *poll,
		Dev:          *dev,
		Root:         *root,
		Logger:       logger,
		Limits:       limits,

		StateMaxRequests:       *stateMax,
		StateMaxRequestsJitter: *stateJitter,
		Services:               services,

		ForwardedAllowIPs: strings.Split(*forwarded, ","),
	}
	switch *accessLog {
	case "off", "":
	case "-":
		cfg.AccessLog = stderr
	default:
		f, err := os.OpenFile(*accessLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			logger.Error("cannot open the access log", "err", err)
			return 1
		}
		defer f.Close()
		cfg.AccessLog = f
	}

	h, err := host.New(cfg)
	if err != nil {
		logger.Error("cannot start", "err", err)
		return 1
	}
	defer h.Close()

	ln, err := wk.listen(*bind)
	if err != nil {
		logger.Error("cannot listen", "err", err)
		return 1
	}
	if *fastCGI {
		return serveFastCGI(ln, h, logger)
	}
	srv := host.NewHTTPServer(ln.Addr().String(), wk.count(h), logger)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	logger.Info("Listening at: http://"+ln.Addr().String(), "plugins", dir, "version", host.Version)

	for running := true; running; {
		select {
		case err := <-served:
			logger.Error("server stopped", "err", err)
			return 1
		case <-hup:
			logger.Info("SIGHUP: reloading every app")
			if err := h.Reload(ctx); err != nil {
				logger.Error("reload", "err", err)
			}
		case <-ctx.Done():
			running = false
		}
	}
	stop()
	logger.Info("shutting down: finishing in-flight requests", "grace", wk.graceful)
	sctx, cancel := context.WithTimeout(context.Background(), wk.graceful)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		logger.Warn("requests still running at the end of the grace period", "err", err)
		_ = srv.Close()
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Error("server", "err", err)
		return 1
	}
	logger.Info("stopped")
	return 0
}

// listen opens a TCP listener, or a Unix socket for "unix:PATH".
func listen(addr string) (net.Listener, error) {
	if path, ok := strings.CutPrefix(addr, "unix:"); ok {
		_ = os.Remove(path) // a socket left by a previous run
		return net.Listen("unix", path)
	}
	return net.Listen("tcp", addr)
}

// serveFastCGI serves FastCGI on ln until SIGINT or SIGTERM. net/http/fcgi
// has no graceful shutdown: closing the listener stops new connections, and
// requests in flight get the grace period to finish.
func serveFastCGI(ln net.Listener, h *host.Handler, logger *slog.Logger) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- host.ServeFastCGI(ln, h) }()
	logger.Info("Listening at: fastcgi://"+ln.Addr().String(), "version", host.Version)
	select {
	case err := <-served:
		logger.Error("FastCGI server stopped", "err", err)
		return 1
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	ln.Close()
	<-served
	logger.Info("stopped")
	return 0
}
