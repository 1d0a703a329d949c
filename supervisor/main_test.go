package supervisor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The supervisor's tests run real worker processes: the test binary
// re-executed with EnvVar set, which TestMain turns into fakeWorker, a
// small HTTP server whose behaviour FAKE_MODE chooses (as net/http/cgi's
// tests re-execute themselves as the CGI child).

func TestMain(m *testing.M) {
	if _, ok := os.LookupEnv(EnvVar); ok {
		os.Exit(fakeWorker(os.Getenv("FAKE_MODE")))
	}
	os.Exit(m.Run())
}

// fakeWorker serves GET / (its pid) and GET /crash (writes the Go
// runtime's out-of-memory lines and exits 2) on the inherited listener,
// stops on SIGTERM, and reports SIGHUP on stderr. Modes:
//
//	serve     as above
//	fail      exits 1 before it is ready, as a worker with a bad configuration
//	die       exits 2 right after it is ready, as a worker crashing in a loop
//	stubborn  ignores SIGTERM
func fakeWorker(mode string) int {
	w, err := WorkerFromEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake:", err)
		return 1
	}
	fmt.Fprintln(os.Stderr, "fake: starting in mode", mode)
	if mode == "fail" {
		fmt.Fprintln(os.Stderr, "fake: cannot start: open plugins: no such file or directory")
		return 1
	}
	term := make(chan os.Signal, 1)
	if mode == "stubborn" {
		signal.Ignore(syscall.SIGTERM)
	} else {
		signal.Notify(term, syscall.SIGTERM)
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	ln, err := w.Listener()
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake:", err)
		return 1
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(rw http.ResponseWriter, r *http.Request) { fmt.Fprint(rw, os.Getpid()) })
	mux.HandleFunc("/crash", func(http.ResponseWriter, *http.Request) {
		fmt.Fprintln(os.Stderr, "runtime: out of memory: cannot allocate 4194304-byte block (1000 in use)")
		fmt.Fprintln(os.Stderr, "fatal error: out of memory")
		fmt.Fprintln(os.Stderr, "\ngoroutine 1 [running]:\nmain.main()")
		os.Exit(2)
	})
	srv := &http.Server{Handler: w.CountHTTP(mux)}
	go srv.Serve(ln)
	if err := w.Ready(); err != nil {
		return 1
	}
	if mode == "die" {
		fmt.Fprintln(os.Stderr, "fatal error: stack overflow")
		return 2
	}
	for {
		select {
		case <-hup:
			fmt.Fprintln(os.Stderr, "fake: SIGHUP")
		case <-w.Done():
			syscall.Kill(os.Getpid(), syscall.SIGTERM)
		case <-term:
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(ctx)
			return 0
		}
	}
}

// run is a supervisor of fake workers under test.
type run struct {
	s      *Supervisor
	addr   string
	log    *syncBuffer // the supervisor's log
	out    *syncBuffer // the workers' stderr
	cancel context.CancelFunc
	done   chan error
	client *http.Client
}

// startRun starts a supervisor of fake workers in mode, with cfg's
// Workers, MaxRequests, GracefulTimeout and backoff fields; it is stopped
// when the test ends.
func startRun(t *testing.T, mode string, cfg Config) *run {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	r := &run{addr: ln.Addr().String(), log: newSyncBuffer(), out: newSyncBuffer(), done: make(chan error, 1)}
	cfg.Path, cfg.Args = exe, []string{exe}
	cfg.Env = append(os.Environ(), "FAKE_MODE="+mode)
	cfg.Listener = ln.(*net.TCPListener)
	cfg.Stderr = r.out
	cfg.Logger = newTestLogger(r.log)
	r.s, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- r.s.Run(ctx) }()
	r.client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(20 * time.Second):
			t.Error("Run did not return within 20s of the cancel")
		}
		ln.Close()
		if t.Failed() {
			t.Logf("supervisor log:\n%s\nworker output:\n%s", r.log, r.out)
		}
	})
	return r
}

// waitReady waits for every first worker to be ready.
func (r *run) waitReady(t *testing.T) {
	t.Helper()
	select {
	case <-r.s.Ready():
	case err := <-r.done:
		t.Fatalf("Run returned before the workers were ready: %v", err)
	case <-time.After(15 * time.Second):
		t.Fatal("workers not ready within 15s")
	}
}

// get requests path and returns the body.
func (r *run) get(path string) (string, error) {
	resp, err := r.client.Get("http://" + r.addr + path)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("status %s", resp.Status)
	}
	return string(b), err
}

// stop cancels Run and returns its result.
func (r *run) stop(t *testing.T, within time.Duration) error {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		r.done <- err // for the cleanup
		return err
	case <-time.After(within):
		t.Fatalf("Run did not return within %v of the cancel", within)
		return nil
	}
}

// syncBuffer is an io.Writer safe for concurrent use whose contents can be
// waited on.
type syncBuffer struct {
	mu      sync.Mutex
	b       strings.Builder
	changed chan struct{}
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{changed: make(chan struct{})} }

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.Write(p)
	close(s.changed)
	s.changed = make(chan struct{})
	return len(p), nil
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitCount waits until substr occurs at least n times.
func (s *syncBuffer) waitCount(t *testing.T, substr string, n int, within time.Duration) {
	t.Helper()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		got, changed := strings.Count(s.b.String(), substr), s.changed
		s.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("%q seen %d times within %v, want %d", substr, got, within, n)
		}
	}
}

// alive reports whether process pid exists (a zombie counts).
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
