// Command lsgi serves Lua web apps written to LSGI, the Lua counterpart of
// Python's WSGI.
//
//	lsgi serve [flags] [DIR]   serve the apps in DIR (default ./plugins) over HTTP
//	lsgi version               print the version
//
// Run "lsgi serve -h" for the flags.
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
	"syscall"
	"time"

	"github.com/lsgi/lsgi/host"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

const usage = `usage: lsgi <command> [arguments]

commands:
  serve [flags] [DIR]   serve the Lua apps in DIR (default ./plugins) over HTTP
  version               print the version

Run "lsgi serve -h" for the flags of serve.
`

// run is the whole program, minus os.Exit, so that tests can call it.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stderr)
	case "version", "-version", "--version":
		fmt.Fprintf(stdout, "lsgi %s\n", host.Version)
		return 0
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "lsgi: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}

// shutdownGrace bounds how long in-flight requests may take to finish after
// SIGINT or SIGTERM.
const shutdownGrace = 10 * time.Second

func serve(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("lsgi serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bind := fs.String("bind", "127.0.0.1:8000", "`address` to listen on (host:port; port 0 picks a free one)")
	timeout := fs.Duration("timeout", 30*time.Second, "per-request deadline; an app past it is interrupted (504)")
	queueTimeout := fs.Duration("queue-timeout", 5*time.Second, "how long a request waits for a free Lua state before 503")
	states := fs.Int("states", 0, "Lua states per app, hence concurrent requests per app (default 2 x CPUs, at least 4)")
	maxBody := fs.Int64("max-body", 32<<20, "largest request body in bytes (-1: no limit)")
	trust := fs.Bool("trust", false, "open the whole Lua standard library (io, os, debug) to apps")
	reload := fs.Bool("reload", true, "reload a plugin as soon as its files change (turn off in production with --reload=false)")
	poll := fs.Duration("poll", 0, "poll for changes at this interval instead of using file system events (NFS, some container mounts)")
	dev := fs.Bool("dev", false, "development mode: show loopback clients an error page with the source when an app fails to load")
	accessLog := fs.String("access-log", "-", "access log `file`: - for stderr, off for none")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
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

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "lsgi: -log-level: %v\n", err)
		return 2
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

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
		Logger:       logger,
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

	ln, err := net.Listen("tcp", *bind)
	if err != nil {
		logger.Error("cannot listen", "err", err)
		return 1
	}
	srv := host.NewHTTPServer(ln.Addr().String(), h, logger)

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
	logger.Info("shutting down: finishing in-flight requests", "grace", shutdownGrace)
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
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
