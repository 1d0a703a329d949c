package supervisor

import (
	"errors"
	"log/slog"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func newTestLogger(w *syncBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

var readyRE = regexp.MustCompile(`msg="worker ready" worker=(\d+)`)

// readyPids returns the pids of the workers that said ready, in order.
func readyPids(log string) []int {
	var pids []int
	for _, m := range readyRE.FindAllStringSubmatch(log, -1) {
		pid, _ := strconv.Atoi(m[1])
		pids = append(pids, pid)
	}
	return pids
}

func TestNewRejects(t *testing.T) {
	tests := []struct {
		desc string
		cfg  Config
		want string
	}{
		{"no workers", Config{Path: "x", Args: []string{"x"}}, "want at least 1"},
		{"no listener", Config{Workers: 1, Path: "x", Args: []string{"x"}}, "no listener"},
		{"no command", Config{Workers: 1, Listener: os.Stdin}, "no worker command"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			_, err := New(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New: %v, want an error with %q", err, tt.want)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	base, limit := 100*time.Millisecond, time.Second
	tests := []struct {
		desc     string
		failures int
		want     time.Duration
	}{
		{"first death restarts at once", 1, 0},
		{"second waits the base", 2, 100 * time.Millisecond},
		{"third doubles", 3, 200 * time.Millisecond},
		{"fifth", 5, 800 * time.Millisecond},
		{"capped", 6, time.Second},
		{"far past the cap", 100, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			if got := backoff(tt.failures, base, limit); got != tt.want {
				t.Errorf("backoff(%d) = %v, want %v", tt.failures, got, tt.want)
			}
		})
	}
}

func TestServeAndStop(t *testing.T) {
	r := startRun(t, "serve", Config{Workers: 2})
	r.waitReady(t)
	for i := range 10 {
		if _, err := r.get("/"); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	pids := readyPids(r.log.String())
	if len(pids) != 2 {
		t.Fatalf("%d workers ready, want 2", len(pids))
	}
	if err := r.stop(t, 10*time.Second); err != nil {
		t.Fatalf("Run: %v", err)
	}
	for _, pid := range pids {
		if alive(pid) {
			t.Errorf("worker %d still exists after Run returned", pid)
		}
	}
	if got := r.log.String(); strings.Count(got, `msg="worker stopped"`) != 2 {
		t.Errorf("want two workers stopped in the log:\n%s", got)
	}
}

func TestBootFailureFailsFast(t *testing.T) {
	r := startRun(t, "fail", Config{Workers: 2})
	select {
	case err := <-r.done:
		r.done <- err
		if err == nil || !strings.Contains(err.Error(), "exited before it was ready") || !strings.Contains(err.Error(), "cannot start") {
			t.Fatalf("Run: %v, want the worker's exit and its last output", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Run still running 15s after its workers failed to start")
	}
	if n := strings.Count(r.log.String(), `msg="booting worker"`); n != 2 {
		t.Errorf("%d workers started, want 2 (no restart)", n)
	}
}

func TestCrashIsLoggedAndRestarted(t *testing.T) {
	tests := []struct {
		desc    string
		kill    func(r *run, pid int) error
		wantLog []string
	}{
		{
			desc: "out of memory",
			kill: func(r *run, pid int) error {
				_, err := r.get("/crash")
				if err == nil {
					return errDidNotCrash
				}
				return nil
			},
			wantLog: []string{`status="exit status 2"`, `cause="runtime: out of memory: cannot allocate 4194304-byte block (1000 in use); fatal error: out of memory"`},
		},
		{
			desc:    "SIGKILL",
			kill:    func(r *run, pid int) error { return syscall.Kill(pid, syscall.SIGKILL) },
			wantLog: []string{`status="signal: killed"`, `last_output="fake: starting in mode serve"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			r := startRun(t, "serve", Config{Workers: 1})
			r.waitReady(t)
			first := readyPids(r.log.String())[0]
			if err := tt.kill(r, first); err != nil {
				t.Fatal(err)
			}
			r.log.waitCount(t, `msg="worker died"`, 1, 10*time.Second)
			r.log.waitCount(t, `msg="worker ready"`, 2, 10*time.Second)
			line := logLine(r.log.String(), `msg="worker died"`)
			for _, want := range append(tt.wantLog, "worker="+strconv.Itoa(first)) {
				if !strings.Contains(line, want) {
					t.Errorf("death log %q lacks %q", line, want)
				}
			}
			body, err := r.get("/")
			if err != nil {
				t.Fatalf("request after the restart: %v", err)
			}
			if body == strconv.Itoa(first) {
				t.Errorf("answered by the dead worker %s", body)
			}
		})
	}
}

var errDidNotCrash = errors.New("the /crash request succeeded")

// logLine returns the first line of log containing substr.
func logLine(log, substr string) string {
	for line := range strings.Lines(log) {
		if strings.Contains(line, substr) {
			return strings.TrimSpace(line)
		}
	}
	return ""
}

func TestCrashLoopBacksOff(t *testing.T) {
	cfg := Config{Workers: 1, RestartBackoff: 50 * time.Millisecond, MaxRestartBackoff: 400 * time.Millisecond}
	r := startRun(t, "die", cfg)
	// The first worker is ready, then dies: Run keeps going, restarting
	// with growing delays.
	r.waitReady(t)
	r.log.waitCount(t, `msg="workers keep dying young; delaying the restart"`, 3, 15*time.Second)
	start := time.Now()
	before := strings.Count(r.log.String(), `msg="booting worker"`)
	r.log.waitCount(t, `msg="booting worker"`, before+3, 15*time.Second)
	// Three more starts at the capped delay take at least 2 x 400ms (the
	// first of them may have been already waiting).
	if d := time.Since(start); d < 800*time.Millisecond {
		t.Errorf("three restarts in %v: the backoff did not hold them", d)
	}
	if !strings.Contains(r.log.String(), "delay=400ms") {
		t.Errorf("no restart delayed by the cap, 400ms")
	}
	if err := r.stop(t, 10*time.Second); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func TestMaxRequestsReplacesWithoutGap(t *testing.T) {
	r := startRun(t, "serve", Config{Workers: 1, MaxRequests: 5, MaxRequestsJitter: 2})
	r.waitReady(t)
	// One request at a time, until three workers have been replaced: each
	// must succeed, although the only worker keeps being replaced.
	served := map[string]int{}
	deadline := time.Now().Add(15 * time.Second)
	for i := 0; strings.Count(r.log.String(), `msg="worker retired"`) < 3; i++ {
		if time.Now().After(deadline) || i == 5000 {
			t.Fatalf("%d requests in %v and fewer than three workers retired; served: %v", i, 15*time.Second, served)
		}
		body, err := r.get("/")
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		served[body]++
	}
	for _, pid := range readyPids(r.log.String())[:3] {
		if n := served[strconv.Itoa(pid)]; n < 5 {
			t.Errorf("worker %d retired after %d requests, its budget is at least 5", pid, n)
		}
	}
}

func TestGracefulTimeoutKills(t *testing.T) {
	r := startRun(t, "stubborn", Config{Workers: 2, GracefulTimeout: 300 * time.Millisecond})
	r.waitReady(t)
	pids := readyPids(r.log.String())
	start := time.Now()
	if err := r.stop(t, 10*time.Second); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("stop took %v with a 300ms graceful timeout", d)
	}
	if !strings.Contains(r.log.String(), "killing them") {
		t.Errorf("no kill logged")
	}
	for _, pid := range pids {
		if alive(pid) {
			t.Errorf("worker %d still exists after Run returned", pid)
		}
	}
}

func TestSignalIsForwarded(t *testing.T) {
	r := startRun(t, "serve", Config{Workers: 2})
	r.waitReady(t)
	r.s.Signal(syscall.SIGHUP)
	r.out.waitCount(t, "fake: SIGHUP", 2, 10*time.Second)
}
