package tests

import (
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ignoredFiles are valid apps under names the host must not mount: hidden
// files and folders and editor leftovers.
var ignoredFiles = map[string]string{
	".hidden.lua":         helloApp,
	".hiddendir/init.lua": helloApp,
	"ok2.lua~":            helloApp,
	"ok3.lua.swp":         helloApp,
	"4913":                "",
}

const helloApp = `return function(environ, start_response)
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  return {"must not be served"}
end
`

// TestErrors checks 404 for unmounted paths, 500 for an app error before
// the headers, an aborted response for one after, and that no app error
// stops the server.
func TestErrors(t *testing.T) {
	s := startServerFiles(t, "errors", ignoredFiles, "--states", "1")

	t.Run("404", func(t *testing.T) {
		for _, path := range []string{"/", "/nope", "/oks", "/okx/y", "/.hidden", "/.hiddendir", "/ok2", "/ok3", "/4913", "/notes"} {
			if r := s.get(t, path); r.status != http.StatusNotFound {
				t.Errorf("GET %s: status %d (body %q), want 404", path, r.status, r.body)
			}
		}
		s.get(t, "/ok/sub/path").expect(t, "GET /ok/sub/path", http.StatusOK, "ok")
	})

	t.Run("malformed request: 400", func(t *testing.T) {
		c := s.dial(t)
		c.send(rawRequest("GET", "/ok/%zz", nil, ""))
		if r := c.read("GET"); r.StatusCode != http.StatusBadRequest {
			t.Errorf("status %d, want 400", r.StatusCode)
		}
	})

	t.Run("error before headers gives 500, the log has it", func(t *testing.T) {
		id := newID()
		mark := s.log.len()
		r := s.get(t, "/boom?id="+id)
		r.expectStatus(t, "GET /boom", http.StatusInternalServerError)
		if strings.Contains(r.body, "secret") || strings.Contains(r.body, "boom.lua") || strings.Contains(strings.ToLower(r.body), "traceback") {
			t.Errorf("500 body %q shows the Lua error", r.body)
		}
		s.waitLog(t, regexp.MustCompile(`secret-boom-`+id+`\b`))
		lines, _ := s.log.since(mark)
		traceback := false
		for _, l := range lines {
			traceback = traceback || strings.Contains(strings.ToLower(l), "traceback")
		}
		if !traceback {
			t.Errorf("no traceback logged with the error")
		}
		s.get(t, "/ok").expect(t, "GET /ok after the error", http.StatusOK, "ok")
		s.get(t, "/boom?id="+newID()).expectStatus(t, "GET /boom again", http.StatusInternalServerError)
	})

	t.Run("error value whose __tostring raises", func(t *testing.T) {
		s.get(t, "/badtostring").expectStatus(t, "GET /badtostring", http.StatusInternalServerError)
		s.get(t, "/ok").expect(t, "GET /ok after the error", http.StatusOK, "ok")
	})

	for _, tc := range []struct {
		name, path string
		chunked    bool
	}{
		{"error after headers aborts a chunked body", "/late", true},
		{"error after headers aborts a Content-Length body", "/latecl", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := s.dial(t)
			c.send(rawRequest("GET", tc.path, nil, ""))
			r := c.read("GET")
			if r.StatusCode != http.StatusOK {
				t.Errorf("status %d, want the 200 already sent", r.StatusCode)
			}
			if isChunked(r.Response) != tc.chunked {
				t.Errorf("Transfer-Encoding %q, Content-Length %q: chunked should be %v", r.TransferEncoding, r.Header.Get("Content-Length"), tc.chunked)
			}
			if r.body != "partial" || r.bodyErr == nil {
				t.Errorf("body %q (error %v), want \"partial\" and then an aborted body", r.body, r.bodyErr)
			}
			c.expectClosed("after the abort")

			g := s.get(t, tc.path)
			if g.bodyErr == nil {
				t.Errorf("Go client read %q without an error, want an aborted body", g.body)
			}
			s.get(t, "/ok").expect(t, "GET /ok after the abort", http.StatusOK, "ok")
		})
	}
}

// TestAppErrors checks app errors of many kinds on one Lua state
// (--states 1): before the headers each gives a 500 without the stored
// headers, after them the response is aborted, and the next request on the
// same plugin succeeds.
func TestAppErrors(t *testing.T) {
	s := startServer(t, "errors", "--states", "1")
	for _, tc := range []struct {
		name    string
		aborted bool // after the headers: 200 and an aborted body
	}{
		{"raise", false},
		{"raise-nil", false},
		{"raise-table", false},
		{"raise-after-start", false},
		{"stack-overflow", false},
		{"yield-outside-coroutine", false},
		{"empty-then-raise", false},
		{"raise-mid-stream", true},
		{"write-empty-then-raise", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, s.base+"/flaky/"+tc.name, nil)
			r, err := s.do(req)
			if err != nil {
				t.Fatalf("no response at all (%v), want a status line first", err)
			}
			if tc.aborted {
				if r.status != http.StatusOK || r.bodyErr == nil {
					t.Errorf("got %d %q (body error %v), want 200 and an aborted body", r.status, r.body, r.bodyErr)
				}
			} else {
				r.expectStatus(t, "GET /flaky/"+tc.name, http.StatusInternalServerError)
				if v := r.header.Values("X-Dropped"); len(v) > 0 {
					t.Errorf("X-Dropped %q: the stored headers went out with the 500", v)
				}
				if strings.Contains(r.body, "failure") {
					t.Errorf("500 body %q shows the Lua error", r.body)
				}
			}
			s.get(t, "/flaky/ok").expect(t, "GET /flaky/ok afterwards", http.StatusOK, "fine")
		})
	}
}

// TestErrorStream checks lsgi.errors and print: each write reaches the log
// tagged with the app, and written newlines cannot forge log lines.
func TestErrorStream(t *testing.T) {
	s := startServer(t, "errors")
	id := newID()
	s.get(t, "/logs?id="+id).expect(t, "GET /logs", http.StatusOK, "logged")
	for _, what := range []string{"WRITTEN", "PARTS", "BYTES", "INJECT", "PRINTED"} {
		line := s.waitLog(t, idRE(what, id))
		if !strings.Contains(line, "app=logs") {
			t.Errorf("%s line %q is not tagged app=logs", what, line)
		}
	}
	if line := s.waitLog(t, idRE("PARTS", id)); !strings.Contains(line, "second part") {
		t.Errorf("write(a, b, c) logged %q, want all its arguments", line)
	}
	if line, ok := s.log.find(regexp.MustCompile(`^FAKE LOG LINE`)); ok {
		t.Errorf("a newline written by the app started a log line of its own: %q", line)
	}
}

// TestBrokenPlugins checks that plugins which do not compile, raise while
// loading or return no app are reported at startup with file and line,
// answer 500 "failed to load", and do not stop the others.
func TestBrokenPlugins(t *testing.T) {
	s := startServer(t, "errors")
	for _, tc := range []struct {
		path string
		log  *regexp.Regexp // what the startup log must hold
	}{
		{"/broken", regexp.MustCompile(`broken\.lua:5\b`)},
		{"/loaderror", regexp.MustCompile(`loaderror\.lua:2\b`)},
		{"/noapp", regexp.MustCompile(`noapp\.lua:\d+\b`)},
		{"/notcallable", regexp.MustCompile(`notcallable\.lua:\d+\b`)},
	} {
		t.Run(tc.path, func(t *testing.T) {
			// Startup reports come before "Listening at".
			if _, ok := s.log.find(tc.log); !ok {
				t.Errorf("the startup log has no line matching %q", tc.log)
			}
			r := s.get(t, tc.path)
			r.expectStatus(t, "GET "+tc.path, http.StatusInternalServerError)
			if !strings.Contains(r.body, "failed to load") {
				t.Errorf("body %q, want it to say %q", r.body, "failed to load")
			}
			s.get(t, tc.path+"/x").expectStatus(t, "GET "+tc.path+"/x", http.StatusInternalServerError)
		})
	}
	s.get(t, "/ok").expect(t, "GET /ok beside the broken plugins", http.StatusOK, "ok")
}

// TestBusy checks that requests run in parallel on separate Lua states,
// and the 503: with two states per plugin, a third request that finds both
// busy longer than --queue-timeout gets 503 with Retry-After, while other
// plugins keep answering.
func TestBusy(t *testing.T) {
	s := startServer(t, "busy", "--states", "2", "--queue-timeout", "300ms")

	type result struct {
		r   *response
		err error
	}
	slow := []string{newID(), newID()}
	done := make(chan result, len(slow))
	for _, id := range slow {
		go func() {
			req, _ := http.NewRequest(http.MethodGet, s.base+"/slow?id="+id, nil)
			r, err := s.do(req)
			done <- result{r, err}
		}()
	}
	// Both run at once: each logs its start while the other is still busy.
	for _, id := range slow {
		s.waitLog(t, idRE("SLOW START", id))
	}
	if len(done) > 0 {
		t.Fatalf("a slow request ended before both had started: they did not run in parallel")
	}

	queued := newID()
	r := s.get(t, "/slow?quick&id="+queued)
	if len(done) > 0 {
		t.Fatalf("a slow request ended before the queued one was answered; cannot tell a 503")
	}
	if r.status != http.StatusServiceUnavailable {
		t.Errorf("queued request: status %d (body %q), want 503", r.status, r.body)
	}
	if ra := r.header.Get("Retry-After"); ra == "" {
		t.Errorf("503 without Retry-After")
	}
	if n := s.log.count(idRE("SLOW START", queued)); n != 0 {
		t.Errorf("the queued request ran the app")
	}
	s.get(t, "/fast").expect(t, "GET /fast while /slow is busy", http.StatusOK, "fast")

	for range slow {
		select {
		case res := <-done:
			if res.err != nil {
				t.Fatalf("slow request: %v", res.err)
			}
			res.r.expect(t, "slow request", http.StatusOK, "slow done")
		case <-time.After(20 * time.Second):
			t.Fatalf("slow request did not end within 20 s")
		}
	}
	s.get(t, "/slow?quick&id="+newID()).expect(t, "GET /slow once free", http.StatusOK, "slow done")
}

// TestHalfClose checks a client that shuts down its sending side after a
// complete request, as `nc -N` does. It is still reading: if it gets a
// response, that must be the app's, never one the app did not give.
func TestHalfClose(t *testing.T) {
	s := startServer(t, "busy")
	c := s.dial(t)
	c.send(rawRequest("GET", "/slow?short&id="+newID(), nil, ""))
	if err := c.conn.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatalf("half-close: %v", err)
	}
	resp, err := http.ReadResponse(c.r, &http.Request{Method: "GET"})
	if err != nil {
		t.Logf("no response after the half-close (%v)", err)
		return
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(body) != "slow done" || err != nil {
		t.Errorf("got %d %q (error %v, Content-Length %q), want the app's 200 \"slow done\" or no response", resp.StatusCode, body, err, resp.Header.Get("Content-Length"))
	}
}

// TestTimeout checks --timeout: an endless loop before the headers gives
// 504, one after them aborts the response, close() still runs, the state
// is replaced, and the next request on the plugin succeeds.
func TestTimeout(t *testing.T) {
	s := startServer(t, "timeout", "--timeout", "1s", "--states", "1")

	s.get(t, "/spin/count").expect(t, "first count", http.StatusOK, "count=1")
	s.get(t, "/spin/count").expect(t, "second count", http.StatusOK, "count=2")

	t.Run("before headers: 504", func(t *testing.T) {
		start := time.Now()
		r := s.get(t, "/spin/before")
		if r.status != http.StatusGatewayTimeout {
			t.Errorf("status %d (body %q), want 504", r.status, r.body)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("504 took %v with --timeout 1s", d)
		}
		// The state that timed out was thrown away: globals start over.
		s.get(t, "/spin/count").expect(t, "count on a fresh state", http.StatusOK, "count=1")
	})

	t.Run("after headers: aborted", func(t *testing.T) {
		c := s.dial(t)
		c.send(rawRequest("GET", "/spin/after", nil, ""))
		r := c.read("GET")
		if r.StatusCode != http.StatusOK || r.body != "partial" || r.bodyErr == nil {
			t.Errorf("got %d %q (error %v), want 200 \"partial\" and an aborted body", r.StatusCode, r.body, r.bodyErr)
		}
		c.expectClosed("after the timeout")
		s.get(t, "/spin/count").expect(t, "count after the timeout", http.StatusOK, "count=1")
	})

	t.Run("close() runs after a timeout", func(t *testing.T) {
		id := newID()
		r := s.get(t, "/spin/close?id="+id)
		if r.status != http.StatusGatewayTimeout {
			t.Errorf("status %d (body %q), want 504", r.status, r.body)
		}
		s.waitLog(t, idRE("CLOSED", id))
		s.get(t, "/spin/count").expect(t, "count after the timeout", http.StatusOK, "count=1")
		if n := s.log.count(idRE("CLOSED", id)); n != 1 {
			t.Errorf("close() was called %d times, want exactly once", n)
		}
	})
}

// TestGracefulShutdown checks that SIGTERM and SIGINT let an in-flight
// request finish before the server exits cleanly.
func TestGracefulShutdown(t *testing.T) {
	for _, sig := range []os.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			testGracefulShutdown(t, sig)
		})
	}
}

func testGracefulShutdown(t *testing.T, sig os.Signal) {
	s := startServer(t, "busy")
	id := newID()
	done := make(chan *response, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, s.base+"/slow?short&id="+id, nil)
		r, err := s.do(req)
		if err != nil {
			r = &response{bodyErr: err}
		}
		done <- r
	}()
	s.waitLog(t, idRE("SLOW START", id))
	if err := s.terminate(t, sig); err != nil {
		t.Errorf("exit after %v: %v", sig, err)
	}
	select {
	case r := <-done:
		r.expect(t, "in-flight request", http.StatusOK, "slow done")
	case <-time.After(10 * time.Second):
		t.Fatalf("in-flight request not answered")
	}
}

// TestAccessLog checks --access-log FILE: one line per request in common
// log format plus the duration.
func TestAccessLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.log")
	s := startServer(t, "errors", "--access-log", path)
	s.get(t, "/ok?x=1").expect(t, "GET /ok?x=1", http.StatusOK, "ok")
	s.get(t, "/nope").expectStatus(t, "GET /nope", http.StatusNotFound)
	if err := s.terminate(t, syscall.SIGTERM); err != nil {
		t.Errorf("exit after SIGTERM: %v", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("access log: %v", err)
	}
	for _, re := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^127\.0\.0\.1 \S+ \S+ \[[^\]]+\] "GET /ok\?x=1 HTTP/1\.1" 200 2 \d+(\.\d+)?(s|ms|µs)?$`),
		regexp.MustCompile(`(?m)^127\.0\.0\.1 \S+ \S+ \[[^\]]+\] "GET /nope HTTP/1\.1" 404 \d+ \S+$`),
	} {
		if !re.Match(data) {
			t.Errorf("access log has no line matching %s:\n%s", re, data)
		}
	}
	if line, ok := s.log.find(regexp.MustCompile(`"GET /ok\?x=1 HTTP/1\.1"`)); ok {
		t.Errorf("access log line also on the console: %s", line)
	}
}

// TestVersion checks `lsgi version`.
func TestVersion(t *testing.T) {
	out, err := exec.Command(binPath, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("lsgi version: %v\n%s", err, out)
	}
	if !regexp.MustCompile(`\d+\.\d+`).Match(out) {
		t.Errorf("lsgi version printed %q, want a version number", out)
	}
}
