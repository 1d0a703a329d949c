package main

// This file is lsgi serve's worker mode (--workers N, package supervisor):
// the flags, the supervisor process, and the few hooks that make a worker
// process serve on the supervisor's socket.

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/lsgi/lsgi/dict"
	"github.com/lsgi/lsgi/host"
	"github.com/lsgi/lsgi/supervisor"
)

// maxWorkers bounds --workers: workers are whole processes, each with its
// own Lua states, for isolation, not for concurrency within one process.
const maxWorkers = 256

// workerOptions are the worker-mode flags of lsgi serve, and the worker
// link when the process is a worker.
type workerOptions struct {
	workers     int
	memory      byteSize
	maxRequests int64
	jitter      int64
	graceful    time.Duration

	fs      *flag.FlagSet
	fastCGI bool
	tls     bool               // the workers serve HTTPS (--certfile)
	worker  *supervisor.Worker // set in a worker process
}

// addWorkerFlags defines the worker-mode flags on fs, and
// --graceful-timeout, which single-process serving uses too.
func addWorkerFlags(fs *flag.FlagSet) *workerOptions {
	o := &workerOptions{fs: fs}
	fs.IntVar(&o.workers, "workers", 0, "run `N` worker processes under a supervisor, so that a fatal error in one costs only its own requests (0: one process, for development)")
	fs.Var(&o.memory, "worker-memory", "memory limit of each worker: `size` in bytes, or with k, m or g (512m); default: three quarters of the memory available, divided among the workers")
	fs.Int64Var(&o.maxRequests, "max-requests", 0, "replace a worker once it has served `N` requests (0: never)")
	fs.Int64Var(&o.jitter, "max-requests-jitter", 0, "add a random 0 to `J` to each worker's --max-requests, so that workers do not all restart at once")
	fs.DurationVar(&o.graceful, "graceful-timeout", shutdownGrace, "how long requests in flight may take to finish on SIGINT or SIGTERM, and when a worker is replaced")
	return o
}

// start puts the process in its mode. In a worker (started by a
// supervisor) it applies the memory fence and returns the logger with the
// worker attribute; with --workers it runs the supervisor until it stops
// and returns done with the exit code; otherwise it checks that no
// worker-only flag was given.
func (o *workerOptions) start(args []string, bind string, fastCGI bool, logs logSetup, logger *slog.Logger, stderr io.Writer) (_ *slog.Logger, code int, done bool) {
	o.fastCGI = fastCGI
	w, err := supervisor.WorkerFromEnv()
	if err != nil {
		logger.Error("cannot start the worker", "err", err)
		return logger, 1, true
	}
	if w != nil {
		return o.enterWorker(w, logger)
	}
	switch {
	case o.workers < 0 || o.workers > maxWorkers:
		fmt.Fprintf(stderr, "lsgi: -workers %d: want 0 to %d\n", o.workers, maxWorkers)
		return logger, 2, true
	case o.maxRequests < 0 || o.jitter < 0:
		fmt.Fprintf(stderr, "lsgi: -max-requests and -max-requests-jitter cannot be negative\n")
		return logger, 2, true
	case o.workers == 0 && (o.memory != 0 || o.maxRequests != 0 || o.jitter != 0):
		fmt.Fprintf(stderr, "lsgi: -worker-memory, -max-requests and -max-requests-jitter need -workers\n")
		return logger, 2, true
	case o.workers > 0:
		// The supervisor's log and its workers' output share stderr: one
		// lock keeps their lines whole.
		out := &lockedWriter{w: stderr}
		logger = logs.newLogger(out)
		return logger, superviseWorkers(o, args, bind, logger, out), true
	}
	return logger, 0, false
}

// enterWorker fences the worker's memory before any app loads, and stops
// the worker as SIGTERM would when the supervisor says so or goes away.
func (o *workerOptions) enterWorker(w *supervisor.Worker, logger *slog.Logger) (*slog.Logger, int, bool) {
	o.worker = w
	logger = logger.With("worker", os.Getpid())
	fence, err := w.FenceMemory()
	if err != nil {
		logger.Error("cannot fence the worker's memory", "err", err)
		return logger, 1, true
	}
	if fence.DataLimit > 0 {
		attrs := []any{"memory", w.Spec().Memory, "rlimit_data", fence.DataLimit, "data_at_start", fence.Base, "go_memory_limit", fence.GoLimit}
		if cg := w.Spec().Cgroup; cg != "" {
			attrs = append(attrs, "cgroup", cg)
		}
		logger.Info("memory fence", attrs...)
	}
	go func() {
		<-w.Done()
		_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
	}()
	return logger, 0, false
}

// listen returns the listener to serve on: in a worker, the supervisor's
// socket; otherwise a new one on bind.
func (o *workerOptions) listen(bind string) (net.Listener, error) {
	if o.worker == nil {
		return listen(bind)
	}
	if o.fastCGI {
		return o.worker.FastCGIListener(o.graceful)
	}
	return o.worker.Listener()
}

// watchers is how many processes watch the plugins folder at once: in a
// worker, the supervisor's --workers, which share the inotify budget.
func (o *workerOptions) watchers() int {
	if o.worker == nil {
		return 1
	}
	return max(1, o.workers)
}

// ready tells the supervisor, in a worker, that its apps are loaded.
func (o *workerOptions) ready() error {
	if o.worker == nil {
		return nil
	}
	return o.worker.Ready()
}

// count returns h, counting requests against --max-requests in a worker.
// (FastCGI requests are counted by the listener.)
func (o *workerOptions) count(h http.Handler) http.Handler {
	if o.worker == nil {
		return h
	}
	return o.worker.CountHTTP(h)
}

// superviseWorkers is lsgi serve --workers N: it opens the socket, starts
// the workers (this program again, with the same arguments) and supervises
// them until SIGINT or SIGTERM; SIGHUP is forwarded to them.
func superviseWorkers(o *workerOptions, args []string, bind string, logger *slog.Logger, stderr io.Writer) int {
	memory, ok := o.workerMemory(logger, stderr)
	if !ok {
		return 2
	}
	exe, err := os.Executable()
	if err != nil {
		logger.Error("cannot find the lsgi executable for the workers", "err", err)
		return 1
	}
	ln, err := listen(bind)
	if err != nil {
		logger.Error("cannot listen", "err", err)
		return 1
	}
	defer ln.Close()
	sock, ok := ln.(syscall.Conn)
	if !ok {
		logger.Error("cannot pass the socket to workers", "listener", fmt.Sprintf("%T", ln))
		return 1
	}

	if f := o.fs.Lookup("shared"); f != nil && (f.Value.String() == "memory" || f.Value.String() == "") {
		logger.Warn("lsgi.shared keeps its dictionaries in each worker's memory: workers do not share them (sessions, counters), and a replaced worker's are lost; use --shared redis://HOST:PORT/DB to share them")
	}
	cg, cgErr := supervisor.DelegateCgroup()
	if cgErr != nil {
		cg = nil
		logger.Info("memory fence: RLIMIT_DATA and the Go soft limit in each worker; no cgroup", "memory", memory, "cgroup", cgErr)
	} else {
		logger.Info("memory fence: a cgroup v2 memory.max per worker, RLIMIT_DATA and the Go soft limit", "memory", memory, "cgroup", cg.Dir())
	}
	var admin *workersAdmin
	if bind := o.fs.Lookup("admin-bind"); bind != nil && bind.Value.String() != "" {
		admin, err = listenWorkersAdmin(bind.Value.String(), logger)
		if err != nil {
			logger.Error("cannot listen on the admin address", "err", err)
			return 1
		}
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), o.graceful)
			defer cancel()
			admin.shutdown(ctx)
		}()
	}
	var env []string // the supervisor's
	if admin != nil {
		env = admin.env()
	}
	s, err := supervisor.New(supervisor.Config{
		Path:              exe,
		Args:              append([]string{os.Args[0], "serve"}, args...),
		Env:               env,
		Workers:           o.workers,
		Listener:          sock,
		Memory:            memory,
		Cgroup:            cg,
		MaxRequests:       o.maxRequests,
		MaxRequestsJitter: o.jitter,
		GracefulTimeout:   o.graceful,
		Stdout:            os.Stdout,
		Stderr:            stderr,
		Logger:            logger,
	})
	if err != nil {
		logger.Error("cannot start the workers", "err", err)
		return 1
	}
	if admin != nil {
		admin.start(func() bool { return isClosed(s.Ready()) })
	}
	scheme := "http"
	switch {
	case o.fastCGI:
		scheme = "fastcgi"
	case o.tls:
		scheme = "https"
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	relayed := relaySignals(ctx, s, func() {
		logger.Info("Listening at: "+scheme+"://"+ln.Addr().String(), "workers", o.workers, "version", host.Version)
	})
	err = s.Run(ctx)
	stop()
	<-relayed
	if err != nil {
		logger.Error("cannot start the workers", "err", err)
		return 1
	}
	logger.Info("stopped")
	return 0
}

// relaySignals forwards SIGHUP to the workers and calls ready once they
// are all up, until ctx ends; the returned channel closes then.
func relaySignals(ctx context.Context, s *supervisor.Supervisor, ready func()) <-chan struct{} {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer signal.Stop(hup)
		up := s.Ready()
		for {
			select {
			case <-up:
				up = nil
				ready()
			case <-hup:
				s.Signal(syscall.SIGHUP)
			case <-ctx.Done():
				return
			}
		}
	}()
	return done
}

// workerMemory returns each worker's memory budget: --worker-memory, or
// the default derived from the memory available (see
// supervisor.DefaultWorkerMemory), logged with where it came from.
func (o *workerOptions) workerMemory(logger *slog.Logger, stderr io.Writer) (int64, bool) {
	if o.memory != 0 {
		if o.memory < supervisor.MinWorkerMemory {
			fmt.Fprintf(stderr, "lsgi: -worker-memory %d: want at least %d (32m)\n", o.memory, supervisor.MinWorkerMemory)
			return 0, false
		}
		return int64(o.memory), true
	}
	avail := supervisor.AvailableMemory()
	memory := supervisor.DefaultWorkerMemory(avail.Bytes, o.workers)
	logger.Info("worker memory: three quarters of the memory available, divided among the workers",
		"memory", memory, "available", avail.Bytes, "limited_by", avail.Source, "workers", o.workers)
	return memory, true
}

// lockedWriter serialises writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// byteSize is a flag value in bytes, written as --shared-size is: a
// number, optionally followed by k, m or g (powers of 1024).
type byteSize int64

func (b *byteSize) String() string { return strconv.FormatInt(int64(*b), 10) }

func (b *byteSize) Set(s string) error {
	n, err := dict.ParseSize(s)
	if err != nil {
		return err
	}
	*b = byteSize(n)
	return nil
}

// isClosed reports whether ch is closed, without waiting.
func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
