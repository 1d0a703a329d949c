package luabridge

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// newStdlibState opens a state with the standard library apps get.
func newStdlibState(t *testing.T, opts LibOptions) *lua.LState {
	t.Helper()
	L := lua.NewState(lua.Options{SkipOpenLibs: true, RegistrySize: 1024 * 4, RegistryMaxSize: 1024 * 256})
	t.Cleanup(L.Close)
	if err := OpenLibsWith(L, opts); err != nil {
		t.Fatal(err)
	}
	return L
}

// evalString runs a chunk that returns a string.
func evalString(t *testing.T, L *lua.LState, src string) string {
	t.Helper()
	if err := L.DoString(src); err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	v := L.Get(-1)
	L.Pop(1)
	return lua.LVAsString(v)
}

// TestBuiltinBounds checks that every builtin that builds a string or
// walks its input stops at its limit with a catchable error naming the
// limit, at once and without allocating the result.
func TestBuiltinBounds(t *testing.T) {
	tests := []struct {
		desc, expr, want string
	}{
		{"string.rep 2^40", `string.rep("x", 2^40)`, "string.rep: a result of 1099511627776 x 1 bytes exceeds the string-bytes limit of 1 MiB"},
		{"string.rep 1e9", `string.rep("x", 1e9)`, "string-bytes limit"},
		{"string.rep of a long string", `string.rep(string.rep("x", 1000), 2000)`, "string-bytes limit"},
		{"string.format width over many items", `local t = {} for i = 1, 7000 do t[i] = i end string.format(string.rep("%99d", 7000), unpack(t))`, "string-bytes limit of 512 KiB"},
		{"string.format %s of a long string", `local s = string.rep("x", 600000) string.format("%s%s", s, s)`, "string.format: the formatted string exceeds"},
		{"string.format %q", `string.format("%q", string.rep("\0", 300000))`, "string-bytes limit"},
		{"table.concat", `local t = {} for i = 1, 3000 do t[i] = string.rep("x", 1000) end return table.concat(t)`, "table.concat: the joined string exceeds the string-bytes limit"},
		{"table.concat with separator", `local t = {} for i = 1, 600 do t[i] = "x" end return table.concat(t, string.rep(",", 2000))`, "string-bytes limit"},
		{"print", `print(string.rep("x", 600000), string.rep("y", 600000))`, "print: the printed line exceeds"},
		{"unpack", `unpack({}, 1, 1e9)`, "too many results to unpack"},
		{"string.byte", `string.byte(string.rep("x", 9000), 1, -1)`, "string slice too long"},
	}
	for _, tt := range tests {
		limit := int64(1 << 20)
		if strings.Contains(tt.want, "512 KiB") {
			limit = 512 << 10
		}
		L := newStdlibState(t, LibOptions{Limits: Limits{MaxStringBytes: limit}})
		t.Run(tt.desc, func(t *testing.T) {
			start := time.Now()
			got := evalString(t, L, `local ok, err = pcall(function() `+tt.expr+` end) return tostring(ok) .. " " .. tostring(err)`)
			if !strings.HasPrefix(got, "false ") || !strings.Contains(got, tt.want) {
				t.Errorf("got %q, want an error containing %q", got, tt.want)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

// TestPatternStepsLimit checks that Limits.MaxPatternSteps reaches the
// pattern functions.
func TestPatternStepsLimit(t *testing.T) {
	L := newStdlibState(t, LibOptions{Limits: Limits{MaxPatternSteps: 1000}})
	got := evalString(t, L, `local ok, err = pcall(string.find, string.rep("a", 300), ".-.-.-b") return tostring(ok) .. " " .. err`)
	if !strings.Contains(got, "pattern matching took more than 1000 steps") || !strings.Contains(got, "--limit pattern-steps=N") {
		t.Errorf("got %q", got)
	}
}

// TestDefaultLimitStopsHugeRep runs the bombs of the issue with the
// default limit: they raise at once instead of asking for a terabyte.
func TestDefaultLimitStopsHugeRep(t *testing.T) {
	L := newStdlibState(t, LibOptions{})
	for _, expr := range []string{`string.rep("x", 2^40)`, `string.rep("x", 1e9)`, `string.rep("abc", 2^31)`} {
		got := evalString(t, L, `local ok, err = pcall(string.rep, `+strings.TrimPrefix(strings.TrimSuffix(expr, ")"), "string.rep(")+`) return tostring(ok) .. " " .. err`)
		if !strings.Contains(got, "string-bytes limit of 64 MiB") {
			t.Errorf("%s: %q", expr, got)
		}
	}
}

func TestStdioGoesToTheLog(t *testing.T) {
	logs := &logBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	pool, _ := newTestPoolOpts(t, `
		io.write("at load\n")
		return function(e, sr)
			io.write("one ", 2, "\n") io.stdout:write("two\nthree") io.stderr:write("warned\n")
			assert(io.output() == io.stdout and require("io") == io)
			sr("200 OK", {}) return {} end`, ProgramOptions{Logger: logger})
	st, _ := pool.Get(context.Background(), time.Second)
	if err := st.Serve(context.Background(), &Request{Vars: testVars("GET", "/")}, newRecorder()); err != nil {
		t.Fatal(err)
	}
	pool.Put(st)
	out := logs.String()
	for _, want := range []string{`msg="at load" app=t via=io.stdout`, `msg="one 2" app=t via=io.stdout`, "msg=two app=t via=io.stdout",
		"msg=three app=t via=io.stdout", "level=WARN msg=warned app=t via=io.stderr"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
}

// newTestPoolOpts is newTestPool with options.
func newTestPoolOpts(t *testing.T, src string, opts ProgramOptions) (*Pool, *Program) {
	t.Helper()
	prog, err := NewProgram("t", "t.lua", []byte(src), opts)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	pool, err := NewPool(context.Background(), prog, 1)
	if err != nil {
		t.Fatalf("NewPool: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool, prog
}

func TestStateMaxRequests(t *testing.T) {
	tests := []struct {
		desc           string
		max, jitter    int
		requests       int
		wantFreshAfter []int // request numbers (1-based) served by a new state
	}{
		{"never", 0, 0, 5, nil},
		{"every two", 2, 0, 5, []int{3, 5}},
		{"every request", 1, 0, 3, []int{2, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			pool, _ := newTestPoolOpts(t, `count = 0 return function(e, sr) count = count + 1 sr("200 OK", {}) return {tostring(count)} end`,
				ProgramOptions{StateMaxRequests: tt.max, StateMaxRequestsJitter: tt.jitter})
			var fresh []int
			for i := 1; i <= tt.requests; i++ {
				st, err := pool.Get(context.Background(), time.Second)
				if err != nil {
					t.Fatal(err)
				}
				rec := newRecorder()
				if err := st.Serve(context.Background(), &Request{Vars: testVars("GET", "/")}, rec); err != nil {
					t.Fatal(err)
				}
				pool.Put(st)
				if rec.body() == "1" && i > 1 {
					fresh = append(fresh, i)
				}
			}
			if !slices.Equal(fresh, tt.wantFreshAfter) {
				t.Errorf("fresh states at requests %v, want %v", fresh, tt.wantFreshAfter)
			}
			if pool.Live() > 1 {
				t.Errorf("%d states live, want at most 1", pool.Live())
			}
		})
	}
}

func TestStateMaxRequestsJitter(t *testing.T) {
	prog, err := NewProgram("t", "t.lua", []byte(`return function() end`), ProgramOptions{StateMaxRequests: 10, StateMaxRequestsJitter: 5})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for range 200 {
		n := prog.stateMaxRequests()
		if n < 10 || n > 15 {
			t.Fatalf("stateMaxRequests() = %d, want 10..15", n)
		}
		seen[n] = true
	}
	if len(seen) < 2 {
		t.Errorf("no jitter: %v", seen)
	}
}

// TestRequireOrder checks the search order of docs/SPEC.md: lsgi.* is the
// host's, then package.preload, then the app's folder, then the host's
// other modules; an app file with a host module's name is logged once.
func TestRequireOrder(t *testing.T) {
	fsys := fstest.MapFS{
		"json.lua":          {Data: []byte(`return {mine = true}`)},
		"lsgi/request.lua":  {Data: []byte(`return {mine = true}`)},
		"lsgi/private.lua":  {Data: []byte(`return {mine = true}`)},
		"helper/init.lua":   {Data: []byte(`return {helper = true}`)},
		"preloaded_too.lua": {Data: []byte(`return {file = true}`)},
	}
	host := map[string]Loader{
		"json":         func(L *lua.LState) int { L.Push(lua.LString("host json")); return 1 },
		"lsgi.json":    func(L *lua.LState) int { L.Push(lua.LString("host lsgi.json")); return 1 },
		"lsgi.request": func(L *lua.LState) int { L.Push(lua.LString("host request")); return 1 },
		"hostonly":     func(L *lua.LState) int { L.Push(lua.LString("host only")); return 1 },
	}
	logs := &logBuffer{}
	src := `
		package.preload.preloaded_too = function() return {preload = true} end
		local out = {}
		out[#out + 1] = tostring(require("json").mine)
		out[#out + 1] = require("lsgi.json")
		out[#out + 1] = require("lsgi.request")
		out[#out + 1] = tostring(pcall(require, "lsgi.private"))
		out[#out + 1] = tostring(require("helper").helper)
		out[#out + 1] = require("hostonly")
		out[#out + 1] = tostring(require("preloaded_too").preload)
		RESULT = table.concat(out, ",")
		return function() end`
	for range 2 { // two programs' worth of states: the warning comes once per program
		_, prog := newTestPoolOpts(t, src, ProgramOptions{FS: fsys, Setup: preloadAll(host), Logger: slog.New(slog.NewTextHandler(logs, nil))})
		st, err := prog.newState(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		got := lua.LVAsString(st.lstate.GetGlobal("RESULT"))
		st.close()
		if want := "true,host lsgi.json,host request,false,true,host only,true"; got != want {
			t.Errorf("require results = %q, want %q", got, want)
		}
	}
	out := logs.String()
	if n := strings.Count(out, "app module shadows a host module"); n != 2 {
		t.Errorf("%d shadow warnings for json, want one per program (2):\n%s", n, out)
	}
	if !strings.Contains(out, `module=lsgi.request file=lsgi/request.lua`) || !strings.Contains(out, "app module ignored") {
		t.Errorf("no warning for the ignored lsgi/request.lua:\n%s", out)
	}
}

// TestFilesStayInTheFolder checks that require, dofile and loadfile refuse
// a symbolic link that leads out of the app's folder and follow one that
// stays inside.
func TestFilesStayInTheFolder(t *testing.T) {
	root := t.TempDir()
	app := filepath.Join(root, "app")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(app, "lib"), 0o755))
	must(os.WriteFile(filepath.Join(root, "secret.lua"), []byte(`return "secret"`), 0o644))
	must(os.WriteFile(filepath.Join(app, "lib", "real.lua"), []byte(`return "inside"`), 0o644))
	must(os.Symlink("../secret.lua", filepath.Join(app, "out.lua")))
	must(os.Symlink(filepath.Join(root, "secret.lua"), filepath.Join(app, "abs.lua")))
	must(os.Symlink("lib/real.lua", filepath.Join(app, "alias.lua")))
	must(os.Symlink("..", filepath.Join(app, "up")))
	tests := []struct{ desc, expr, want string }{
		{"require through a link inside", `require("alias")`, "inside"},
		{"dofile through a link inside", `dofile("alias.lua")`, "inside"},
		{"require through a link out", `select(2, pcall(require, "out"))`, "leads out of the app's folder"},
		{"require through an absolute link", `select(2, pcall(require, "abs"))`, "leads out of the app's folder"},
		{"dofile through a link out", `select(2, pcall(dofile, "out.lua"))`, "leads out of the app's folder"},
		{"loadfile through a folder link", `select(2, loadfile("up/secret.lua"))`, "leads out of the app's folder"},
		{"dofile with ..", `select(2, pcall(dofile, "../secret.lua"))`, "outside the app's folder"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			_, prog := newTestPoolOpts(t, `RESULT = tostring(`+tt.expr+`) return function() end`, ProgramOptions{FS: os.DirFS(app)})
			st, err := prog.newState(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			defer st.close()
			if got := lua.LVAsString(st.lstate.GetGlobal("RESULT")); !strings.Contains(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestInputReadBounds(t *testing.T) {
	tests := []struct {
		desc, body, expr, want string
	}{
		{"read(2^40) without a body", "", `tostring(input:read(2^40))`, "nil"},
		{"read(2^40) of a small body", "hello", `input:read(2^40)`, "hello"},
		{"read(1e300) of a small body", "hello", `input:read(1e300)`, "hello"},
		{"read(n) past the limit", strings.Repeat("x", 3000), `select(2, pcall(input.read, input, 2^40))`, "lsgi.input:read: the data read exceeds the string-bytes limit"},
		{"read(n) of exactly the limit", strings.Repeat("x", 2048), `tostring(#input:read(2^40))`, "2048"},
		{"read('*a') past the limit", strings.Repeat("x", 3000), `select(2, pcall(input.read, input, "*a"))`, "the rest of the body exceeds"},
		{"readline past the limit", strings.Repeat("x", 3000), `select(2, pcall(input.readline, input))`, "the line exceeds"},
		{"read(n) in pieces", strings.Repeat("ab", 700), `#input:read(1000) .. "+" .. #input:read(1000) .. "+" .. tostring(input:read(1000))`, "1000+400+nil"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			pool, _ := newTestPoolOpts(t, `return function(e, sr) local input = e["lsgi.input"] local out = `+tt.expr+` sr("200 OK", {}) return {out} end`,
				ProgramOptions{Limits: Limits{MaxStringBytes: 2048}})
			st, _ := pool.Get(context.Background(), time.Second)
			defer pool.Put(st)
			rec := newRecorder()
			if err := st.Serve(context.Background(), &Request{Vars: testVars("POST", "/"), Body: strings.NewReader(tt.body)}, rec); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(rec.body(), tt.want) {
				t.Errorf("got %q, want %q", rec.body(), tt.want)
			}
		})
	}
}

func TestDebugInfoAndTraceback(t *testing.T) {
	L := newStdlibState(t, LibOptions{})
	got := evalString(t, L, `
		local function where() local i = debug.getinfo(2, "Sl") return i.short_src .. ":" .. i.currentline .. ":" .. i.what end
		return where() .. " " .. debug.getinfo(print).what .. " " .. tostring(debug.setlocal)`)
	if got != `[string "<string>"]:3:main C nil` {
		t.Errorf("got %q", got)
	}
	tb := evalString(t, L, `return debug.traceback("boom")`)
	if !strings.HasPrefix(tb, "boom\nstack traceback:\n\t") {
		t.Errorf("traceback = %q", tb)
	}
}

// TestBoundsInMainChunkAndClose checks that the limits hold in a plugin's
// main chunk and in result:close() too, which run outside a request's
// Lua call.
func TestBoundsInMainChunkAndClose(t *testing.T) {
	prog, err := NewProgram("t", "t.lua", []byte(`local s = string.rep("x", 2^40) return function() end`), ProgramOptions{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = NewPool(context.Background(), prog, 1)
	if err == nil || !strings.Contains(err.Error(), "string-bytes limit") {
		t.Errorf("main chunk: error = %v, want the string-bytes limit", err)
	}
	logs := &logBuffer{}
	pool, _ := newTestPoolOpts(t, `return function(e, sr)
		sr("200 OK", {})
		return {"body", close = function()
			local t = {} for i = 1, 100 do t[i] = string.rep("x", 2^20) end
			CLOSED = table.concat(t)
		end}
	end`, ProgramOptions{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	st, _ := pool.Get(context.Background(), time.Second)
	defer pool.Put(st)
	rec := newRecorder()
	st.Serve(context.Background(), &Request{Vars: testVars("GET", "/")}, rec)
	if rec.body() != "body" {
		t.Errorf("body = %q", rec.body())
	}
	if st.lstate.GetGlobal("CLOSED") != lua.LNil || !strings.Contains(logs.String(), "table.concat: the joined string exceeds the string-bytes limit") {
		t.Errorf("close() was not stopped by the limit:\n%s", logs.String())
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v", d)
	}
}

// preloadAll registers each loader under its name in package.preload, as
// the host does with Config.Modules.
func preloadAll(modules map[string]Loader) func(L *lua.LState) error {
	return func(L *lua.LState) error {
		for name, loader := range modules {
			L.PreloadModule(name, loader)
		}
		return nil
	}
}
