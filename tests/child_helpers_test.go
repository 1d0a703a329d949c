package tests

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// child is a helper process of a test other than `lsgi serve` over HTTP
// (which startServer runs): `lsgi serve --fastcgi`, nginx, fcgiwrap, the
// examples/embed program. Its stdout and stderr are collected line by line;
// it gets SIGTERM when the test ends.
type child struct {
	t       *testing.T
	name    string
	cmd     *exec.Cmd
	log     *logBuffer
	exited  chan struct{} // closed when the process has exited
	waitErr error         // set before exited is closed

	exitExpected atomic.Bool // the test knows the process has ended
}

// startChild starts path with args in dir, with extra environment
// variables, and stops it when the test ends.
func startChild(t *testing.T, name, dir string, env []string, path string, args ...string) *child {
	t.Helper()
	c := &child{t: t, name: name, log: newLogBuffer(), exited: make(chan struct{})}
	stdout := &lineWriter{buf: c.log}
	stderr := &lineWriter{buf: c.log}
	c.cmd = exec.Command(path, args...)
	c.cmd.Dir = dir
	c.cmd.Env = append(os.Environ(), env...)
	if os.Getenv("GORACE") == "" {
		// A -race binary sleeps a second at exit unless told otherwise.
		c.cmd.Env = append(c.cmd.Env, "GORACE=atexit_sleep_ms=0")
	}
	c.cmd.Stdout = stdout
	c.cmd.Stderr = stderr
	c.cmd.WaitDelay = 5 * time.Second
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		err := c.cmd.Wait()
		stdout.flush()
		stderr.flush()
		c.waitErr = err
		close(c.exited)
	}()
	t.Cleanup(c.stop)
	return c
}

// waitLine waits for a log line matching re and returns its submatches. It
// fails the test if the process exits first or no line comes in time.
func (c *child) waitLine(t *testing.T, re *regexp.Regexp) []string {
	t.Helper()
	_, m, ok := c.log.waitMatch(re, startTimeout, c.exited)
	if !ok {
		select {
		case <-c.exited:
			t.Fatalf("%s exited (%v) before a line matching %q\n%s", c.name, c.waitErr, re, c.log)
		default:
			t.Fatalf("%s: no line matching %q within %v\n%s", c.name, re, startTimeout, c.log)
		}
	}
	return m
}

// waitDial waits until network/addr accepts connections, or the process
// exits. It reports whether the address became reachable.
func (c *child) waitDial(network, addr string) bool {
	deadline := time.Now().Add(startTimeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for time.Now().Before(deadline) {
		conn, err := net.DialTimeout(network, addr, time.Second)
		if err == nil {
			conn.Close()
			return true
		}
		select {
		case <-c.exited:
			return false
		case <-tick.C:
		}
	}
	return false
}

// stop sends SIGTERM, waits for the exit, and checks the log for crashes
// and data races.
func (c *child) stop() {
	t := c.t
	if c.exitExpected.Load() {
		<-c.exited
		checkCrashFree(t, c.name, c.log)
		return
	}
	select {
	case <-c.exited:
		t.Errorf("%s exited before the test ended: %v\n%s", c.name, c.waitErr, c.log)
		return
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
		// Exiting by the signal itself is clean too (fcgiwrap does).
		var exit *exec.ExitError
		if c.waitErr != nil && !(errors.As(c.waitErr, &exit) && killedBy(exit, syscall.SIGTERM)) {
			t.Errorf("%s did not exit cleanly after SIGTERM: %v", c.name, c.waitErr)
		}
	case <-time.After(stopTimeout):
		t.Errorf("%s still running %v after SIGTERM; killing it", c.name, stopTimeout)
		_ = c.cmd.Process.Kill()
		<-c.exited
	}
	checkCrashFree(t, c.name, c.log)
	if t.Failed() {
		t.Logf("%s log:\n%s", c.name, c.log)
	}
}

// killedBy reports whether the process ended by signal sig.
func killedBy(exit *exec.ExitError, sig syscall.Signal) bool {
	ws, ok := exit.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == sig
}

// crashRE matches the lines a crashed or racy Go program writes.
var crashRE = regexp.MustCompile(`(?m)WARNING: DATA RACE|^panic: |^fatal error: |http: panic serving`)

// checkCrashFree fails the test if log shows a crash or a data race.
func checkCrashFree(t *testing.T, name string, log *logBuffer) {
	t.Helper()
	if line, ok := log.find(crashRE); ok {
		t.Errorf("%s log shows a crash or race: %s", name, line)
	}
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago, for
// programs that cannot pick their own (nginx).
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer ln.Close()
	return fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
}

// socketDir returns a short-named temporary folder for Unix sockets (whose
// paths are limited to about 100 bytes, too few for t.TempDir()), removed
// when the test ends.
func socketDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "lsgi-sock-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// lockedLog is a logBuffer writer safe for concurrent writers, for output
// that several goroutines produce (net/http/cgi's Stderr).
type lockedLog struct {
	mu sync.Mutex
	w  *lineWriter
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

var (
	embedOnce sync.Once
	embedPath string
	embedErr  error
)

// embedBinary builds examples/embed once per run, with -race when the
// tests run with it, next to the lsgi binary.
func embedBinary(t *testing.T) string {
	t.Helper()
	embedOnce.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			embedErr = err
			return
		}
		out := filepath.Join(filepath.Dir(binPath), "embed")
		args := []string{"build", "-o", out}
		if raceEnabled {
			args = append(args, "-race")
		}
		args = append(args, "./examples/embed")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		build := exec.CommandContext(ctx, goTool(), args...)
		build.Dir = root
		if msg, err := build.CombinedOutput(); err != nil {
			embedErr = fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, msg)
			return
		}
		embedPath = out
	})
	if embedErr != nil {
		t.Fatalf("build examples/embed: %v", embedErr)
	}
	return embedPath
}
