package tests

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The development loop end to end: the lsgi binary's new and check
// commands, the --dev terminal and first-run pages, the browser refresh's
// event stream behind nginx, and lsgi.sleep streaming events with the
// server's CPU idle.

// runCommand runs the lsgi binary in dir and returns its exit code, stdout and
// stderr.
func runCommand(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(binPath, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GORACE=atexit_sleep_ms=0")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, stdout.String(), stderr.String()
	case errors.As(err, &exit):
		return exit.ExitCode(), stdout.String(), stderr.String()
	}
	t.Fatalf("lsgi %s: %v", strings.Join(args, " "), err)
	return 0, "", ""
}

// writeTree writes files (path: content) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		savePlain(t, filepath.Join(dir, filepath.FromSlash(name)), content)
	}
}

const checkGood = `return function(environ, start_response)
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  return {"fine"}
end
`

func TestCheckExitCodes(t *testing.T) {
	tests := []struct {
		desc  string
		files map[string]string
		code  int
		lines []string // expected lines of stdout, in any order
	}{
		{"a good folder", map[string]string{
			"good.lua": checkGood,
			"site/init.lua": `local Router = require "lsgi.router"
local Response = require "lsgi.response"
local r = Router()
r:get("/", function(e, sr) return Response.text("home")(e, sr) end)
return r
`,
			"api.lua": `return function(e, sr) sr("404 Not Found", {{"Content-Type", "text/plain"}}) return {"no"} end`,
		}, 0, []string{
			"ok   /api   plugins/api.lua  (GET /api/: 404)",
			"ok   /good  plugins/good.lua",
			"ok   /site  plugins/site/init.lua",
		}},
		{"a syntax error", map[string]string{
			"good.lua":   checkGood,
			"broken.lua": "return function(environ, start_response)\n  if then\nend\n",
		}, 1, []string{
			"FAIL /broken  plugins/broken.lua:2:9: near 'then': syntax error",
			"ok   /good    plugins/good.lua",
		}},
		{"a contract error", map[string]string{
			"bad.lua": `return function(environ, start_response)
  start_response("200 OK", {{"Content-Type", "text/plain"}, {"Transfer-Encoding", "chunked"}})
  return {"x"}
end
`,
		}, 1, []string{
			"FAIL /bad  plugins/bad.lua:2: lsgi.validator: headers[2]: Transfer-Encoding is a hop-by-hop header, which only the server may send",
		}},
		{"an error the error middleware catches", map[string]string{
			"caught.lua": `local errors = require "lsgi.middleware.errors"
return errors(function(environ, start_response)
  local order = nil
  return order.total
end)
`,
		}, 1, []string{
			"FAIL /caught  plugins/caught.lua:4: attempt to index a non-table object(nil) with key 'total'",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			dir := t.TempDir()
			writeTree(t, filepath.Join(dir, "plugins"), tc.files)
			code, stdout, stderr := runCommand(t, dir, "check")
			got := strings.Split(strings.TrimSpace(stdout), "\n")
			if code != tc.code || strings.Join(got, "\n") != strings.Join(tc.lines, "\n") {
				t.Errorf("lsgi check: exit %d, want %d\nstdout:\n%s\nwant:\n%s\nstderr:\n%s", code, tc.code, stdout, strings.Join(tc.lines, "\n"), stderr)
			}
			if _, err := os.Stat(filepath.Join(dir, "data")); err == nil {
				t.Errorf("lsgi check left a data folder behind")
			}
		})
	}
	dir := t.TempDir()
	if code, _, stderr := runCommand(t, dir, "check", "nowhere"); code == 0 || !strings.Contains(stderr, "nowhere") {
		t.Errorf("lsgi check of a missing folder: exit %d, %q", code, stderr)
	}
}

func TestNewPassesCheckAndServes(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{{"new", "hello2"}, {"new", "--router", "blog"}} {
		if code, stdout, stderr := runCommand(t, dir, args...); code != 0 || !strings.Contains(stdout, "created plugins/") {
			t.Fatalf("lsgi %s: exit %d\n%s%s", strings.Join(args, " "), code, stdout, stderr)
		}
	}
	before, err := os.ReadFile(filepath.Join(dir, "plugins", "blog", "init.lua"))
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"new", "blog"}, {"new", "--router", "hello2"}} {
		code, _, stderr := runCommand(t, dir, args...)
		if code != 1 || !strings.Contains(stderr, "already exists; nothing was written") {
			t.Errorf("lsgi %s over an app: exit %d, %q", strings.Join(args, " "), code, stderr)
		}
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "plugins", "blog", "init.lua")); !bytes.Equal(before, after) {
		t.Errorf("lsgi new changed an existing app")
	}
	if code, _, stderr := runCommand(t, dir, "new", ".hidden"); code != 2 || !strings.Contains(stderr, "cannot name an app") {
		t.Errorf("lsgi new .hidden: exit %d, %q", code, stderr)
	}

	code, stdout, stderr := runCommand(t, dir, "check")
	if code != 0 || !strings.Contains(stdout, "ok   /blog    plugins/blog/init.lua") || !strings.Contains(stdout, "ok   /hello2  plugins/hello2.lua") {
		t.Fatalf("lsgi check of new apps: exit %d\n%s%s", code, stdout, stderr)
	}

	s := startServerAt(t, filepath.Join(dir, "plugins"), "--dev")
	if r := s.get(t, "/hello2?name=%3Cyou%3E"); r.status != 200 || !strings.Contains(r.body, "<h1>Hello, &lt;you&gt;!</h1>") {
		t.Errorf("/hello2: %d %q", r.status, r.body)
	}
	if r := s.get(t, "/blog"); r.status != 200 || !strings.Contains(r.body, "Hello, world!") || !strings.Contains(r.body, `href="/blog/static/style.css"`) {
		t.Errorf("/blog: %d %q", r.status, r.body)
	}
	if r := s.get(t, "/blog/static/style.css"); r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/css") {
		t.Errorf("/blog/static/style.css: %d %q", r.status, r.header.Get("Content-Type"))
	}
	if r := s.get(t, "/blog/hello/you"); r.status != 200 || r.body != `{"hello":"you"}` {
		t.Errorf("/blog/hello/you: %d %q", r.status, r.body)
	}
}

// devBoom fails at line 2, called from line 5.
const devBoom = `local function total(order)
  return order.items.count
end
return function(environ, start_response)
  return {total({})}
end
`

// TestDevTerminalAndFirstRun serves a folder with --dev: the log gives the
// apps' addresses, a traceback over several lines with the toolkit's
// frames left out, and why a path found no app; / lists the apps.
func TestDevTerminalAndFirstRun(t *testing.T) {
	s := startServerFiles(t, "", map[string]string{"hello.lua": checkGood, "boom.lua": devBoom}, "--dev")
	s.waitLog(t, regexp.MustCompile(`msg="app at http://127\.0\.0\.1:`+s.port+`/hello" app=hello`))
	s.waitLog(t, regexp.MustCompile(`msg="the apps are listed at http://127\.0\.0\.1:`+s.port+`/"`))

	if r := s.get(t, "/boom"); r.status != 500 || !strings.Contains(r.body, "raised an error") {
		t.Errorf("/boom: %d %q", r.status, r.body)
	}
	line := s.waitLog(t, regexp.MustCompile(`msg="app error" app=boom`))
	if strings.Contains(line, "traceback=") {
		t.Errorf("the traceback is still an attribute of the line: %s", line)
	}
	s.waitLog(t, regexp.MustCompile(`^    at .*boom\.lua:2: in function 'total'$`))
	s.waitLog(t, regexp.MustCompile(`^    at .*boom\.lua:5: in function 'app'$`))
	s.waitLog(t, regexp.MustCompile(`^    \(\d+ frames of the toolkit and Go not shown\)$`))

	r := s.request(t, "GET", "/", nil, "Accept", "application/json")
	var ix struct{ Apps []struct{ Name, URL string } }
	if err := json.Unmarshal([]byte(r.body), &ix); err != nil || r.status != 200 || len(ix.Apps) != 2 || ix.Apps[1].URL != "/hello" {
		t.Errorf("/ as JSON: %d %q (%v)", r.status, r.body, err)
	}
	if r := s.get(t, "/helo"); r.status != 404 || !strings.Contains(r.body, "Mounted: /boom, /hello") {
		t.Errorf("/helo: %d %q", r.status, r.body)
	}
	s.waitLog(t, regexp.MustCompile(`msg="no app serves this path" path=/helo why="No app is mounted at this path\. Mounted: /boom, /hello\.`))
}

// TestNoDevTerminalWithoutDev: without --dev the log keeps one line per
// error, and / is a plain 404.
func TestNoDevTerminalWithoutDev(t *testing.T) {
	s := startServerFiles(t, "", map[string]string{"boom.lua": devBoom})
	if r := s.get(t, "/boom"); r.status != 500 || r.body != "500 Internal Server Error\n" {
		t.Errorf("/boom: %d %q", r.status, r.body)
	}
	s.waitLog(t, regexp.MustCompile(`msg="app error" app=boom .*traceback="stack traceback:\\n`))
	s.get(t, "/").expect(t, "/ without --dev", 404, "404 Not Found\n")
}

// readSSE reads the next event of a stream: its data line.
func readSSE(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("the event stream ended: %v", err)
		}
		if data, ok := strings.CutPrefix(line, "data: "); ok {
			return strings.TrimSpace(data)
		}
	}
}

// TestDevRefreshBehindNginx serves --dev --root /app behind nginx's
// proxy_pass: the page's script names the stream under /app, and the
// stream's events pass through nginx as they happen.
func TestDevRefreshBehindNginx(t *testing.T) {
	s := startServerFiles(t, "", map[string]string{"page.lua": browserPage("one")}, "--dev", "--root", "/app")
	n := startNginx(t, proxyLocation("/app", s.addr), false)
	client := &http.Client{Timeout: 30 * time.Second}
	req, _ := http.NewRequest("GET", n.base+"/app/page", nil)
	req.Header.Set("Accept", "text/html,*/*;q=0.8") // as a browser loading the page
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var page bytes.Buffer
	page.ReadFrom(resp.Body)
	resp.Body.Close()
	if !strings.Contains(page.String(), `new EventSource("/app/.lsgi/events?app=page")`) {
		t.Fatalf("the page through nginx has no refresh script under /app:\n%s", page.String())
	}

	req, _ = http.NewRequest("GET", n.base+"/app/.lsgi/events?app=page", nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err = (&http.Client{}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	events := make(chan string, 4)
	go func() {
		r := bufio.NewReader(resp.Body)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				close(events)
				return
			}
			if data, ok := strings.CutPrefix(line, "data: "); ok {
				events <- data
			}
		}
	}()
	next := func(what string) string {
		t.Helper()
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatalf("%s: the stream ended", what)
			}
			return ev
		case <-time.After(reloadTimeout):
			t.Fatalf("%s: no event through nginx within %v", what, reloadTimeout)
		}
		return ""
	}
	if ev := next("greeting"); !strings.Contains(ev, `"kind":"hello"`) {
		t.Errorf("greeting %s", ev)
	}
	saveAtomic(t, filepath.Join(s.dir, "page.lua"), browserPage("two"))
	if ev := next("after a save"); !strings.Contains(ev, `"kind":"reloaded","app":"page"`) {
		t.Errorf("after a save: %s", ev)
	}
}

// cpuTime is the CPU time a process has used so far, from /proc.
func cpuTime(t *testing.T, pid int) time.Duration {
	t.Helper()
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Skipf("no /proc to measure CPU time: %v", err)
	}
	// The command name (field 2) may hold spaces: count from its ')'.
	fields := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+2:]))
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("cannot read %s", data)
	}
	const ticks = 100 // USER_HZ, the unit of /proc/PID/stat on Linux
	return time.Duration(utime+stime) * time.Second / ticks
}

// busyClock is examples/clock with its wait done the wrong way, spinning
// until the time is up: what the CPU measure of TestSSEWaitsIdle must tell
// from lsgi.sleep.
const busyClock = `return function(environ, start_response)
  start_response("200 OK", {{"Content-Type", "text/event-stream"}})
  local n = 0
  return coroutine.wrap(function()
    while n < 3 do
      n = n + 1
      coroutine.yield("id: " .. n .. "\ndata: tick\n\n")
      if n < 3 then
        local done = os.clock() + 0.1
        while os.clock() < done do end
      end
    end
  end)
end
`

// TestSSEWaitsIdle streams 3 events 100 ms apart from examples/clock,
// which waits with lsgi.sleep: each event arrives as it is sent, and the
// server uses next to no CPU between the first and the last. The same
// stream with a busy wait uses the whole 200 ms, which shows that the
// measure can tell.
func TestSSEWaitsIdle(t *testing.T) {
	s := startServerFiles(t, "", map[string]string{"clock/init.lua": exFile(t, "clock/init.lua"), "busy.lua": busyClock})
	measure := func(path string) (cpu time.Duration, gaps []time.Duration) {
		t.Helper()
		resp, err := s.client.Get(s.base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ct != "text/event-stream" {
			t.Fatalf("%s: %d %q", path, resp.StatusCode, ct)
		}
		r := bufio.NewReader(resp.Body)
		readSSE(t, r)
		first, start := time.Now(), cpuTime(t, s.cmd.Process.Pid)
		last := first
		for range 2 {
			readSSE(t, r)
			gaps = append(gaps, time.Since(last))
			last = time.Now()
		}
		return cpuTime(t, s.cmd.Process.Pid) - start, gaps
	}
	cpu, gaps := measure("/clock/events?every=0.1&count=3")
	for i, gap := range gaps {
		if gap < 80*time.Millisecond {
			t.Errorf("event %d came %v after the one before, not 100ms", i+2, gap)
		}
	}
	busy, _ := measure("/busy")
	t.Logf("CPU between the first and the third event: %v with lsgi.sleep, %v with a busy wait", cpu, busy)
	if cpu > 50*time.Millisecond {
		t.Errorf("the server used %v of CPU while the stream slept 200ms", cpu)
	}
	// A spinning wait gets what CPU the machine spares it: all of 200ms
	// on a quiet one, less on a busy one, but never next to nothing.
	if busy < 60*time.Millisecond || busy < 3*cpu {
		t.Errorf("a busy wait of 200ms measured %v of CPU, against %v for lsgi.sleep: the measure cannot tell them apart", busy, cpu)
	}
}

// TestCallTimeout: lsgi call --timeout stops a runaway app at once.
func TestCallTimeout(t *testing.T) {
	dir := t.TempDir()
	savePlain(t, filepath.Join(dir, "spin.lua"), "return function() while true do end end\n")
	start := time.Now()
	code, stdout, _ := runCommand(t, dir, "call", "--timeout", "300ms", "spin.lua")
	if code != 0 || !strings.HasPrefix(stdout, "HTTP/1.1 504") || time.Since(start) > 20*time.Second {
		t.Errorf("lsgi call --timeout 300ms: exit %d after %v:\n%s", code, time.Since(start), stdout)
	}
}

// stayClock streams 4 events 150ms apart without moving its deadline: its
// lsgi.sleep returns false once the deadline would come first, and the
// stream ends there, cleanly.
const stayClock = `local lsgi = require "lsgi"
return function(environ, start_response)
  start_response("200 OK", {{"Content-Type", "text/event-stream"}})
  return coroutine.wrap(function()
    for i = 1, 4 do
      coroutine.yield("data: " .. i .. "\n\n")
      if i < 4 and not lsgi.sleep(0.15) then return end
    end
  end)
end
`

// TestStreamOutlivesTimeout streams for twice --timeout: the app moves its
// deadline as it goes (examples/clock), and the transport's write deadline
// moves with it. A stream that does not move it ends at --timeout.
func TestStreamOutlivesTimeout(t *testing.T) {
	s := startServerFiles(t, "", map[string]string{"clock/init.lua": exFile(t, "clock/init.lua"), "stay.lua": stayClock},
		"--timeout", "250ms", "--max-stream-time", "1m")
	r := s.get(t, "/clock/events?every=0.15&count=4")
	if r.status != 200 || r.bodyErr != nil || strings.Count(r.body, "data: ") != 4 {
		t.Errorf("a 450ms stream under --timeout 250ms: %d, %q (%v)", r.status, r.body, r.bodyErr)
	}
	r = s.get(t, "/stay")
	if r.status != 200 || r.bodyErr != nil || r.body != "data: 1\n\ndata: 2\n\n" {
		t.Errorf("a stream that keeps its 250ms deadline: %d, %q (%v), want 2 events and a clean end", r.status, r.body, r.bodyErr)
	}
}
