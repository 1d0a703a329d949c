package tests

// The attacks of issue 8, each against the real lsgi serve binary on
// 127.0.0.1: every numbered finding of the issue has a test here (or names
// the test elsewhere that covers it) that failed before the host was
// hardened. Each is bounded in time; those that bomb the host's memory run
// it under a memory limit of its own, and after each attack the host must
// answer a health request.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// health checks that the host still answers.
func health(t *testing.T, s *server, after string) {
	t.Helper()
	s.get(t, "/health").expect(t, "GET /health after "+after, http.StatusOK, "ok\n")
}

// memoryWrapper runs the host under a hard memory limit of its own, so
// that a bomb the fences miss kills the host (and fails the test) rather
// than the machine. A -race binary maps far more than any such limit
// leaves it; it runs without one, and every bomb here stops at a few GiB.
func memoryWrapper(t *testing.T, bytes string) []string {
	p, err := exec.LookPath("prlimit")
	if err != nil || raceEnabled {
		t.Log("running without a memory limit of the host's own (no prlimit, or a -race build)")
		return nil
	}
	return []string{p, "--data=" + bytes, "--"}
}

// Finding 1 (one line of Lua kills the process: string.rep, input:read) is
// TestBombsStayBounded in bounds_test.go.

// TestAttackCompileBombs is finding 2: deeply nested source, in loadstring
// and in plugin files at load and at hot reload, fails at once with the
// limit named instead of overflowing the Go stack or compiling for ever.
func TestAttackCompileBombs(t *testing.T) {
	s := startServerUnder(t, memoryWrapper(t, "2147483648"), nil, "attack", nil)
	for _, tc := range []struct {
		path    string
		refused bool // else it compiles, in linear time
	}{{"/not", true}, {"/do", true}, {"/minus", false}} {
		path := tc.path
		start := time.Now()
		r := s.get(t, "/calls"+path)
		r.expectStatus(t, "GET /calls"+path, http.StatusOK)
		if tc.refused && (!strings.HasPrefix(r.body, "false ") || !strings.Contains(r.body, "limit")) {
			t.Errorf("GET /calls%s: %q, want an error that names a limit", path, r.body)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("GET /calls%s took %v", path, d)
		}
		health(t, s, "/calls"+path)
	}
	// The same text as a plugin file, added while the host runs and then
	// edited: each load fails, the host stays.
	deep := map[string]string{
		"deep-not":   "return " + strings.Repeat("not ", 200000) + "x\n",
		"deep-paren": "return " + strings.Repeat("(", 100000) + "1" + strings.Repeat(")", 100000) + "\n",
		"deep-do":    strings.Repeat("do ", 100000) + strings.Repeat("end ", 100000) + "\nreturn function() end\n",
	}
	for name, src := range deep {
		for _, round := range []string{"load", "hot reload"} {
			mark := s.log.len()
			savePlain(t, filepath.Join(s.dir, name+".lua"), src+"-- "+round+"\n")
			awaitLogSince(t, s, mark, regexp.MustCompile(`msg="app (failed to load|reload failed[^"]*)" app=`+name+`.*limit`))
			health(t, s, name+" "+round)
		}
	}
}

// TestAttackGoCallsUnderDeadline is finding 4: one Go call ran far past
// its request's deadline. Each now ends at a limit, fast, over HTTP; a
// close() and a main chunk that run such a pattern too. (json.encode and
// template.render of a table shared at every level: TestBombsStayBounded.)
func TestAttackGoCallsUnderDeadline(t *testing.T) {
	s := startServer(t, "attack", "--timeout", "2s")
	for _, path := range []string{"/find", "/gsub", "/json"} {
		start := time.Now()
		r := s.get(t, "/calls"+path)
		r.expectStatus(t, "GET /calls"+path, http.StatusOK)
		if !strings.HasPrefix(r.body, "false ") || !strings.Contains(r.body, "limit") {
			t.Errorf("GET /calls%s: %q, want an error naming a limit", path, r.body)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("GET /calls%s took %v against a 2s deadline", path, d)
		}
		health(t, s, "/calls"+path)
	}

	start := time.Now()
	s.get(t, "/closing").expect(t, "GET /closing", http.StatusOK, "body\n")
	s.waitLog(t, regexp.MustCompile(`result:close\(\) failed.*app=closing.*pattern`))
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("close() with a backtracking pattern took %v", d)
	}
	health(t, s, "close()")

	mark := s.log.len()
	start = time.Now()
	savePlain(t, filepath.Join(s.dir, "mainpattern.lua"), `string.find(string.rep("a", 350), ".-.-.-b")
return function(e, sr) sr("200 OK", {}) return {"loaded"} end
`)
	awaitLogSince(t, s, mark, regexp.MustCompile(`msg="app failed to load" app=mainpattern.*pattern`))
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("a main chunk with a backtracking pattern took %v to fail", d)
	}
	health(t, s, "a main chunk's pattern")
}

// TestAttackStalledBodies is finding 3: 1,100 connections that declare a
// body and never send it, to a missing app, an app that failed to load
// and a busy one, against a host whose file limit is 1024. The host keeps
// answering, and closes every one of them within a bound.
func TestAttackStalledBodies(t *testing.T) {
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		t.Skip("prlimit not installed: apt-get install util-linux")
	}
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Cur < 2048 {
		t.Skipf("the test process may open only %d files; it needs 2048", rl.Cur)
	}
	s := startServerUnder(t, []string{prlimit, "--nofile=1024", "--"}, nil, "attack", nil,
		"--states", "1", "--queue-timeout", "1s", "--access-log", "off")
	go s.get(t, "/busy?hold")
	time.Sleep(200 * time.Millisecond)

	const n = 1100
	paths := []string{"/nothing", "/broken", "/busy"}
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range n {
		c, err := net.DialTimeout("tcp", s.addr, 5*time.Second)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		conns = append(conns, c)
		fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n", paths[i%len(paths)])
	}

	// The host answers while they stall: at once, or with a 503 from the
	// connection cap until the stalled connections are closed.
	deadline := time.Now().Add(20 * time.Second)
	for {
		r, err := s.do(mustRequest(t, s.base+"/health"))
		if err == nil && r.status == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /health with %d stalled connections: %v %v", n, r, err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Every stalled connection gets an answer (404, 500, 503, or the cap's
	// 503) and is closed by the host.
	var wg sync.WaitGroup
	var mu sync.Mutex
	open, statuses := 0, map[int]int{}
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.SetReadDeadline(time.Now().Add(20 * time.Second))
			br := bufio.NewReader(c)
			status := 0
			if resp, err := http.ReadResponse(br, nil); err == nil {
				status = resp.StatusCode
				io.Copy(io.Discard, resp.Body)
			}
			_, err := io.Copy(io.Discard, br)
			mu.Lock()
			defer mu.Unlock()
			statuses[status]++
			if errors.Is(err, os.ErrDeadlineExceeded) {
				open++
			}
		}()
	}
	wg.Wait()
	t.Logf("answers to the stalled connections, by status: %v", statuses)
	if open > 0 {
		t.Errorf("%d of %d stalled connections still open after 20 s", open, n)
	}
	if _, ok := s.log.find(regexp.MustCompile(`too many open files`)); ok {
		t.Errorf("the host ran out of file descriptors")
	}
	health(t, s, "the stalled connections")
}

func mustRequest(t *testing.T, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// TestAttackMemory is finding 5: memory taken one Lua operation at a time
// or kept across requests. The host, under a memory limit of its own,
// stops each bomb with 503 (or serves the far index in little memory),
// logs the app, and keeps serving.
func TestAttackMemory(t *testing.T) {
	s := startServerUnder(t, memoryWrapper(t, "1610612736"), nil, "attack", nil,
		"--max-memory", "256m", "--timeout", "60s", "--states", "2")
	fenced := func(app string) *regexp.Regexp {
		return regexp.MustCompile(`msg="memory fence: (stopped a request; its Lua state is discarded|discarded an idle Lua state that held memory)" app=` + app + ` `)
	}

	start := time.Now()
	s.get(t, "/memory/double").expectStatus(t, "GET /memory/double", http.StatusServiceUnavailable)
	s.waitLog(t, fenced("memory"))
	t.Logf("the doubled string stopped after %v", time.Since(start))
	health(t, s, "/memory/double")

	for _, path := range []string{"/memory/hoard", "/memory/coroutines"} {
		mark := s.log.len()
		for i := 0; i < 60 && countSince(s, mark, fenced("memory")) == 0; i++ {
			r := s.get(t, path)
			if r.status != http.StatusOK && r.status != http.StatusServiceUnavailable {
				t.Fatalf("GET %s: %d %q", path, r.status, r.body)
			}
		}
		awaitLogSince(t, s, mark, fenced("memory"))
		health(t, s, path)
	}

	start = time.Now()
	s.get(t, "/memory/sparse").expect(t, "GET /memory/sparse", http.StatusOK, "0\n")
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("t[6e7] = true took %v", d)
	}
	r := s.get(t, "/memory/arrays")
	if r.status != http.StatusServiceUnavailable && r.status != http.StatusOK {
		t.Errorf("GET /memory/arrays: %d %q", r.status, r.body)
	}
	health(t, s, "/memory/arrays")
	s.waitLog(t, regexp.MustCompile(`memory fence: the heap passed the limit`))
}

// TestAttackMemoryFenceBeforeWorkerMemory: under --workers the in-process
// fence sits below --worker-memory, so a bomb is stopped by it (503) and
// the worker lives on, rather than dying at its hard fence. (A worker that
// does die is restarted: TestWorkersMemoryBombRestartsTheWorker.)
func TestAttackMemoryFenceBeforeWorkerMemory(t *testing.T) {
	s := startServer(t, "attack", "--workers", "1", "--worker-memory", "768m", "--timeout", "60s")
	line := s.waitLog(t, regexp.MustCompile(`msg="memory fence: a third of the memory available" worker=\d+`))
	if m, err := strconv.ParseInt(logField(line, "max_memory"), 10, 64); err != nil || m <= 0 || m >= 768<<20 {
		t.Errorf("the worker's fence is not below --worker-memory 768m: %s", line)
	}
	if raceEnabled {
		// The race detector's shadow memory counts against the worker's
		// RLIMIT_DATA and reaches it long before the Go heap reaches the
		// fence (as in TestWorkersMemoryBombRestartsTheWorker).
		t.Log("the bomb is not sent to a -race worker")
		return
	}
	s.get(t, "/memory/double").expectStatus(t, "GET /memory/double", http.StatusServiceUnavailable)
	s.waitLog(t, regexp.MustCompile(`memory fence: stopped a request`))
	health(t, s, "/memory/double in a worker")
	if line, ok := s.log.find(regexp.MustCompile(`worker died`)); ok {
		t.Errorf("the worker died instead: %s", line)
	}
}

// TestAttackLogForging is finding 6: an app cannot write a line of the
// host's log of its own, and gopher-lua's _printregs is gone.
func TestAttackLogForging(t *testing.T) {
	s := startServer(t, "attack")
	s.get(t, "/forge").expect(t, "GET /forge", http.StatusOK, "nil\n")
	s.waitLog(t, regexp.MustCompile(`hello`))
	time.Sleep(100 * time.Millisecond) // let the app's three writes reach the log
	if line, ok := s.log.find(regexp.MustCompile(`^time=2001-01-01T00:00:00.000Z level=ERROR msg="forged by an app"`)); ok {
		t.Errorf("an app wrote a log line of its own: %s", line)
	}
	health(t, s, "/forge")
}

// TestAttackSlowPluginLoad is finding 7: a plugin whose main chunk loops
// does not delay an unrelated plugin's reload, and SIGTERM ends the host
// within --graceful-timeout while it still loops.
func TestAttackSlowPluginLoad(t *testing.T) {
	s := startServer(t, "attack", "--graceful-timeout", "2s")
	mark := s.log.len()
	savePlain(t, filepath.Join(s.dir, "loops.lua"), "while true do end\n")
	time.Sleep(200 * time.Millisecond) // its load is under way
	start := time.Now()
	savePlain(t, filepath.Join(s.dir, "health.lua"), textApp("ok again"))
	awaitLogSince(t, s, mark, reloadedRE("health"))
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("an unrelated plugin reloaded %v after the change, behind the looping one", d)
	}
	s.get(t, "/health").expect(t, "GET /health", http.StatusOK, "ok again")
	if countSince(s, mark, regexp.MustCompile(`app=loops`)) != 0 {
		t.Fatalf("the looping plugin finished loading too soon for the test")
	}

	start = time.Now()
	if err := s.terminate(t, syscall.SIGTERM); err != nil {
		t.Errorf("exit after SIGTERM: %v", err)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("SIGTERM took %v with --graceful-timeout 2s", d)
	}
}

// TestAttackSmallHoles is finding 8: a template linked to /etc/passwd is
// refused; a request with both Content-Length and Transfer-Encoding closes
// its connection, and the request smuggled after its chunked body is not
// served; with --isolate a single-file plugin cannot require a folder
// app's private module.
func TestAttackSmallHoles(t *testing.T) {
	s := startServer(t, "attack")

	t.Run("a template linked to /etc/passwd", func(t *testing.T) {
		page := filepath.Join(s.dir, "blog", "templates", "page.html")
		if err := os.Remove(page); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("/etc/passwd", page); err != nil {
			t.Skipf("symbolic links unavailable: %v", err)
		}
		r := s.get(t, "/blog/page")
		r.expectStatus(t, "GET /blog/page", http.StatusOK)
		if !strings.Contains(r.body, "refused") || !strings.Contains(r.body, "symbolic link leads out") || strings.Contains(r.body, "root:") {
			t.Errorf("GET /blog/page: %q, want the link refused", r.body)
		}
	})

	t.Run("Content-Length and Transfer-Encoding", func(t *testing.T) {
		c := s.dial(t)
		c.send("POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 44\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" +
			"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n")
		r := c.read("POST")
		if r.StatusCode != http.StatusOK || !r.Close {
			t.Errorf("status %d, Connection: close %v; want 200 and close", r.StatusCode, r.Close)
		}
		c.expectClosed("the connection of a request with conflicting framing")
		if _, ok := s.log.find(regexp.MustCompile(`/smuggled`)); ok {
			t.Errorf("the smuggled request was served")
		}
	})

	t.Run("a single file reaching into a folder app", func(t *testing.T) {
		s.get(t, "/shared").expect(t, "GET /shared without --isolate", http.StatusOK, "the blog's private module\n")
		iso := startServer(t, "attack", "--isolate")
		iso.get(t, "/shared").expect(t, "GET /shared with --isolate", http.StatusOK, "refused\n")
		iso.get(t, "/blog").expect(t, "GET /blog with --isolate", http.StatusOK, "the blog's private module\n")
	})
	health(t, s, "the small holes")
}
