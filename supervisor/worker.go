package supervisor

// This file is the worker's side of the protocol: what a worker process
// takes from its supervisor, and how it reports back.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// EnvVar is the environment variable through which the supervisor hands a
// worker its [Spec]. A process that finds it set is a worker.
const EnvVar = "LSGI_WORKER"

// controlFD is the worker's end of its control connection, the one
// descriptor it inherits (exec.Cmd.ExtraFiles start at 3). The listening
// socket comes over it (see passfd.go).
const controlFD = 3

// Control messages, one per line: "ready" and "retire" from worker to
// supervisor, "stop" from supervisor to worker.
const (
	msgReady  = "ready"
	msgRetire = "retire"
	msgStop   = "stop"
)

// stopDrainBound bounds how long a worker told to stop waits for the
// connections it accepted to deliver their first request.
const stopDrainBound = time.Second

// Spec is what the supervisor tells a worker, as JSON in [EnvVar].
type Spec struct {
	// Memory is the worker's memory budget in bytes; 0 means none. The
	// worker fences itself to it with [Worker.FenceMemory].
	Memory int64 `json:"memory,omitempty"`

	// MaxRequests is the number of requests after which the worker asks
	// to retire, jitter included; 0 means no limit.
	MaxRequests int64 `json:"max_requests,omitempty"`

	// Cgroup is the cgroup v2 directory the supervisor started the worker
	// in, or "" when there is none. It is for the worker's log.
	Cgroup string `json:"cgroup,omitempty"`
}

// Worker is a worker process's link to its supervisor, made by
// [WorkerFromEnv].
type Worker struct {
	spec Spec
	ctl  *os.File

	writeMu sync.Mutex
	served  atomic.Int64
	retired atomic.Bool
	ln      atomic.Pointer[workerListener]
	watch   sync.Once
	done    chan struct{}
	doneMu  sync.Once
}

// WorkerFromEnv returns the worker's link to its supervisor when the
// process was started as a worker ([EnvVar] set), and nil otherwise. It
// removes EnvVar from the environment and keeps the inherited descriptor
// from leaking into programs the worker runs.
func WorkerFromEnv() (*Worker, error) {
	raw, ok := os.LookupEnv(EnvVar)
	if !ok {
		return nil, nil
	}
	os.Unsetenv(EnvVar)
	var spec Spec
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		return nil, fmt.Errorf("supervisor: %s: %w", EnvVar, err)
	}
	// Non-blocking, so that the control connection is read through Go's
	// poller instead of holding a thread.
	if err := syscall.SetNonblock(controlFD, true); err != nil {
		return nil, fmt.Errorf("supervisor: control descriptor %d: %w", controlFD, err)
	}
	syscall.CloseOnExec(controlFD)
	return newWorker(spec, os.NewFile(controlFD, "supervisor-control")), nil
}

func newWorker(spec Spec, ctl *os.File) *Worker {
	return &Worker{spec: spec, ctl: ctl, done: make(chan struct{})}
}

// Spec returns what the supervisor asked of this worker.
func (w *Worker) Spec() Spec { return w.spec }

// Listener returns the listening socket the supervisor shares with all its
// workers, for an HTTP server. Call it once. Serve it with a handler wrapped by
// [Worker.CountHTTP]. Closing it stops this worker accepting; the socket
// stays open in the supervisor and the other workers.
func (w *Worker) Listener() (net.Listener, error) {
	return w.listener(false, 0)
}

// FastCGIListener is [Worker.Listener] for a FastCGI server: each request
// that arrives on its connections (each FCGI_BEGIN_REQUEST record) counts
// against the worker's budget, and Close, after closing the socket, waits
// up to grace for the connections already accepted to close, since
// net/http/fcgi has no graceful shutdown of its own. A front server that
// opens a connection per request (nginx without fastcgi_keep_conn) closes
// each as its response ends; a kept connection holds Close for the whole
// grace.
func (w *Worker) FastCGIListener(grace time.Duration) (net.Listener, error) {
	return w.listener(true, grace)
}

func (w *Worker) listener(fastCGI bool, grace time.Duration) (net.Listener, error) {
	ln, err := receiveSocket(w.ctl)
	if err != nil {
		return nil, err
	}
	wl := newWorkerListener(ln, w, fastCGI, grace)
	w.ln.Store(wl)
	return wl, nil
}

// Ready tells the supervisor that the worker serves, and starts listening
// to it (see [Worker.Done]).
func (w *Worker) Ready() error {
	if err := w.send(msgReady); err != nil {
		return err
	}
	w.watch.Do(func() { go w.watchControl() })
	return nil
}

// Done is closed when the worker should shut down gracefully, as on
// SIGTERM: the supervisor asked it to stop (it is being replaced) and it
// has drained, having stopped accepting and seen its connections close
// (for up to a second); or the supervisor is gone, so that nothing would
// replace or stop the worker.
func (w *Worker) Done() <-chan struct{} { return w.done }

// watchControl reads the supervisor's messages for the life of the worker.
func (w *Worker) watchControl() {
	sc := bufio.NewScanner(w.ctl)
	sc.Buffer(make([]byte, 64), 64)
	for sc.Scan() {
		if sc.Text() == msgStop {
			if ln := w.ln.Load(); ln != nil {
				ln.stopAccepting(stopDrainBound)
			}
			break
		}
	}
	w.doneMu.Do(func() { close(w.done) })
}

func (w *Worker) send(msg string) error {
	w.writeMu.Lock()
	defer w.writeMu.Unlock()
	if _, err := w.ctl.WriteString(msg + "\n"); err != nil {
		return fmt.Errorf("supervisor: tell the supervisor %q: %w", msg, err)
	}
	return nil
}

// countRequest counts one request against the worker's budget; at the
// budget it asks the supervisor, once, to retire the worker. The worker
// keeps serving until the supervisor stops it, which it does once the
// replacement is ready.
func (w *Worker) countRequest() {
	if w.spec.MaxRequests <= 0 {
		return
	}
	if w.served.Add(1) >= w.spec.MaxRequests && w.retired.CompareAndSwap(false, true) {
		// Nothing to do when the supervisor is gone: Done says so.
		_ = w.send(msgRetire)
	}
}

// CountHTTP returns h, counting each request against the worker's budget
// when it has one, and closing the connection after the response once the
// worker is draining (see [Worker.Done]).
func (w *Worker) CountHTTP(h http.Handler) http.Handler {
	if w.spec.MaxRequests <= 0 {
		return h
	}
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if w.Request() {
			rw.Header().Set("Connection", "close")
		}
		h.ServeHTTP(rw, r)
	})
}

// Request counts one request against the worker's budget, for an HTTP
// server that is not net/http ([Worker.CountHTTP] is this for an
// http.Handler), and reports whether the connection it came on should
// close after the response: the worker is draining.
func (w *Worker) Request() (closeAfter bool) {
	if w.spec.MaxRequests <= 0 {
		return false
	}
	ln := w.ln.Load()
	closeAfter = ln != nil && ln.draining()
	w.countRequest()
	return closeAfter
}
