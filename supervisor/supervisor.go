package supervisor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"syscall"
	"time"
)

// Defaults of [Config]'s durations.
const (
	DefaultGracefulTimeout   = 10 * time.Second
	DefaultRestartBackoff    = 100 * time.Millisecond
	DefaultMaxRestartBackoff = 10 * time.Second
)

// reapTimeout bounds the wait for killed workers to be reaped.
const reapTimeout = 5 * time.Second

// Config configures a [Supervisor].
type Config struct {
	// Path, Args, Env and Dir are the worker's command, as in exec.Cmd:
	// Args[0] is the program name. Env nil means the supervisor's
	// environment. The supervisor adds [EnvVar].
	Path string
	Args []string
	Env  []string
	Dir  string

	// Workers is the number of workers, at least 1.
	Workers int

	// Listener is the listening socket the workers share: a
	// *net.TCPListener or *net.UnixListener. The caller keeps it open
	// while Run runs and closes it afterwards; the supervisor never
	// accepts on it.
	Listener syscall.Conn

	// Memory is each worker's memory budget in bytes (0: none). Workers
	// fence themselves to it ([Worker.FenceMemory]); with Cgroup, the
	// kernel fences them too.
	Memory int64

	// Cgroup, if set, is where each worker gets a cgroup of its own with
	// memory.max set to Memory.
	Cgroup *Cgroup

	// MaxRequests is the request budget of a worker (0: none): past it the
	// worker is replaced. Each worker's budget adds a random jitter from
	// 0 to MaxRequestsJitter, so that workers started together do not all
	// retire together (gunicorn's --max-requests-jitter).
	MaxRequests       int64
	MaxRequestsJitter int64

	// GracefulTimeout bounds how long a worker told to stop may take to
	// finish its requests before it is killed; at shutdown it bounds the
	// whole stop. The default is [DefaultGracefulTimeout].
	GracefulTimeout time.Duration

	// RestartBackoff is the delay before restarting a worker after a
	// second worker in a row died young (the first is restarted at
	// once); it doubles with each further one, up to MaxRestartBackoff. A
	// worker that lived longer than MaxRestartBackoff did not die young.
	// The defaults are [DefaultRestartBackoff] and
	// [DefaultMaxRestartBackoff].
	RestartBackoff    time.Duration
	MaxRestartBackoff time.Duration

	// Stdout and Stderr receive the workers' output (nil: discarded).
	// Stderr gets it line by line, one Write per line, under a lock of the
	// supervisor's, which also keeps the last lines of each worker's
	// stderr to log the cause of a death. A Stdout that is not an
	// *os.File, and a Stderr that the Logger writes to as well, must be
	// safe for concurrent use.
	Stdout io.Writer
	Stderr io.Writer

	// Logger receives the supervisor's own log; the default discards it.
	Logger *slog.Logger
}

// Supervisor runs and replaces worker processes. Make one with [New].
type Supervisor struct {
	cfg Config
	log *slog.Logger
	out *lockedWriter

	events  chan event
	signals chan os.Signal
	ready   chan struct{}
	done    chan struct{}

	procs    map[*process]struct{}
	seq      int  // workers started so far
	booted   bool // every first worker has been ready
	failures int  // workers in a row that died young

	restart *time.Timer // pending restart, nil when none
}

// New returns a supervisor for cfg. Nothing runs until [Supervisor.Run].
func New(cfg Config) (*Supervisor, error) {
	if cfg.Workers < 1 {
		return nil, fmt.Errorf("supervisor: %d workers: want at least 1", cfg.Workers)
	}
	if cfg.Listener == nil {
		return nil, errors.New("supervisor: no listener")
	}
	if cfg.Path == "" || len(cfg.Args) == 0 {
		return nil, errors.New("supervisor: no worker command")
	}
	if cfg.GracefulTimeout <= 0 {
		cfg.GracefulTimeout = DefaultGracefulTimeout
	}
	if cfg.RestartBackoff <= 0 {
		cfg.RestartBackoff = DefaultRestartBackoff
	}
	if cfg.MaxRestartBackoff < cfg.RestartBackoff {
		cfg.MaxRestartBackoff = max(DefaultMaxRestartBackoff, cfg.RestartBackoff)
	}
	if cfg.Env == nil {
		cfg.Env = os.Environ()
	}
	if cfg.Stderr == nil {
		cfg.Stderr = io.Discard
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Supervisor{
		cfg:     cfg,
		log:     log,
		out:     &lockedWriter{w: cfg.Stderr},
		events:  make(chan event),
		signals: make(chan os.Signal, 1),
		ready:   make(chan struct{}),
		done:    make(chan struct{}),
		procs:   map[*process]struct{}{},
	}, nil
}

// Ready is closed once the first workers are all ready.
func (s *Supervisor) Ready() <-chan struct{} { return s.ready }

// Signal forwards sig (SIGHUP, say) to every worker that is ready. Workers
// still starting do not get it: they are reading their files anew anyway.
func (s *Supervisor) Signal(sig os.Signal) {
	select {
	case s.signals <- sig:
	case <-s.done:
	}
}

// Run starts the workers and keeps them running until ctx is cancelled,
// then stops them (see the package documentation) and returns nil. It
// returns an error, after stopping the others, when a first worker exits
// before it is ready: the configuration cannot start.
func (s *Supervisor) Run(ctx context.Context) error {
	defer close(s.done)
	s.log.Info("starting workers", "workers", s.cfg.Workers, "memory", s.cfg.Memory,
		"max_requests", s.cfg.MaxRequests, "max_requests_jitter", s.cfg.MaxRequestsJitter)
	for range s.cfg.Workers {
		if err := s.spawn(); err != nil {
			s.shutdown()
			return err
		}
	}
	for {
		var restart <-chan time.Time
		if s.restart != nil {
			restart = s.restart.C
		}
		select {
		case <-ctx.Done():
			s.shutdown()
			return nil
		case ev := <-s.events:
			if err := s.handle(ev); err != nil {
				s.shutdown()
				return err
			}
		case sig := <-s.signals:
			s.forward(sig)
		case <-restart:
			s.restart = nil
			s.refill()
		}
	}
}

// handle updates the workers after ev.
func (s *Supervisor) handle(ev event) error {
	p := ev.p
	if _, ok := s.procs[p]; !ok {
		return nil // a message that arrived after its worker's exit
	}
	switch ev.kind {
	case evReady:
		if p.ready || p.stopping {
			return nil
		}
		p.ready = true
		s.log.Info("worker ready", "worker", p.pid, "startup", time.Since(p.started).Round(time.Millisecond))
		if !s.booted && s.count(func(p *process) bool { return p.ready }) >= s.cfg.Workers {
			s.booted = true
			close(s.ready)
		}
		s.retireSurplus()
	case evRetire:
		if p.retiring || p.stopping {
			return nil
		}
		p.retiring = true
		s.log.Info("worker reached its request budget; starting its replacement", "worker", p.pid, "max_requests", p.maxRequests)
		s.refill()
	case evKillDue:
		s.log.Warn("worker still running after its graceful timeout; killing it", "worker", p.pid, "graceful_timeout", s.cfg.GracefulTimeout)
		s.terminate(p, syscall.SIGKILL)
	case evExit:
		return s.exited(p, ev.err)
	}
	return nil
}

// exited reaps p and restarts it if it was not meant to stop.
func (s *Supervisor) exited(p *process, waitErr error) error {
	status, cause := s.reap(p, waitErr)
	attrs := exitAttrs(p, status, cause)
	if p.stopping {
		if waitErr != nil {
			s.log.Warn("retired worker exited with an error", attrs...)
		} else {
			s.log.Info("worker retired", attrs...)
		}
		return nil
	}
	if cause == "" {
		attrs = append(attrs, "last_output", p.tail.lastLines())
	}
	if !s.booted {
		s.log.Error("worker exited before it was ready", attrs...)
		if cause == "" {
			cause = p.tail.lastLine()
		}
		return fmt.Errorf("supervisor: worker %d exited before it was ready (%s): %s", p.pid, status, cause)
	}
	s.log.Error("worker died", attrs...)
	if time.Since(p.started) > s.cfg.MaxRestartBackoff {
		s.failures = 1
	} else {
		s.failures++
	}
	s.scheduleRestart()
	return nil
}

// exitAttrs are the log attributes of a worker's exit.
func exitAttrs(p *process, status, cause string) []any {
	attrs := []any{"worker", p.pid, "status", status}
	if cause != "" {
		attrs = append(attrs, "cause", cause)
	}
	return append(attrs, "uptime", time.Since(p.started).Round(time.Millisecond))
}

// scheduleRestart restarts the missing workers, at once after one early
// death, after a growing delay when workers keep dying young.
func (s *Supervisor) scheduleRestart() {
	if s.restart != nil {
		return // already pending
	}
	delay := backoff(s.failures, s.cfg.RestartBackoff, s.cfg.MaxRestartBackoff)
	if delay == 0 {
		s.refill()
		return
	}
	s.log.Warn("workers keep dying young; delaying the restart", "delay", delay, "deaths_in_a_row", s.failures)
	s.restart = time.NewTimer(delay)
}

// backoff is the delay before a restart after the failures-th early death
// in a row: none for the first, then base, doubling up to limit.
func backoff(failures int, base, limit time.Duration) time.Duration {
	if failures <= 1 {
		return 0
	}
	d := base
	for i := 2; i < failures && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

// refill starts workers until as many as configured are not retiring.
func (s *Supervisor) refill() {
	for s.count(func(p *process) bool { return !p.retiring }) < s.cfg.Workers {
		if err := s.spawn(); err != nil {
			s.log.Error("cannot start a worker", "err", err)
			s.failures++
			s.scheduleRestart()
			return
		}
	}
}

// retireSurplus stops retiring workers, oldest first, while more workers
// than configured are accepting connections.
func (s *Supervisor) retireSurplus() {
	for s.count(func(p *process) bool { return p.ready && !p.stopping }) > s.cfg.Workers {
		var oldest *process
		for p := range s.procs {
			if p.retiring && !p.stopping && (oldest == nil || p.seq < oldest.seq) {
				oldest = p
			}
		}
		if oldest == nil {
			return
		}
		s.stop(oldest)
	}
}

// stop asks a worker to stop: it stops accepting, waits for the first
// requests of the connections it accepted, then shuts down as on SIGTERM.
// If it is still running after that and the graceful timeout, it is
// killed.
func (s *Supervisor) stop(p *process) {
	p.stopping = true
	if _, err := p.ctl.WriteString(msgStop + "\n"); err != nil {
		s.log.Warn("cannot tell a worker to stop; sending SIGTERM", "worker", p.pid, "err", err)
		s.terminate(p, syscall.SIGTERM)
	}
	p.killTimer = time.AfterFunc(stopDrainBound+s.cfg.GracefulTimeout, func() {
		s.send(event{kind: evKillDue, p: p})
	})
}

// forward sends sig to every ready worker.
func (s *Supervisor) forward(sig os.Signal) {
	n := 0
	for p := range s.procs {
		if p.ready && !p.stopping {
			if err := p.cmd.Process.Signal(sig); err == nil {
				n++
			}
		}
	}
	s.log.Info("signal forwarded to the workers", "signal", sig, "workers", n)
}

// terminate sends sig to p's process group: the worker and whatever it
// started.
func (s *Supervisor) terminate(p *process, sig syscall.Signal) {
	p.stopping = true
	if err := syscall.Kill(-p.pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		s.log.Warn("cannot signal a worker", "worker", p.pid, "signal", sig, "err", err)
	}
}

// shutdown stops every worker: SIGTERM, then SIGKILL for those still
// running after the graceful timeout.
func (s *Supervisor) shutdown() {
	if s.restart != nil {
		s.restart.Stop()
		s.restart = nil
	}
	if len(s.procs) == 0 {
		return
	}
	s.log.Info("stopping workers", "workers", len(s.procs), "graceful_timeout", s.cfg.GracefulTimeout)
	for p := range s.procs {
		s.terminate(p, syscall.SIGTERM)
	}
	deadline := time.NewTimer(s.cfg.GracefulTimeout)
	defer deadline.Stop()
	killed := false
	for len(s.procs) > 0 {
		select {
		case ev := <-s.events:
			if _, ok := s.procs[ev.p]; ok && ev.kind == evExit {
				status, cause := s.reap(ev.p, ev.err)
				s.log.Info("worker stopped", exitAttrs(ev.p, status, cause)...)
			}
		case <-deadline.C:
			if killed {
				s.log.Error("workers could not be reaped", "workers", len(s.procs))
				return
			}
			s.log.Warn("workers still running at the end of the graceful timeout; killing them", "workers", len(s.procs))
			for p := range s.procs {
				s.terminate(p, syscall.SIGKILL)
			}
			killed = true
			deadline.Reset(reapTimeout)
		}
	}
}

// count returns how many workers satisfy ok.
func (s *Supervisor) count(ok func(*process) bool) int {
	n := 0
	for p := range s.procs {
		if ok(p) {
			n++
		}
	}
	return n
}

// maxRequests draws a worker's request budget.
func (s *Supervisor) maxRequests() int64 {
	if s.cfg.MaxRequests <= 0 {
		return 0
	}
	return s.cfg.MaxRequests + rand.Int64N(max(s.cfg.MaxRequestsJitter, 0)+1)
}

// send delivers ev to Run, unless Run has returned.
func (s *Supervisor) send(ev event) {
	select {
	case s.events <- ev:
	case <-s.done:
	}
}
