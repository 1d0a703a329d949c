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
	"strings"
	"syscall"
	"time"

	"github.com/lsgi/lsgi/host"
	"github.com/lsgi/lsgi/luabridge/lualib"
	"github.com/lsgi/lsgi/transport"
	"github.com/lsgi/lsgi/transport/fast"
)

// shutdownGrace is the default of --graceful-timeout: how long in-flight
// requests and app loads may take to finish after SIGINT or SIGTERM.
const shutdownGrace = 10 * time.Second

// serveFlags are the flags of lsgi serve.
type serveFlags struct {
	dir, bind, root, forwarded, accessLog                 string
	engineFlag                                            string // --engine
	fastCGI, trust, reload, dev                           bool
	timeout, queueTimeout, poll, maxStreamTime, stateIdle time.Duration
	states, stateMax, stateJitter, lazyAbove              int
	limits                                                host.Limits
	maxBody                                               int64
	log                                                   *logFlags
	ops                                                   *opsFlags
	services                                              *serviceFlags
	sql                                                   *sqlFlags
	workers                                               *workerOptions // and --graceful-timeout
	guards                                                *guardFlags
	set                                                   map[string]bool // the flags given, by name
}

// commandUsage introduces the flags of the commands that take serve's.
var commandUsage = map[string]string{
	"serve": "usage: lsgi serve [flags] [DIR]\n\nServe the Lua apps in DIR (default ./plugins) over HTTP.\n\nflags:\n",
	"check": "usage: lsgi check [flags] [DIR]\n\nLoad every app in DIR (default ./plugins) as lsgi serve would, run each once on\nGET / through lsgi.validator, print a line per app, and exit 1 if any failed.\nIt takes serve's flags; those about listening are ignored. Without --data, the\napps' databases and the secret are made in a temporary folder.\n\nflags:\n",
}

// parseServe reads the flags of lsgi serve; it returns the exit code when
// there is nothing to serve (help, or a usage error).
func parseServe(args []string, stderr io.Writer) (*serveFlags, int, bool) {
	return parseServeFor("serve", args, stderr)
}

// parseServeFor reads the flags of lsgi serve for the command cmd: lsgi
// check takes them too, so that it loads apps exactly as serve does.
func parseServeFor(cmd string, args []string, stderr io.Writer) (*serveFlags, int, bool) {
	f := &serveFlags{dir: "plugins", set: map[string]bool{}}
	fs := flag.NewFlagSet("lsgi "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.bind, "bind", "127.0.0.1:8000", "`address` to listen on: host:port (port 0 picks a free one), or unix:PATH")
	fs.BoolVar(&f.fastCGI, "fastcgi", false, "speak FastCGI instead of HTTP, for nginx fastcgi_pass or Apache mod_proxy_fcgi")
	fs.StringVar(&f.engineFlag, "engine", defaultEngine, "HTTP/1.1 `engine`: fast (the project's own, on fasthttp's request parser) or std (Go's net/http; always for TLS)")
	fs.StringVar(&f.root, "root", "", "URL `prefix` the server is mounted under; SCRIPT_NAME starts with it (for FastCGI behind location /app/, say /app)")
	fs.StringVar(&f.forwarded, "forwarded-allow-ips", "127.0.0.1,::1", "comma-separated `peers` (addresses or CIDR) whose X-Forwarded-For/-Proto/-Host are trusted; * for any")
	fs.DurationVar(&f.timeout, "timeout", 30*time.Second, "per-request deadline; an app past it is interrupted (504)")
	fs.DurationVar(&f.maxStreamTime, "max-stream-time", 5*time.Minute, "how long a response may last when its app moves its deadline with lsgi.extend_deadline (server-sent events)")
	fs.DurationVar(&f.queueTimeout, "queue-timeout", 5*time.Second, "how long a request waits for a free Lua state before 503")
	fs.IntVar(&f.states, "states", 0, "Lua states per app, hence concurrent requests per app (default 2 x CPUs, at least 4)")
	fs.Int64Var(&f.maxBody, "max-body", 32<<20, "largest request body in bytes (-1: no limit)")
	fs.BoolVar(&f.trust, "trust", false, "open the whole Lua standard library (io, os, debug) to apps")
	fs.BoolVar(&f.reload, "reload", true, "reload a plugin as soon as its files change (turn off in production with --reload=false)")
	fs.DurationVar(&f.poll, "poll", 0, "poll for changes at this interval instead of using file system events (NFS, some container mounts)")
	fs.BoolVar(&f.dev, "dev", false, "development mode: wrap every app in lsgi.validator, and show loopback clients error pages with source and tracebacks")
	fs.StringVar(&f.accessLog, "access-log", "-", "access log `file`: - for stderr, off for none")
	f.log = addLogFlags(fs)
	f.ops = addOpsFlags(fs)
	f.services = addServiceFlags(fs)
	f.sql = addSQLFlags(fs)
	f.workers = addWorkerFlags(fs)
	f.guards = addGuardFlags(fs)
	fs.DurationVar(&f.stateIdle, "state-idle-timeout", 30*time.Second, "close an app's Lua states that no request needed for this long, keeping one (none with more plugins than --lazy-above); 0: never")
	fs.IntVar(&f.lazyAbove, "lazy-above", 100, "with more plugins than this, open each app's Lua states only when requests need them; a start then reports syntax errors, and errors of a main chunk at the app's first request (0: always)")
	fs.IntVar(&f.stateMax, "state-max-requests", 0, "replace a Lua state after it has served this many requests, so that what an app leaks stays bounded (0: never)")
	fs.IntVar(&f.stateJitter, "state-max-requests-jitter", 0, "add a random 0 to N requests to each state's --state-max-requests")
	fs.Var(&f.limits, "limit", "set a limit, as `NAME=VALUE` (repeatable): string-bytes, data-nodes, data-depth, pattern-steps, source-bytes, nesting, expression-depth (docs/SECURITY.md)")
	fs.Usage = func() {
		fmt.Fprint(stderr, commandUsage[cmd])
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, 0, false
		}
		return nil, 2, false
	}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
	if f.engineFlag != engineFast && f.engineFlag != engineStd {
		fmt.Fprintf(stderr, "lsgi: -engine %q: want %s or %s\n", f.engineFlag, engineFast, engineStd)
		return nil, 2, false
	}
	if fs.NArg() > 1 {
		fs.Usage()
		return nil, 2, false
	}
	if fs.NArg() == 1 {
		f.dir = fs.Arg(0)
	}
	return f, 0, true
}

// config is the host's configuration for the flags, services is what the
// service flags opened; closeFn releases what config opened (the access log
// file).
func (f *serveFlags) config(stderr io.Writer, logger *slog.Logger, services *lualib.Services) (cfg host.Config, closeFn func(), err error) {
	cfg = host.Config{
		Plugins:           []host.PluginSource{host.Folder{Path: f.dir, Watch: f.reload, PollInterval: f.poll, Isolate: f.guards.isolate, Watchers: f.workers.watchers()}},
		MaxMemory:         f.guards.memory(logger),
		States:            f.states,
		Timeout:           f.timeout,
		MaxStreamTime:     f.maxStreamTime,
		QueueTimeout:      f.queueTimeout,
		MaxBodyBytes:      f.maxBody,
		Trust:             f.trust,
		Dev:               f.dev,
		Validate:          f.dev,
		Root:              f.root,
		Logger:            logger,
		Services:          services,
		Limits:            f.limits,
		ForwardedAllowIPs: strings.Split(f.forwarded, ","),
		AccessLogFormat:   f.log.accessFormat,
		SendRequestID:     true,
		Metrics:           f.ops.adminBind != "",

		StateIdleTimeout:       orNegative(f.stateIdle),
		LazyAbove:              orNegative(f.lazyAbove),
		StateMaxRequests:       f.stateMax,
		StateMaxRequestsJitter: f.stateJitter,
	}
	switch f.accessLog {
	case "off", "":
	case "-":
		cfg.AccessLog = stderr
	default:
		file, err := os.OpenFile(f.accessLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return cfg, nil, fmt.Errorf("open the access log: %w", err)
		}
		cfg.AccessLog = file
		return cfg, func() { file.Close() }, nil
	}
	return cfg, func() {}, nil
}

func serve(args []string, stderr io.Writer) int {
	f, code, ok := parseServe(args, stderr)
	if !ok {
		return code
	}
	logs, err := f.log.setup()
	if err != nil {
		fmt.Fprintf(stderr, "lsgi: %v\n", err)
		return 2
	}
	if err := f.ops.check(f); err != nil {
		fmt.Fprintf(stderr, "lsgi: %v\n", err)
		return 2
	}
	logs.dev = f.dev
	logger := logs.newLogger(stderr)
	f.workers.tls = f.ops.certFile != ""
	logger, code, done := f.workers.start(args, f.bind, f.fastCGI, logs, logger, stderr)
	if done {
		return code
	}
	slog.SetDefault(logger) // the transports log what they catch there
	services, err := f.buildServices(logger)
	if err != nil {
		fmt.Fprintf(stderr, "lsgi: %v\n", err)
		return 2
	}
	defer services.Close()
	return serveOn(f, logger, services, stderr)
}

// serveOn listens, loads the apps and serves them. It listens first, so
// that a busy port fails at once rather than after every app has loaded.
func serveOn(f *serveFlags, logger *slog.Logger, services *lualib.Services, stderr io.Writer) int {
	cert, err := f.ops.certificate()
	if err != nil {
		logger.Error("cannot start", "err", err)
		return 1
	}
	ln, err := f.workers.listen(f.bind)
	if err != nil {
		logger.Error("cannot listen", "err", err)
		return 1
	}
	ln = f.guards.limit(ln, f.fastCGI, logger)
	adminBind := f.ops.adminBind
	if f.workers.worker != nil {
		adminBind = workerAdminBind() // the supervisor serves --admin-bind
	}
	admin, err := listenAdmin(adminBind, logger)
	if admin != nil {
		admin.worker = f.workers.worker != nil
	}
	if err != nil {
		ln.Close()
		logger.Error("cannot listen on the admin address", "err", err)
		return 1
	}
	cfg, closeLog, err := f.config(stderr, logger, services)
	if err != nil {
		ln.Close()
		admin.shutdown(context.Background())
		logger.Error("cannot start", "err", err)
		return 1
	}
	defer closeLog()
	if admin != nil {
		cfg.BeforeLoad = func(h *host.Handler) { admin.start(h, f.engine()) }
	}
	h, err := host.New(cfg)
	if err == nil {
		err = f.workers.ready()
	}
	if err != nil {
		ln.Close()
		admin.shutdown(context.Background())
		if h != nil {
			h.Close()
		}
		logger.Error("cannot start", "err", err)
		return 1
	}
	// GOGC follows the live heap (gc.go) once the apps have loaded: their
	// loading leaves much garbage, which GOGC 400 would let pile up.
	gcCtx, stopGC := context.WithCancel(context.Background())
	defer stopGC()
	tuneGC(gcCtx, os.Getenv)
	if f.fastCGI {
		return serveFastCGI(ln, h, admin, f.workers.graceful, logger)
	}
	return serveHTTP(ln, h, f, cert, admin, logger)
}

// engine names the HTTP engine that serves the apps: "fast" (package
// transport/fast) unless --engine std or TLS, which only net/http serves
// (with HTTP/2), asks for "net/http".
func (f *serveFlags) engine() string {
	if f.engineFlag == engineFast && f.ops.certFile == "" {
		return engineNameFast
	}
	return engineNameStd
}

// buildServices opens the resources the service and SQL flags describe.
func (f *serveFlags) buildServices(logger *slog.Logger) (*lualib.Services, error) {
	services, err := f.services.build(logger)
	if err != nil {
		return nil, err
	}
	if err := f.sql.fill(services, logger); err != nil {
		services.Close()
		return nil, err
	}
	return services, nil
}

// serveHTTP serves HTTP (HTTPS with cert) on ln until SIGINT or SIGTERM,
// reloading every app and the certificate on SIGHUP, then shuts down
// within the graceful timeout.
func serveHTTP(ln net.Listener, h *host.Handler, f *serveFlags, cert *transport.Certificate, admin *adminServer, logger *slog.Logger) int {
	srv, serveOn, scheme := f.httpEngine(ln, h, cert, logger)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	srv.RegisterOnShutdown(h.CloseStreams) // the browser refresh's streams never end by themselves
	served := make(chan error, 1)
	go func() { served <- serveOn() }()
	logger.Info("Listening at: "+scheme+"://"+ln.Addr().String(), "plugins", f.dir, "version", host.Version, "engine", f.engine())
	logURLs(logger, ln.Addr(), f.root, f.dev, h)
	for running := true; running; {
		select {
		case err := <-served:
			logger.Error("server stopped", "err", err)
			admin.shutdown(context.Background())
			h.Close()
			return 1
		case <-hup:
			logger.Info("SIGHUP: reloading every app")
			reloadCertificate(cert, logger)
			if err := h.Reload(ctx); err != nil {
				logger.Error("reload", "err", err)
			}
		case <-ctx.Done():
			running = false
		}
	}
	stop()
	logger.Info("shutting down: finishing in-flight requests", "grace", f.workers.graceful)
	sctx, cancel := context.WithTimeout(context.Background(), f.workers.graceful)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		logger.Warn("requests still running at the end of the grace period", "err", err)
		_ = srv.Close()
	}
	if err := h.Shutdown(sctx); err != nil {
		logger.Warn("plugin loads still running at the end of the grace period", "err", err)
	}
	admin.shutdown(sctx)
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, fast.ErrServerClosed) {
		logger.Error("server", "err", err)
		return 1
	}
	logger.Info("stopped")
	return 0
}

// reloadCertificate reads the TLS certificate files again; a failure keeps
// the certificate in use.
func reloadCertificate(cert *transport.Certificate, logger *slog.Logger) {
	if cert == nil {
		return
	}
	if err := cert.Reload(); err != nil {
		logger.Error("TLS certificate not reloaded; the previous one stays in use", "err", err)
		return
	}
	logger.Info("TLS certificate reloaded", "not_after", cert.NotAfter().Format(time.RFC3339))
}

// listen opens a TCP listener, or a Unix socket for "unix:PATH".
func listen(addr string) (net.Listener, error) {
	if path, ok := strings.CutPrefix(addr, "unix:"); ok {
		_ = os.Remove(path) // a socket left by a previous run
		return net.Listen("unix", path)
	}
	return net.Listen("tcp", addr)
}

// serveFastCGI serves FastCGI on ln until SIGINT or SIGTERM, then stops
// accepting and lets the requests in flight finish within the graceful
// timeout, as serveHTTP does.
func serveFastCGI(ln net.Listener, h *host.Handler, admin *adminServer, grace time.Duration, logger *slog.Logger) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv := &transport.FastCGIServer{Handler: h}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	logger.Info("Listening at: fastcgi://"+ln.Addr().String(), "version", host.Version)
	select {
	case err := <-served:
		logger.Error("FastCGI server stopped", "err", err)
		admin.shutdown(context.Background())
		h.Close()
		return 1
	case <-ctx.Done():
	}
	stop()
	logger.Info("shutting down: finishing in-flight requests", "grace", grace)
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		logger.Warn("requests still running at the end of the grace period", "err", err)
	}
	<-served
	if err := h.Shutdown(sctx); err != nil {
		logger.Warn("plugin loads still running at the end of the grace period", "err", err)
	}
	admin.shutdown(sctx)
	logger.Info("stopped")
	return 0
}

// orNegative maps a flag's 0, which means "never" or "always" on the
// command line, to the negative value that means it in host.Config, where
// 0 takes the default.
func orNegative[T int | time.Duration](v T) T {
	if v == 0 {
		return -1
	}
	return v
}
