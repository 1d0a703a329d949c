package tests

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
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

const (
	startTimeout = 15 * time.Second // until "Listening at" appears
	stopTimeout  = 15 * time.Second // from SIGTERM to exit
	logTimeout   = 10 * time.Second // for an expected log line
)

// server is one running `lsgi serve` process.
type server struct {
	t      *testing.T
	cmd    *exec.Cmd
	dir    string // the plugin folder it serves
	addr   string // 127.0.0.1:PORT
	port   string
	base   string // http://127.0.0.1:PORT
	log    *logBuffer
	client *http.Client

	exited      chan struct{} // closed when the process has exited
	waitErr     error         // set before exited is closed
	terminating atomic.Bool   // set once the test has sent SIGTERM itself
	crashes     bool          // a worker process is meant to crash: its runtime's last words are no failure
}

var listeningRE = regexp.MustCompile(`Listening at: http://(127\.0\.0\.1:(\d+))(?:"|\s|$)`)

// testEngine is the HTTP engine the suite runs lsgi serve with:
// LSGI_TEST_ENGINE (fast or std), or the binary's default when it is unset
// (set by TestMain), which then runs the suite again on the other engine.
var testEngine = os.Getenv("LSGI_TEST_ENGINE")

// engineFlags are the flags that select testEngine.
func engineFlags() []string { return []string{"--engine", testEngine} }

// engineName is testEngine as lsgi serve names it in its log and status.
func engineName() string {
	if testEngine == "std" {
		return "net/http"
	}
	return testEngine
}

var defaultEngineRE = regexp.MustCompile(`-engine [^\n]*\n[^\n]*\(default "(\w+)"\)`)

// defaultEngine reads lsgi serve's default engine from its usage text.
func defaultEngine() (string, error) {
	out, _ := exec.Command(binPath, "serve", "--help").CombinedOutput()
	m := defaultEngineRE.FindSubmatch(out)
	if m == nil {
		return "", fmt.Errorf("no default of -engine in lsgi serve --help:\n%s", out)
	}
	return string(m[1]), nil
}

// startServer copies testdata/<suite> into a temporary folder and serves it
// with `lsgi serve --bind 127.0.0.1:0 FLAGS... DIR`. The server is stopped
// when the test ends.
func startServer(t *testing.T, suite string, flags ...string) *server {
	t.Helper()
	return startServerFiles(t, suite, nil, flags...)
}

// startServerFiles is startServer with extra files (path: content) added to
// the copy: files that a checkout might not keep, such as editor leftovers.
func startServerFiles(t *testing.T, suite string, files map[string]string, flags ...string) *server {
	t.Helper()
	return startServerUnder(t, nil, nil, suite, files, flags...)
}

// startServerUnder is startServerFiles with the binary run through a
// wrapper command (prlimit, say) and with extra environment variables.
func startServerUnder(t *testing.T, wrapper, env []string, suite string, files map[string]string, flags ...string) *server {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "plugins")
	if suite == "" { // only the files given
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	} else if err := os.CopyFS(dir, os.DirFS(filepath.Join("testdata", suite))); err != nil {
		t.Fatalf("copy fixtures %s: %v", suite, err)
	}
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return startServerAtUnder(t, wrapper, env, dir, flags...)
}

// startServerAt serves the plugins folder dir as it is, from its parent
// folder (where ./data goes). The server is stopped when the test ends.
func startServerAt(t *testing.T, dir string, flags ...string) *server {
	t.Helper()
	return startServerAtUnder(t, nil, nil, dir, flags...)
}

// startServerAtUnder is startServerAt with a wrapper command and extra
// environment variables, as in startServerUnder.
func startServerAtUnder(t *testing.T, wrapper, env []string, dir string, flags ...string) *server {
	t.Helper()
	return startServerNamed(t, wrapper, env, dir, dir, flags...)
}

// startServerNamed is startServerAtUnder with the folder named arg on the
// command line: "plugins" rather than its full path, say, as a user
// names it (the server runs in dir's parent folder).
func startServerNamed(t *testing.T, wrapper, env []string, dir, arg string, flags ...string) *server {
	t.Helper()
	args := append([]string{"serve", "--bind", "127.0.0.1:0"}, engineFlags()...)
	args = append(args, flags...)
	args = append(args, arg)

	s := &server{
		t:      t,
		dir:    dir,
		log:    newLogBuffer(),
		exited: make(chan struct{}),
	}
	stdout := &lineWriter{buf: s.log}
	stderr := &lineWriter{buf: s.log}
	argv := append(append(append([]string{}, wrapper...), binPath), args...)
	s.cmd = exec.Command(argv[0], argv[1:]...)
	s.cmd.Dir = filepath.Dir(dir)
	s.cmd.Env = append(os.Environ(), env...)
	if os.Getenv("GORACE") == "" {
		// A -race binary sleeps a second at exit unless told otherwise.
		s.cmd.Env = append(s.cmd.Env, "GORACE=atexit_sleep_ms=0")
	}
	s.cmd.Stdout = stdout
	s.cmd.Stderr = stderr
	s.cmd.WaitDelay = 5 * time.Second
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start lsgi: %v", err)
	}
	go func() {
		err := s.cmd.Wait()
		stdout.flush()
		stderr.flush()
		s.waitErr = err
		close(s.exited)
	}()
	t.Cleanup(s.stop)

	_, m, ok := s.log.waitMatch(listeningRE, startTimeout, s.exited)
	if !ok {
		select {
		case <-s.exited:
			t.Fatalf("lsgi %s exited before listening (%v)\n%s", strings.Join(args, " "), s.waitErr, s.log)
		default:
			t.Fatalf("lsgi %s: no %q line within %v\n%s", strings.Join(args, " "), "Listening at: http://127.0.0.1:PORT", startTimeout, s.log)
		}
	}
	s.addr, s.port = m[1], m[2]
	s.base = "http://" + s.addr
	s.client = &http.Client{
		Transport: &http.Transport{
			DialContext:           (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			DisableCompression:    true,
			MaxIdleConnsPerHost:   8,
			ResponseHeaderTimeout: 20 * time.Second,
		},
		Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	return s
}

// stop sends SIGTERM, waits for the process to exit, and checks that it
// exited cleanly and logged no crash or data race.
func (s *server) stop() {
	t := s.t
	if s.client != nil {
		s.client.CloseIdleConnections()
	}
	select {
	case <-s.exited:
		if !s.terminating.Load() {
			t.Errorf("lsgi exited before the test ended: %v", s.waitErr)
		}
	default:
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
			if s.waitErr != nil {
				t.Errorf("lsgi did not exit cleanly after SIGTERM: %v", s.waitErr)
			}
		case <-time.After(stopTimeout):
			t.Errorf("lsgi still running %v after SIGTERM; killing it", stopTimeout)
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
	}
	for _, bad := range []*regexp.Regexp{
		regexp.MustCompile(`WARNING: DATA RACE`),
		regexp.MustCompile(`^panic: `),
		regexp.MustCompile(`^fatal error: `),
		regexp.MustCompile(`http: panic serving`),
	} {
		if s.crashes && !strings.Contains(bad.String(), "RACE") {
			continue
		}
		if line, ok := s.log.find(bad); ok {
			t.Errorf("lsgi log shows a crash or race: %s", line)
		}
	}
	if t.Failed() {
		t.Logf("lsgi log (%s):\n%s", s.dir, s.log)
	}
}

// terminate sends sig (SIGTERM or SIGINT) and waits for the process to
// exit; it returns the exit error.
func (s *server) terminate(t *testing.T, sig os.Signal) error {
	t.Helper()
	s.terminating.Store(true)
	s.client.CloseIdleConnections()
	if err := s.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("%v: %v", sig, err)
	}
	select {
	case <-s.exited:
		return s.waitErr
	case <-time.After(stopTimeout):
		t.Fatalf("lsgi still running %v after %v", stopTimeout, sig)
		return nil
	}
}

// waitLog waits until a log line matches re and returns the line.
func (s *server) waitLog(t *testing.T, re *regexp.Regexp) string {
	t.Helper()
	line, _, ok := s.log.waitMatch(re, logTimeout, nil)
	if !ok {
		t.Fatalf("no log line matching %q within %v", re, logTimeout)
	}
	return line
}

// logBuffer collects the server's output lines; it is safe for concurrent
// use.
type logBuffer struct {
	mu      sync.Mutex
	lines   []string
	changed chan struct{} // closed and replaced at each new line
}

func newLogBuffer() *logBuffer {
	return &logBuffer{changed: make(chan struct{})}
}

func (b *logBuffer) add(line string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lines = append(b.lines, line)
	close(b.changed)
	b.changed = make(chan struct{})
}

// snapshot returns the lines so far and a channel closed at the next one.
func (b *logBuffer) snapshot() ([]string, <-chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.lines[:len(b.lines):len(b.lines)], b.changed
}

// waitMatch waits up to timeout for a line matching re and returns the
// line and its submatches. It gives up early when stop is closed.
func (b *logBuffer) waitMatch(re *regexp.Regexp, timeout time.Duration, stop <-chan struct{}) (string, []string, bool) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	seen := 0
	for {
		lines, changed := b.snapshot()
		for ; seen < len(lines); seen++ {
			if m := re.FindStringSubmatch(lines[seen]); m != nil {
				return lines[seen], m, true
			}
		}
		select {
		case <-changed:
		case <-stop:
			// The last lines may have arrived with the exit.
			lines, _ = b.snapshot()
			for ; seen < len(lines); seen++ {
				if m := re.FindStringSubmatch(lines[seen]); m != nil {
					return lines[seen], m, true
				}
			}
			return "", nil, false
		case <-deadline.C:
			return "", nil, false
		}
	}
}

// find returns the first line matching re.
func (b *logBuffer) find(re *regexp.Regexp) (string, bool) {
	lines, _ := b.snapshot()
	for _, l := range lines {
		if re.MatchString(l) {
			return l, true
		}
	}
	return "", false
}

// count returns the number of lines matching re.
func (b *logBuffer) count(re *regexp.Regexp) int {
	lines, _ := b.snapshot()
	n := 0
	for _, l := range lines {
		if re.MatchString(l) {
			n++
		}
	}
	return n
}

// len returns the number of lines so far.
func (b *logBuffer) len() int {
	lines, _ := b.snapshot()
	return len(lines)
}

// since returns the lines from index i on, and the current line count.
func (b *logBuffer) since(i int) ([]string, int) {
	lines, _ := b.snapshot()
	if i > len(lines) {
		i = len(lines)
	}
	return lines[i:], len(lines)
}

func (b *logBuffer) String() string {
	lines, _ := b.snapshot()
	const max = 300
	var sb strings.Builder
	if len(lines) > max {
		fmt.Fprintf(&sb, "... (%d earlier lines)\n", len(lines)-max)
		lines = lines[len(lines)-max:]
	}
	for _, l := range lines {
		sb.WriteString("    ")
		sb.WriteString(l)
		sb.WriteByte('\n')
	}
	return sb.String()
}

// lineWriter splits what a process writes into lines for a logBuffer.
type lineWriter struct {
	buf     *logBuffer
	pending []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.pending = append(w.pending, p...)
	for {
		i := bytes.IndexByte(w.pending, '\n')
		if i < 0 {
			break
		}
		w.buf.add(string(w.pending[:i]))
		w.pending = w.pending[i+1:]
	}
	return len(p), nil
}

// flush adds a last line that had no newline.
func (w *lineWriter) flush() {
	if len(w.pending) > 0 {
		w.buf.add(string(w.pending))
		w.pending = nil
	}
}

var idCounter atomic.Int64

// newID returns an identifier unique in this test run, for the id=<id>
// markers that fixtures write to the log.
func newID() string {
	return fmt.Sprintf("i%d", idCounter.Add(1))
}

// idRE matches a log line holding "<what> id=<id>" and no longer id.
func idRE(what, id string) *regexp.Regexp {
	return regexp.MustCompile(regexp.QuoteMeta(what+" id="+id) + `\b`)
}
