package luabridge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lsgi/lsgi/environ"
	lua "github.com/yuin/gopher-lua"
)

// recorder is a ResponseWriter that keeps what it is given.
type recorder struct {
	header      http.Header
	status      int
	reason      string
	length      int64
	starts      int
	chunks      []string
	noBody      bool  // act as for HEAD
	limit       int64 // like the host: cut at the declared length
	failWriteAt int   // the nth Write fails as a client disconnect (1-based)
	writes      int
	exact       bool // ExactChunks was called
}

func (r *recorder) ExactChunks() {
	if r.starts > 0 {
		panic("ExactChunks after Start")
	}
	r.exact = true
}

func newRecorder() *recorder { return &recorder{header: http.Header{}, length: -1} }

func (r *recorder) AddHeader(name, value string) { r.header.Add(name, value) }

func (r *recorder) Start(status int, reason string, contentLength int64) (bool, error) {
	r.starts++
	r.status, r.reason, r.length = status, reason, contentLength
	return !r.noBody, nil
}

func (r *recorder) Write(chunk string, flush bool) error {
	r.writes++
	if r.failWriteAt > 0 && r.writes >= r.failWriteAt {
		return errors.New("write: broken pipe")
	}
	if r.length >= 0 {
		sent := int64(len(r.body()))
		if sent+int64(len(chunk)) > r.length {
			r.chunks = append(r.chunks, chunk[:r.length-sent])
			return ErrBodyComplete
		}
	}
	r.chunks = append(r.chunks, chunk)
	return nil
}

func (r *recorder) body() string { return strings.Join(r.chunks, "") }

// logBuffer collects log output safely.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newTestPool compiles src as app "t" and returns a one-state pool.
func newTestPool(t *testing.T, src string) (*Pool, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	prog, err := NewProgram("t", "t.lua", []byte(src), ProgramOptions{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	pool, err := NewPool(context.Background(), prog, 1)
	if err != nil {
		t.Fatalf("NewPool: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool, logs
}

func testVars(method, path string) environ.Vars {
	return environ.Vars{
		{Name: "REQUEST_METHOD", Value: method},
		{Name: "SCRIPT_NAME", Value: ""},
		{Name: "PATH_INFO", Value: path},
		{Name: "QUERY_STRING", Value: ""},
		{Name: "REQUEST_URI", Value: path},
		{Name: "SERVER_NAME", Value: "localhost"},
		{Name: "SERVER_PORT", Value: "80"},
		{Name: "SERVER_PROTOCOL", Value: "HTTP/1.1"},
		{Name: "lsgi.url_scheme", Value: "http"},
	}
}

// serveOnce runs one GET request through src on a fresh pool.
func serveOnce(t *testing.T, src string, rec *recorder, body string) (error, *State) {
	t.Helper()
	pool, _ := newTestPool(t, src)
	st, err := pool.Get(context.Background(), time.Second)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	t.Cleanup(func() { pool.Put(st) })
	req := &Request{Vars: testVars("GET", "/"), Body: strings.NewReader(body)}
	return st.Serve(context.Background(), req, rec), st
}

func globalNumber(st *State, name string) int {
	n, _ := st.lstate.GetGlobal(name).(lua.LNumber)
	return int(n)
}

func TestResultForms(t *testing.T) {
	tests := []struct {
		desc, src  string
		wantBody   string
		wantLength int64
	}{
		{"array of chunks", `return function(e, sr) sr("200 OK", {}) return {"a", "b"} end`, "ab", -1},
		{"array with one chunk has a known length", `return function(e, sr) sr("200 OK", {}) return {"hello"} end`, "hello", 5},
		{"one chunk then empties is still known", `return function(e, sr) sr("200 OK", {}) return {"", "hello", ""} end`, "hello", 5},
		{"empty body", `return function(e, sr) sr("200 OK", {}) return {} end`, "", 0},
		{"iterator function", `return function(e, sr) sr("200 OK", {}) local i = 0
			return function() i = i + 1 if i <= 2 then return "x" .. i end end end`, "x1x2", -1},
		{"coroutine.wrap generator", `return function(e, sr) sr("200 OK", {})
			return coroutine.wrap(function() coroutine.yield("a") coroutine.yield("") coroutine.yield("b") end) end`, "ab", -1},
		{"coroutine thread; return values ignored", `return function(e, sr)
			return coroutine.create(function() sr("200 OK", {}) coroutine.yield("a") coroutine.yield("b") return "ignored" end) end`, "ab", -1},
		{"callable object", `return function(e, sr) sr("200 OK", {}) local n = 0
			return setmetatable({}, {__call = function() n = n + 1 if n == 1 then return "obj" end end}) end`, "obj", -1},
		{"lazy start_response inside the iterator", `return function(e, sr) local first = true
			return function() if first then first = false sr("200 OK", {}) return "late" end end end`, "late", -1},
		{"app-declared length wins", `return function(e, sr) sr("200 OK", {{"Content-Length", "3"}}) return {"abc"} end`, "abc", 3},
		{"write goes before the iterator's chunks", `return function(e, sr) local w = sr("200 OK", {}) w("a") return {"b"} end`, "ab", -1},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			rec := newRecorder()
			if err, _ := serveOnce(t, tt.src, rec, ""); err != nil {
				t.Fatalf("Serve: %v", err)
			}
			if got := rec.body(); got != tt.wantBody {
				t.Errorf("body = %q, want %q", got, tt.wantBody)
			}
			if rec.length != tt.wantLength {
				t.Errorf("content length = %d, want %d", rec.length, tt.wantLength)
			}
			if rec.starts != 1 || rec.status != 200 {
				t.Errorf("Start called %d times with %d, want once with 200", rec.starts, rec.status)
			}
		})
	}
}

func TestAppForms(t *testing.T) {
	tests := []struct{ desc, src string }{
		{"function", `return function(e, sr) sr("200 OK", {}) return {"hi"} end`},
		{"callable instance", `local App = setmetatable({}, {__call = function(self, e, sr) sr("200 OK", {}) return {"hi"} end})
			return App`},
		{"class whose call builds the body", `local Iter = {} Iter.__index = Iter
			setmetatable(Iter, {__call = function(cls, e, sr) return setmetatable({sr = sr}, cls) end})
			function Iter:__call() if not self.done then self.done = true self.sr("200 OK", {}) return "hi" end end
			return Iter`},
		{"global application", `function application(e, sr) sr("200 OK", {}) return {"hi"} end`},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			rec := newRecorder()
			if err, _ := serveOnce(t, tt.src, rec, ""); err != nil {
				t.Fatalf("Serve: %v", err)
			}
			if rec.body() != "hi" {
				t.Errorf("body = %q, want hi", rec.body())
			}
		})
	}
}

// closeApp returns an app whose body is an object with an inherited close
// method counting its calls in the global "closed"; step is the body of its
// __call method.
func closeApp(step string) string {
	return `closed = 0
		local Body = {} Body.__index = Body
		function Body:close() closed = closed + 1 end
		function Body:__call() ` + step + ` end
		return function(e, sr) sr("200 OK", {}) return setmetatable({n = 0}, Body) end`
}

func TestCloseCalledOnce(t *testing.T) {
	tests := []struct {
		desc    string
		src     string
		rec     func() *recorder
		wantErr any
	}{
		{"normal end", closeApp(`self.n = self.n + 1 if self.n < 3 then return "x" end`), newRecorder, nil},
		{"app error mid-iteration", closeApp(`self.n = self.n + 1 if self.n == 2 then error("boom") end return "x"`), newRecorder, &AppError{}},
		{"non-string chunk", closeApp(`return 42`), newRecorder, &AppError{}},
		{"client disconnect", closeApp(`return "x"`), func() *recorder { r := newRecorder(); r.failWriteAt = 2; return r }, &ClientError{}},
		{"HEAD", closeApp(`return "x"`), func() *recorder { r := newRecorder(); r.noBody = true; return r }, nil},
		{"Content-Length reached", `closed = 0
			local Body = {} Body.__index = Body
			function Body:close() closed = closed + 1 end
			function Body:__call() return "abcdef" end
			return function(e, sr) sr("200 OK", {{"Content-Length", "3"}}) return setmetatable({}, Body) end`, newRecorder, nil},
		{"array table with close", `closed = 0
			return function(e, sr) sr("200 OK", {}) return setmetatable({"a"}, {__index = {close = function() closed = closed + 1 end}}) end`, newRecorder, nil},
		{"no start_response", `closed = 0
			return function(e, sr) return {"x", close = function() closed = closed + 1 end} end`, newRecorder, &AppError{}},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			err, st := serveOnce(t, tt.src, tt.rec(), "")
			checkErrType(t, err, tt.wantErr)
			if got := globalNumber(st, "closed"); got != 1 {
				t.Errorf("close called %d times, want 1", got)
			}
		})
	}
}

func checkErrType(t *testing.T, err error, want any) {
	t.Helper()
	switch want.(type) {
	case nil:
		if err != nil {
			t.Fatalf("Serve: %v, want success", err)
		}
	case *AppError:
		var e *AppError
		if !errors.As(err, &e) {
			t.Fatalf("Serve error = %v (%T), want *AppError", err, err)
		}
	case *ClientError:
		var e *ClientError
		if !errors.As(err, &e) {
			t.Fatalf("Serve error = %v (%T), want *ClientError", err, err)
		}
	}
}

func TestStartResponseMisuse(t *testing.T) {
	tests := []struct {
		desc, call string
		wantMsg    string
	}{
		{"number status", `sr(200, {})`, "status must be a string"},
		{"bare code", `sr("200", {})`, "is not \"NNN Reason\""},
		{"letters in code", `sr("20X OK", {})`, "is not \"NNN Reason\""},
		{"no space", `sr("200OK", {})`, "is not \"NNN Reason\""},
		{"leading space", `sr(" 200 OK", {})`, "is not \"NNN Reason\""},
		{"CRLF in status", `sr("200 OK\r\nX: y", {})`, "control character"},
		{"code too small", `sr("099 X", {})`, "from 200 to 599"},
		{"code too long", `sr("1000 X", {})`, "is not \"NNN Reason\""},
		{"interim code", `sr("100 Continue", {})`, "from 200 to 599"},
		{"trailing space", `sr("200 OK ", {})`, "whitespace"},
		{"headers not a table", `sr("200 OK", "x")`, "array of {name, value} pairs"},
		{"map-style headers", `sr("200 OK", {["Content-Type"] = "text/plain"})`, "found the key \"Content-Type\""},
		{"flat pair", `sr("200 OK", {"Content-Type", "text/plain"})`, "must be a {name, value} pair"},
		{"number value", `sr("200 OK", {{"Content-Length", 5}})`, "pair of two strings"},
		{"three items", `sr("200 OK", {{"X", "a", "b"}})`, "pair of two strings"},
		{"empty name", `sr("200 OK", {{"", "a"}})`, "empty header name"},
		{"space in name", `sr("200 OK", {{"X Y", "a"}})`, "not a valid HTTP token"},
		{"colon in name", `sr("200 OK", {{"X:", "a"}})`, "not a valid HTTP token"},
		{"non-ASCII name", `sr("200 OK", {{"\195\132", "a"}})`, "not a valid HTTP token"},
		{"CRLF in value", `sr("200 OK", {{"X", "a\r\nSet-Cookie: s=1"}})`, "control character"},
		{"NUL in value", `sr("200 OK", {{"X", "a\0b"}})`, "control character"},
		{"DEL in value", `sr("200 OK", {{"X", "a\127"}})`, "control character"},
		{"Connection", `sr("200 OK", {{"Connection", "close"}})`, "hop-by-hop"},
		{"Keep-Alive", `sr("200 OK", {{"keep-alive", "5"}})`, "hop-by-hop"},
		{"Transfer-Encoding", `sr("200 OK", {{"TRANSFER-ENCODING", "chunked"}})`, "hop-by-hop"},
		{"TE", `sr("200 OK", {{"TE", "trailers"}})`, "hop-by-hop"},
		{"Trailer", `sr("200 OK", {{"Trailer", "X"}})`, "hop-by-hop"},
		{"Upgrade", `sr("200 OK", {{"Upgrade", "h2c"}})`, "hop-by-hop"},
		{"Proxy-Authenticate", `sr("200 OK", {{"Proxy-Authenticate", "x"}})`, "hop-by-hop"},
		{"Proxy-Authorization", `sr("200 OK", {{"Proxy-Authorization", "x"}})`, "hop-by-hop"},
		{"Status", `sr("200 OK", {{"Status", "200"}})`, "hop-by-hop"},
		{"bad Content-Length", `sr("200 OK", {{"Content-Length", "abc"}})`, "not a decimal number"},
		{"negative Content-Length", `sr("200 OK", {{"Content-Length", "-1"}})`, "not a decimal number"},
		{"conflicting Content-Length", `sr("200 OK", {{"Content-Length", "1"}, {"content-length", "2"}})`, "two different"},
		{"second call", `sr("200 OK", {}) sr("200 OK", {})`, "second time without exc_info"},
		{"second call after a failed first", `pcall(sr, "bad", {}) sr("200 OK", {})`, "second time without exc_info"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			// The app catches the error and reports its message as the body,
			// so the test sees exactly what the app author would.
			src := `return function(e, sr)
				local ok, msg = pcall(function() ` + tt.call + ` end)
				sr("500 Caught", {}, "exc")
				return {ok and "no error" or tostring(msg)} end`
			rec := newRecorder()
			if err, _ := serveOnce(t, src, rec, ""); err != nil {
				t.Fatalf("Serve: %v", err)
			}
			if !strings.Contains(rec.body(), tt.wantMsg) {
				t.Errorf("error = %q, want it to mention %q", rec.body(), tt.wantMsg)
			}
			if !strings.Contains(rec.body(), "t.lua:") {
				t.Errorf("error = %q, want it at the app's call site (t.lua:LINE)", rec.body())
			}
		})
	}
}

func TestExcInfo(t *testing.T) {
	t.Run("before headers replaces the response", func(t *testing.T) {
		rec := newRecorder()
		src := `return function(e, sr) sr("200 OK", {{"X-First", "1"}})
			return coroutine.wrap(function() coroutine.yield("")
				sr("503 Later", {{"X-Second", "2"}}, "oops") coroutine.yield("E") end) end`
		if err, _ := serveOnce(t, src, rec, ""); err != nil {
			t.Fatal(err)
		}
		if rec.status != 503 || rec.reason != "Later" || rec.header.Get("X-Second") != "2" || rec.header.Get("X-First") != "" {
			t.Errorf("got %d %q %v, want the second status and headers only", rec.status, rec.reason, rec.header)
		}
	})
	t.Run("after headers re-raises the same value", func(t *testing.T) {
		rec := newRecorder()
		src := `E = {} caught = false
			return function(e, sr) local w = sr("200 OK", {}) w("x")
			local ok, err = pcall(sr, "500 X", {}, E) caught = (not ok) and err == E
			error(E) end`
		err, st := serveOnce(t, src, rec, "")
		var appErr *AppError
		if !errors.As(err, &appErr) || rec.starts != 1 {
			t.Fatalf("Serve = %v, want an AppError after headers", err)
		}
		if st.lstate.GetGlobal("caught") != lua.LTrue {
			t.Error("start_response did not re-raise the exc_info value itself")
		}
	})
}

func TestContractErrors(t *testing.T) {
	tests := []struct{ desc, src, wantMsg string }{
		{"string result", `return function(e, sr) sr("200 OK", {}) return "abc" end`, "return {s} instead"},
		{"nil result", `return function(e, sr) sr("200 OK", {}) end`, "returned nil"},
		{"WSAPI triple", `return function(e, sr) return 200, {}, function() end end`, "WSAPI-style"},
		{"number chunk", `return function(e, sr) sr("200 OK", {}) return {"a", 1} end`, "chunk 2 is a number"},
		{"data before start_response", `return function(e, sr) return {"x"} end`, "without calling start_response"},
		{"empty body without start_response", `return function(e, sr) return {} end`, "without calling start_response"},
		{"error object with raising __tostring", `return function(e, sr)
			error(setmetatable({}, {__tostring = function() error("again") end})) end`, "error object of type table"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			err, _ := serveOnce(t, tt.src, newRecorder(), "")
			var appErr *AppError
			if !errors.As(err, &appErr) {
				t.Fatalf("Serve = %v, want *AppError", err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not mention %q", err, tt.wantMsg)
			}
		})
	}
}

func TestExactChunks(t *testing.T) {
	tests := []struct {
		desc, set string
		want      bool
	}{
		{"not asked", "", false},
		{"asked", `e["lsgi.exact_chunks"] = true`, true},
		{"only true asks", `e["lsgi.exact_chunks"] = "yes"`, false},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			rec := newRecorder()
			if err, _ := serveOnce(t, `return function(e, sr) `+tt.set+` sr("200 OK", {}) return {"a", "b"} end`, rec, ""); err != nil {
				t.Fatal(err)
			}
			if rec.exact != tt.want {
				t.Errorf("ExactChunks called: %v, want %v", rec.exact, tt.want)
			}
		})
	}
}

func TestStaleCallablesRaise(t *testing.T) {
	pool, _ := newTestPool(t, `return function(e, sr)
		if e.PATH_INFO == "/stash" then stashed_w = sr("200 OK", {}) stashed_sr = sr return {"stashed"} end
		local ok1, m1 = pcall(stashed_w, "leak") local ok2, m2 = pcall(stashed_sr, "200 OK", {})
		sr("200 OK", {}) return {tostring(ok1) .. " " .. tostring(m1) .. "|" .. tostring(ok2) .. " " .. tostring(m2)} end`)
	for _, path := range []string{"/stash", "/use"} {
		st, err := pool.Get(context.Background(), time.Second)
		if err != nil {
			t.Fatal(err)
		}
		rec := newRecorder()
		err = st.Serve(context.Background(), &Request{Vars: testVars("GET", path)}, rec)
		pool.Put(st)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if path == "/use" {
			body := rec.body()
			if !strings.Contains(body, "false") || !strings.Contains(body, "after its request ended") || strings.Contains(body, "leak") {
				t.Errorf("stale write/start_response: %q, want both to raise", body)
			}
		}
	}
}

func TestInput(t *testing.T) {
	tests := []struct{ desc, body, code, want string }{
		{"read all", "hello", `return inp:read()`, "hello"},
		{"read all at end is empty", "", `return inp:read()`, ""},
		{"read n", "hello", `return inp:read(3) .. "|" .. inp:read(10) .. "|" .. tostring(inp:read(1))`, "hel|lo|nil"},
		{"readline", "a\nb", `return inp:readline() .. "|" .. inp:readline() .. "|" .. tostring(inp:readline())`, "a\n|b|nil"},
		{"readline with size", "abc\n", `return inp:readline(2) .. "|" .. inp:readline()`, "ab|c\n"},
		{"lines", "x\ny\n", `local t = {} for l in inp:lines() do t[#t+1] = l end return table.concat(t, "|")`, "x\n|y\n"},
		{"readlines", "x\ny", `return table.concat(inp:readlines(), "|")`, "x\n|y"},
		{"readline then read", "l1\nrest", `return inp:readline() .. "|" .. inp:read()`, "l1\n|rest"},
		{"close is harmless", "abc", `inp:close() return inp:read()`, "abc"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			src := `return function(e, sr) local inp = e["lsgi.input"]
				local out = (function() ` + tt.code + ` end)()
				sr("200 OK", {}) return {out} end`
			rec := newRecorder()
			if err, _ := serveOnce(t, src, rec, tt.body); err != nil {
				t.Fatal(err)
			}
			if rec.body() != tt.want {
				t.Errorf("got %q, want %q", rec.body(), tt.want)
			}
		})
	}
	t.Run("truncated body raises", func(t *testing.T) {
		src := `return function(e, sr) local ok, err = pcall(function() return e["lsgi.input"]:read() end)
			sr("200 OK", {}) return {tostring(ok) .. " " .. tostring(err)} end`
		pool, _ := newTestPool(t, src)
		st, _ := pool.Get(context.Background(), time.Second)
		defer pool.Put(st)
		rec := newRecorder()
		body := io.MultiReader(strings.NewReader("abc"), errReader{io.ErrUnexpectedEOF})
		if err := st.Serve(context.Background(), &Request{Vars: testVars("POST", "/"), Body: body}, rec); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(rec.body(), "false") || !strings.Contains(rec.body(), "ended before its declared length") {
			t.Errorf("got %q, want read to raise", rec.body())
		}
	})
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func TestEnvironTable(t *testing.T) {
	src := `return function(e, sr)
		local t = {}
		for _, k in ipairs({"lsgi.multithread", "lsgi.multiprocess", "lsgi.run_once", "lsgi.input_terminated"}) do
			t[#t+1] = k .. "=" .. tostring(e[k]) end
		t[#t+1] = "version=" .. e["lsgi.version"][1] .. "." .. e["lsgi.version"][2]
		t[#t+1] = "meta=" .. tostring(getmetatable(e))
		t[#t+1] = "port=" .. type(e.SERVER_PORT)
		e.PATH_INFO = "/hacked" e.FOO = "x"
		sr("200 OK", {}) return {table.concat(t, " ")} end`
	pool, _ := newTestPool(t, src)
	for i := 0; i < 2; i++ { // the second request must not see the first's changes
		st, _ := pool.Get(context.Background(), time.Second)
		rec := newRecorder()
		if err := st.Serve(context.Background(), &Request{Vars: testVars("GET", "/")}, rec); err != nil {
			t.Fatal(err)
		}
		pool.Put(st)
		want := "lsgi.multithread=false lsgi.multiprocess=true lsgi.run_once=false lsgi.input_terminated=true version=1.0 meta=nil port=string"
		if rec.body() != want {
			t.Errorf("request %d: got %q, want %q", i, rec.body(), want)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct{ desc, src, want string }{
		{"syntax error names file and line", "local x =\nreturn 1 end", "t.lua:2:"},
		{"runtime error names file and line", "local x = nil\nreturn x.y", "t.lua:2:"},
		{"no app", "local x = 1", "returned no app"},
		{"not callable", "return 42", "returned no app (got a number)"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			prog, err := NewProgram("t", "t.lua", []byte(tt.src), ProgramOptions{})
			if err == nil {
				_, err = NewPool(context.Background(), prog, 1)
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestSandbox(t *testing.T) {
	tests := []struct{ desc, expr, want string }{
		{"io opens no file", `local f, e = io.open("/etc/passwd") return tostring(f) .. " " .. e`, "nil io.open is not open to apps in default mode (run lsgi with --trust"},
		{"io opens no process", `local f, e = io.popen("ls") return tostring(f) .. " " .. e`, "nil io.popen is not open"},
		{"debug only reads", `return tostring(debug.sethook) .. tostring(debug.setlocal) .. tostring(debug.setupvalue) .. type(debug.getinfo) .. type(debug.traceback)`, "nilnilnilfunctionfunction"},
		{"os keeps only clocks", `return tostring(os.execute) .. tostring(os.remove) .. tostring(os.getenv("HOME")) .. type(os.time)`, "nilnilnilfunction"},
		{"os.exit raises", `local ok, e = pcall(os.exit, 1) return tostring(ok) .. " " .. e`, "false t.lua:1: os.exit: an app cannot stop the host"},
		{"no _printregs", `return tostring(_printregs)`, "nil"},
		{"dofile outside the folder", `local ok, e = pcall(dofile, "/etc/passwd") return tostring(ok) .. " " .. e`, "false"},
		{"require finds nothing on disk", `local ok, e = pcall(require, "os2") return tostring(ok)`, "false"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			src := `return function(e, sr) local out = (function() ` + tt.expr + ` end)() sr("200 OK", {}) return {out} end`
			rec := newRecorder()
			if err, _ := serveOnce(t, src, rec, ""); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(rec.body(), tt.want) {
				t.Errorf("got %q, want prefix %q", rec.body(), tt.want)
			}
		})
	}
}

func TestTimeoutBreaksState(t *testing.T) {
	pool, _ := newTestPool(t, `return function(e, sr) while true do end end`)
	st, _ := pool.Get(context.Background(), time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := st.Serve(ctx, &Request{Vars: testVars("GET", "/")}, newRecorder())
	var appErr *AppError
	if !errors.As(err, &appErr) || !appErr.Timeout {
		t.Fatalf("Serve = %v, want a timeout AppError", err)
	}
	pool.Put(st)
	if pool.Live() != 0 {
		t.Errorf("live states = %d after a timeout, want the state discarded", pool.Live())
	}
}

func TestPoolBusy(t *testing.T) {
	pool, _ := newTestPool(t, `return function(e, sr) sr("200 OK", {}) return {} end`)
	st, err := pool.Get(context.Background(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Get(context.Background(), 10*time.Millisecond); !errors.Is(err, ErrBusy) {
		t.Errorf("second Get = %v, want ErrBusy", err)
	}
	pool.Put(st)
	pool.Close()
	if _, err := pool.Get(context.Background(), time.Second); !errors.Is(err, ErrClosed) {
		t.Errorf("Get after Close = %v, want ErrClosed", err)
	}
	if pool.Live() != 0 {
		t.Errorf("live states after Close = %d", pool.Live())
	}
}

func TestErrorsStreamAndPrint(t *testing.T) {
	pool, logs := newTestPool(t, `return function(e, sr)
		e["lsgi.errors"]:write("one\ntwo ") e["lsgi.errors"]:write("parts\nFAKE\r\nline")
		print("printed", 1, nil)
		sr("200 OK", {}) return {} end`)
	st, _ := pool.Get(context.Background(), time.Second)
	if err := st.Serve(context.Background(), &Request{Vars: testVars("GET", "/")}, newRecorder()); err != nil {
		t.Fatal(err)
	}
	pool.Put(st)
	out := logs.String()
	for _, want := range []string{"msg=one ", `msg="two parts"`, `msg="FAKE\r"`, "msg=line", `msg="printed\t1\tnil"`, "app=t"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
}

func TestFastTablesActive(t *testing.T) {
	if !fastTables {
		t.Fatal("lua.LTable's layout changed: environ tables are built the slow way (see table.go)")
	}
}

// pairsOf returns what next() walks in t, key by key, failing on a key
// seen twice (a walk that would not end).
func pairsOf(t *testing.T, tb *lua.LTable) map[string]string {
	t.Helper()
	got := map[string]string{}
	for k, v := tb.Next(lua.LNil); k != lua.LNil; k, v = tb.Next(k) {
		if _, dup := got[k.String()]; dup {
			t.Fatalf("next() returned %s twice", k)
		}
		got[k.String()] = v.String()
	}
	return got
}

func TestEnvironShape(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	var shape environShape
	build := func(kv ...string) *lua.LTable {
		b := newEnvironBuilder(L, &shape, new(lua.LTable), len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			b.set(kv[i], lua.LString(kv[i+1]))
		}
		return b.finish()
	}
	tests := []struct {
		desc string
		run  func(t *testing.T)
	}{
		{"a listed key and a new one", func(t *testing.T) {
			tb := build("REQUEST_METHOD", "GET", "X_CUSTOM", "x")
			if got := pairsOf(t, tb); len(got) != 2 || got["REQUEST_METHOD"] != "GET" || got["X_CUSTOM"] != "x" {
				t.Errorf("next() saw %v", got)
			}
			if v := tb.RawGetString("PATH_INFO"); v != lua.LNil {
				t.Errorf("a listed key not set reads %v, want nil", v)
			}
			tb.RawSetString("PATH_INFO", lua.LString("/x"))
			if got := pairsOf(t, tb); got["PATH_INFO"] != "/x" {
				t.Errorf("next() after setting PATH_INFO saw %v", got)
			}
			shape.settle(tb)
		}},
		{"a key gained by an earlier table is listed, once", func(t *testing.T) {
			tb := build("X_CUSTOM", "y")
			if got := pairsOf(t, tb); len(got) != 1 || got["X_CUSTOM"] != "y" {
				t.Errorf("next() saw %v", got)
			}
			other := build("REQUEST_METHOD", "POST")
			if got := pairsOf(t, other); len(got) != 1 || other.RawGetString("X_CUSTOM") != lua.LNil {
				t.Errorf("a table without X_CUSTOM: next() saw %v", got)
			}
			if tb.RawGetString("REQUEST_METHOD") != lua.LNil {
				t.Error("a table sees another's values")
			}
		}},
		{"a kept table gaining a key in a later request", func(t *testing.T) {
			kept := build("REQUEST_METHOD", "GET")
			shape.settle(kept)
			cur := build("REQUEST_METHOD", "HEAD")
			kept.RawSetString("LATE", lua.LString("1"))
			cur.RawSetString("MINE", lua.LString("2"))
			shape.settle(cur)
			for _, tb := range []*lua.LTable{kept, cur, build("REQUEST_METHOD", "PUT")} {
				pairsOf(t, tb)
			}
			if got := pairsOf(t, kept); got["LATE"] != "1" {
				t.Errorf("the kept table: next() saw %v", got)
			}
			if got := pairsOf(t, cur); got["MINE"] != "2" {
				t.Errorf("the current table: next() saw %v", got)
			}
		}},
		{"too many keys go back to environKeys", func(t *testing.T) {
			tb := build()
			for i := range maxShapeKeys {
				tb.RawSetString(fmt.Sprintf("K%d", i), lua.LTrue)
			}
			shape.settle(tb)
			if len(shape.keys) != len(environKeys) {
				t.Errorf("the shape lists %d keys, want %d", len(shape.keys), len(environKeys))
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.desc, tt.run)
	}
}

func BenchmarkEnvironTable(b *testing.B) {
	L := lua.NewState()
	defer L.Close()
	vars := testVars("GET", "/hello")
	for _, name := range []string{"HTTP_HOST", "HTTP_USER_AGENT", "HTTP_ACCEPT", "HTTP_ACCEPT_ENCODING", "HTTP_ACCEPT_LANGUAGE", "HTTP_COOKIE", "REMOTE_ADDR", "REMOTE_PORT", "GATEWAY_INTERFACE", "SERVER_SOFTWARE"} {
		vars = append(vars, environ.Var{Name: name, Value: "value"})
	}
	b.Run("shape", func(b *testing.B) {
		var shape environShape
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			env := newEnvironBuilder(L, &shape, new(lua.LTable), len(vars)+8)
			for _, v := range vars {
				env.set(v.Name, lua.LString(v.Value))
			}
			env.finish()
		}
	})
	b.Run("CreateTable", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			tb := L.CreateTable(0, len(vars)+8)
			for _, v := range vars {
				tb.RawSetString(v.Name, lua.LString(v.Value))
			}
		}
	})
}

func TestSyntaxErrorAtEndOfFile(t *testing.T) {
	_, err := Compile("t.lua", []byte("return function()\n  local x = 1\n"))
	var serr *SyntaxError
	if !errors.As(err, &serr) || serr.Line != 2 || !strings.HasPrefix(err.Error(), "t.lua:2: unexpected end of file") {
		t.Errorf("error = %v, want it at t.lua:2", err)
	}
}
