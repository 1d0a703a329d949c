package luabridge

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	lua "github.com/yuin/gopher-lua"
)

func TestEngineInternals(t *testing.T) {
	if err := EngineInternals(); err != nil {
		t.Fatalf("the engine fixes are off: %v", err)
	}
}

// loadApp builds a program from files (main.lua is the main chunk, the
// others its folder) and returns a state that ran it. The main chunk
// reports through globals; it need not return an app.
func loadApp(t *testing.T, files map[string]string, lim Limits) (*State, error) {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, src := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(src)}
	}
	main := files["main.lua"] + "\nreturn function() end"
	prog, err := NewProgram("t", "main.lua", []byte(main), ProgramOptions{FS: fsys, Limits: lim})
	if err != nil {
		return nil, err
	}
	pool, err := NewPool(context.Background(), prog, 1)
	if err != nil {
		return nil, err
	}
	t.Cleanup(pool.Close)
	st, err := pool.Get(context.Background(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pool.Put(st) })
	return st, nil
}

func globalString(st *State, name string) string {
	return st.lstate.GetGlobal(name).String()
}

func TestShebangLineSkipped(t *testing.T) {
	const shebang = "#!/usr/bin/env lua\n"
	tests := []struct {
		desc  string
		files map[string]string
		want  string // the global result
	}{
		{"main chunk", map[string]string{"main.lua": shebang + "result = 'main'"}, "main"},
		{"main chunk line numbers", map[string]string{"main.lua": shebang + "\nresult = select(2, pcall(error, 'x', 1))"}, "x"},
		{"required module", map[string]string{
			"main.lua": "result = require('mod').name",
			"mod.lua":  shebang + "return {name = 'mod'}",
		}, "mod"},
		{"required module line numbers", map[string]string{
			"main.lua": "result = select(2, pcall(require, 'bad'))",
			"bad.lua":  shebang + "local x = nil\nreturn x.y",
		}, "bad.lua:3:"},
		{"dofile", map[string]string{"main.lua": "result = dofile('f.lua')", "f.lua": shebang + "return 'done'"}, "done"},
		{"loadfile", map[string]string{"main.lua": "result = loadfile('f.lua')()", "f.lua": "#comment line\nreturn 'loaded'"}, "loaded"},
		{"shebang only", map[string]string{"main.lua": "result = select('#', dofile('f.lua'))", "f.lua": "#!/bin/lua"}, "0"},
		{"loadstring keeps it", map[string]string{"main.lua": "result = tostring(loadstring('#!x\\nreturn 1'))"}, "nil"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			st, err := loadApp(t, tt.files, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if got := globalString(st, "result"); !strings.Contains(got, tt.want) {
				t.Fatalf("result = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestShebangLineNumbersMatchLua51 runs a file with a "#!" line and an
// error on line 3 under lua5.1 and as a plugin: both name line 3.
func TestShebangLineNumbersMatchLua51(t *testing.T) {
	interp := lua51(t)
	src := "#!/usr/bin/env lua\nlocal t = nil\nprint(t.x)\n"
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.lua"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _ := exec.Command(interp, filepath.Join(dir, "main.lua")).CombinedOutput()
	if !strings.Contains(string(out), "main.lua:3:") {
		t.Fatalf("lua5.1 says %s", out)
	}
	_, err := loadApp(t, map[string]string{"main.lua": src}, Limits{})
	if err == nil || !strings.Contains(err.Error(), "main.lua:3:") {
		t.Fatalf("error %v does not name main.lua:3", err)
	}
}

func TestProgramLimits(t *testing.T) {
	deep := "return " + strings.Repeat("(", 30) + "1" + strings.Repeat(")", 30)
	lim := Limits{MaxNesting: 20, MaxSourceBytes: 2000}
	tests := []struct {
		desc  string
		files map[string]string
		want  string // in the load error, or else in the global result
		load  bool   // the load fails
	}{
		{"main chunk", map[string]string{"main.lua": deep}, "main.lua:1: chunk has too many syntax levels", true},
		{"main chunk size", map[string]string{"main.lua": "x = '" + strings.Repeat("x", 3000) + "'"}, "Limits.MaxSourceBytes", true},
		{"module", map[string]string{"main.lua": "result = select(2, pcall(require, 'deep'))", "deep.lua": deep},
			"error loading module 'deep': deep.lua:1: chunk has too many syntax levels", false},
		{"dofile", map[string]string{"main.lua": "result = select(2, pcall(dofile, 'deep.lua'))", "deep.lua": deep}, "Limits.MaxNesting", false},
		{"loadstring", map[string]string{"main.lua": "result = select(2, loadstring(" + `"` + deep + `"` + "))"},
			`[string "return ((((((((((((((((((((((((((((((1)))))))))))))))))))))))))..."]:1: chunk has too many syntax levels`, false},
		{"load", map[string]string{"main.lua": "local s = " + `"` + deep + `"` + " result = select(2, load(function() local p = s; s = nil; return p end))"},
			"(load):1: chunk has too many syntax levels", false},
		{"load size", map[string]string{"main.lua": "local n = 0 result = select(2, load(function() n = n + 1; if n < 10 then return ('x'):rep(500) end end, '=big'))"},
			"big: chunk too large: 2500 bytes exceeds the source-bytes limit of 2000 bytes", false},
		{"within the limits", map[string]string{"main.lua": "result = loadstring('return ' .. ('('):rep(15) .. '1' .. (')'):rep(15))()"}, "1", false},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			st, err := loadApp(t, tt.files, lim)
			if tt.load {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("load error %v, want %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := globalString(st, "result"); !strings.Contains(got, tt.want) {
				t.Fatalf("result = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestDeepSourceIsCaught loads the sources that overflowed the Go stack
// (a fatal error) or compiled for seconds, in every way an app can: each
// is refused with a catchable error.
func TestDeepSourceIsCaught(t *testing.T) {
	st, err := loadApp(t, map[string]string{"main.lua": `
		local function try(src) local f, err = loadstring(src) return tostring(f) .. " " .. tostring(err) end
		r1 = try("return " .. string.rep("not ", 1e6) .. "x")
		r2 = try(string.rep("do ", 100000) .. string.rep("end ", 100000))
		r3 = try("return " .. string.rep("- ", 60000) .. "1")
		r4 = try("return f" .. string.rep("()", 1e6))
		r5 = select(2, pcall(require, "deep"))
	`, "deep.lua": strings.Repeat("(", 1e6)}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"r1", "r2", "r3", "r4", "r5"} {
		got := globalString(st, name)
		if !strings.Contains(got, "Limits.Max") {
			t.Errorf("%s = %.200q, want an error naming the limit", name, got)
		}
	}
	_, err = NewProgram("t", "deep.lua", []byte("return "+strings.Repeat("not ", 1e6)+"x"), ProgramOptions{})
	var lerr *SourceLimitError
	if !errors.As(err, &lerr) || lerr.Limit != "MaxNesting" {
		t.Fatalf("NewProgram: %v, want a MaxNesting error", err)
	}
}

// TestPCallFromGo checks PCall as Go functions use it on behalf of Lua:
// the caller's closures keep their locals, and the error carries the
// traceback.
func TestPCallFromGo(t *testing.T) {
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer L.Close()
	if err := OpenLibs(L, false); err != nil {
		t.Fatal(err)
	}
	var trace string
	L.SetGlobal("gocall", L.NewFunction(func(L *lua.LState) int {
		L.Push(L.Get(1))
		err := PCall(L, 0, 0, nil)
		var aerr *lua.ApiError
		if !errors.As(err, &aerr) {
			L.RaiseError("no ApiError: %v", err)
		}
		trace = aerr.StackTrace
		L.Push(aerr.Object)
		return 1
	}))
	L.SetGlobal("gohandled", L.NewFunction(func(L *lua.LState) int {
		L.Push(L.Get(1))
		err := PCall(L, 0, 0, L.CheckFunction(2))
		L.Push(errorValue(err))
		return 1
	}))
	err := L.DoString(`
		local y = 1
		local function sety(v) y = v end
		msg = gocall(function() error("from Lua") end)
		sety(2)
		result = y
		handled = gohandled(function() error("x", 0) end, function(m) return "handled " .. m end)
	`)
	if err != nil {
		t.Fatal(err)
	}
	if got := L.GetGlobal("result").String(); got != "2" {
		t.Errorf("after a PCall from Go the closure set y to 2, the function sees %s", got)
	}
	if got := L.GetGlobal("msg").String(); !strings.Contains(got, "from Lua") {
		t.Errorf("error value %q", got)
	}
	if !strings.Contains(trace, "stack traceback:") || !strings.Contains(trace, "in function 'error'") {
		t.Errorf("traceback %q", trace)
	}
	if got := L.GetGlobal("handled").String(); got != "handled x" {
		t.Errorf("handler result %q", got)
	}
}

// TestPCallInterrupted checks that a deadline is not caught by pcall.
func TestPCallInterrupted(t *testing.T) {
	pool, _ := newTestPool(t, `return function(e, sr)
		while true do pcall(function() for i = 1, 1e9 do end end) end
	end`)
	st, err := pool.Get(context.Background(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Put(st)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = st.Serve(ctx, &Request{Vars: testVars("GET", "/")}, newRecorder())
	if err == nil || time.Since(start) > 10*time.Second {
		t.Fatalf("Serve returned %v after %v", err, time.Since(start))
	}
}

// TestUpvaluesAcrossRequests checks #448 the way the toolkit met it: a
// closure made by the app shares a local with a body iterator after an
// error was caught.
func TestUpvaluesAcrossRequests(t *testing.T) {
	src := `return function(environ, start_response)
		local done = false
		local function finish() done = true end
		start_response("200 OK", {{"Content-Type", "text/plain"}})
		return function()
			if done then return nil end
			pcall(error, "ignored")
			finish()
			return "once"
		end
	end`
	rec := newRecorder()
	if err, _ := serveOnce(t, src, rec, ""); err != nil {
		t.Fatal(err)
	}
	if rec.body() != "once" {
		t.Fatalf("body %q: the iterator did not see done", rec.body())
	}
}

// TestTrustedLoaders checks dofile, loadfile and require's package.path
// searcher of trusted states, which read the disk: they compile through
// the bridge (# line, limits, rewrite).
func TestTrustedLoaders(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"mod.lua":  "#!/usr/bin/env lua\nlocal a, b = 1, 2\na, b = b, a\nreturn {a = a, b = b}",
		"deep.lua": "return " + strings.Repeat("(", 300) + "1" + strings.Repeat(")", 300),
		"run.lua":  "#!/usr/bin/env lua\nreturn 'ran'",
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer L.Close()
	if err := OpenLibs(L, true); err != nil {
		t.Fatal(err)
	}
	L.SetGlobal("dir", lua.LString(dir))
	err := L.DoString(`
		package.path = dir .. "/?.lua"
		local m = require "mod"
		swapped = m.a .. " " .. m.b
		ran = dofile(dir .. "/run.lua")
		loaded = loadfile(dir .. "/run.lua")()
		deep_require = select(2, pcall(require, "deep"))
		deep_loadfile = select(2, loadfile(dir .. "/deep.lua"))
		missing = select(2, pcall(require, "nosuch"))
	`)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"swapped":       "2 1",
		"ran":           "ran",
		"loaded":        "ran",
		"deep_require":  "error loading module 'deep' from file '" + dir + "/deep.lua'",
		"deep_loadfile": "deep.lua:1: chunk has too many syntax levels",
		"missing":       "no file '" + dir + "/nosuch.lua'",
	} {
		if got := L.GetGlobal(name).String(); !strings.Contains(got, want) {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
}

// TestWithoutInternals checks the fallbacks used when gopher-lua's state
// is not as expected: gopher-lua's own pcall, and yields refused across
// Go functions.
func TestWithoutInternals(t *testing.T) {
	saved := internals
	internals.err = errors.New("pretend gopher-lua changed")
	t.Cleanup(func() { internals = saved })
	out := runBridge(t, "fallback.lua", []byte(`
		print(pcall(error, "e", 0))
		print(pcall(function() error("lvl", 2) end))
		local co = coroutine.create(function() return pcall(coroutine.yield, 1) end)
		print(coroutine.resume(co))
		local gen = coroutine.wrap(function() coroutine.yield("a") coroutine.yield("b") end)
		print(gen(), gen())
		print(xpcall(function() error("x", 0) end, function(m) return "handled " .. m end))
		local y = 1
		local function sety(v) y = v end
		xpcall(function() error("x") end, print)
		sety(2)
		print(y)
	`))
	want := "false\te\nfalse\tlvl\ntrue\tfalse\tattempt to yield across metamethod/C-call boundary\na\tb\n" +
		"false\thandled x\nfallback.lua:11: x\n2\n"
	if out != want {
		t.Fatalf("got\n%s\nwant\n%s", out, want)
	}
}
