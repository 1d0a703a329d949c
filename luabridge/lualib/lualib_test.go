package lualib

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/lsgi/lsgi/luabridge"
	lua "github.com/yuin/gopher-lua"
)

// allModules lists every name Preload must register.
var allModules = []string{
	ModRequest, ModResponse, ModRouter, ModValidator, ModBody, ModErrors, ModHeaders,
	ModStatic, ModGzip, ModTemplate, ModJSON, ModHTML, ModUtil,
	ModShared, ModSession, ModConfig, ModCrypto, ModDB, ModHTTP,
}

func TestPreloadRegistersEveryModule(t *testing.T) {
	sh := NewShared(Options{FS: fstest.MapFS{}})
	L := newSafeState(t)
	sh.Preload(L)
	for _, name := range allModules {
		if err := L.DoString(fmt.Sprintf("assert(type(require(%q)) == 'table')", name)); err != nil {
			t.Errorf("require %q: %v", name, err)
		}
	}
	// The safe state opens no file: nothing above needed one.
	if err := L.DoString(`assert(io.open("lualib_test.go") == nil and debug.sethook == nil)`); err != nil {
		t.Fatal("the test state must open no file and only read debug information:", err)
	}
}

func TestValidate(t *testing.T) {
	sh := NewShared(Options{})
	L := newSafeState(t)
	sh.Preload(L)
	if err := L.DoString(`app = function(environ, start_response) start_response("200 OK", {}) return "oops" end`); err != nil {
		t.Fatal(err)
	}
	wrapped, err := Validate(L, L.GetGlobal("app"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := wrapped.(*lua.LFunction); !ok {
		t.Fatalf("Validate returned %s, want a function", wrapped.Type())
	}
	L.SetGlobal("wrapped", wrapped)
	err = L.DoString(`
		local fake = {}
		local env = {REQUEST_METHOD="GET", SCRIPT_NAME="", PATH_INFO="/", QUERY_STRING="", SERVER_NAME="x",
			SERVER_PORT="80", SERVER_PROTOCOL="HTTP/1.1", ["lsgi.version"]={1,0}, ["lsgi.url_scheme"]="http",
			["lsgi.input"]={read=function() end, readline=function() end, lines=function() end},
			["lsgi.errors"]={write=function() end, flush=function() end},
			["lsgi.multithread"]=false, ["lsgi.multiprocess"]=true, ["lsgi.run_once"]=false}
		wrapped(env, function() return function() end end)`)
	if err == nil || !strings.Contains(err.Error(), "lsgi.validator: the app returned a string") {
		t.Fatalf("error = %v, want the validator's message about a string result", err)
	}
	if _, err := Validate(L, lua.LString("not callable")); err == nil {
		t.Fatal("Validate must refuse a value that is not callable")
	}
	bare := newSafeState(t)
	if _, err := Validate(bare, L.GetGlobal("app")); err == nil {
		t.Fatal("Validate must fail on a state that was not preloaded")
	}
}

func TestNoFolder(t *testing.T) {
	sh := NewShared(Options{})
	L := newSafeState(t)
	sh.Preload(L)
	for _, code := range []string{
		`require("lsgi.template").render("x.html", {})`,
		`require("lsgi.middleware.static")(nil)`,
	} {
		err := L.DoString(code)
		if err == nil || !strings.Contains(err.Error(), "has no folder") {
			t.Errorf("%s: error = %v, want a clear message about the missing folder", code, err)
		}
	}
	if err := L.DoString(`assert(require("lsgi.template").exists("x.html") == false)`); err != nil {
		t.Error(err)
	}
}

func TestDevOptionReachesLua(t *testing.T) {
	for _, dev := range []bool{false, true} {
		L := newSafeState(t)
		NewShared(Options{Dev: dev}).Preload(L)
		if err := L.DoString(fmt.Sprintf(`assert(require("lsgi._native").dev == %v)`, dev)); err != nil {
			t.Errorf("dev=%v: %v", dev, err)
		}
	}
}

// TestConcurrentStates renders templates and runs requests from many states
// at once, sharing one Shared, as the host's pool does (run with -race).
func TestConcurrentStates(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "templates"), 0o755)
	page := filepath.Join(dir, "templates", "p.html")
	os.WriteFile(page, []byte(`<p>{{.n}}</p>`), 0o644)
	sh := NewShared(Options{FS: os.DirFS(dir)})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			L := lua.NewState(lua.Options{SkipOpenLibs: true})
			defer L.Close()
			if err := luabridge.OpenLibs(L, false); err != nil {
				errs <- err
				return
			}
			sh.Preload(L)
			err := L.DoString(`
				local template = require "lsgi.template"
				local json = require "json"
				for i = 1, 200 do
					local out = template.render("templates/p.html", { n = i })
					if out ~= "<p>" .. i .. "</p>" and not out:find("^<b>") then error("bad render: " .. out) end
					assert(json.decode(json.encode({ i = i })).i == i)
				end`)
			if err != nil {
				errs <- err
			}
		}()
	}
	// Edit the template while the states render, atomically as editors
	// save (a reader never sees a half-written file).
	tmp := page + ".new"
	os.WriteFile(tmp, []byte(`<b>{{.n}}</b>`), 0o644)
	if err := os.Rename(tmp, page); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestTemplateCacheReparses(t *testing.T) {
	fsys := fstest.MapFS{"t.html": {Data: []byte("one {{.}}")}}
	var c templateCache
	c.init()
	L := newSafeState(t)
	lim := luabridge.Limits{MaxStringBytes: 1 << 20}
	out, err := c.render(L, fsys, []string{"t.html"}, lua.LString("x"), lim)
	if err != nil || out != "one x" {
		t.Fatalf("render = %q, %v", out, err)
	}
	// MapFS has no modification times: the content decides.
	fsys["t.html"] = &fstest.MapFile{Data: []byte("two {{.}}")}
	if out, _ := c.render(L, fsys, []string{"t.html"}, lua.LString("y"), lim); out != "two y" {
		t.Fatalf("after an edit: %q", out)
	}
	delete(fsys, "t.html")
	if _, err := c.render(L, fsys, []string{"t.html"}, lua.LString("z"), lim); err == nil {
		t.Fatal("a deleted template must fail")
	}
	for i := 0; i < 100; i++ {
		c.render(L, fsys, []string{fmt.Sprintf("missing-%d.html", i)}, lua.LNil, lim)
	}
	if n := len(c.entries); n != 0 {
		t.Fatalf("missing templates must not stay in the cache: %d entries", n)
	}
	// A file older than the racy window is not read again while its time
	// and size stay the same.
	old := time.Now().Add(-time.Hour)
	fsys["o.html"] = &fstest.MapFile{Data: []byte("AAA"), ModTime: old}
	c.render(L, fsys, []string{"o.html"}, lua.LNil, lim)
	fsys["o.html"] = &fstest.MapFile{Data: []byte("BBB"), ModTime: old}
	if out, _ := c.render(L, fsys, []string{"o.html"}, lua.LNil, lim); out != "AAA" {
		t.Fatalf("an unchanged stamp must keep the cached parse, got %q", out)
	}
	fsys["o.html"] = &fstest.MapFile{Data: []byte("BBB"), ModTime: old.Add(time.Second)}
	if out, _ := c.render(L, fsys, []string{"o.html"}, lua.LNil, lim); out != "BBB" {
		t.Fatalf("a new modification time must re-parse, got %q", out)
	}
}

func TestToGo(t *testing.T) {
	L := newSafeState(t)
	tests := []struct {
		lua  string
		want string
	}{
		{`nil`, `<nil>`},
		{`3`, `3`},
		{`3.5`, `3.5`},
		{`"s"`, `s`},
		{`{1, 2}`, `[1 2]`},
		{`{a = 1}`, `map[a:1]`},
		{`{}`, `map[]`},
		{`{[1] = "a", [3] = "c"}`, `map[1:a 3:c]`},
		{`{1, x = 2}`, `map[1:1 x:2]`},
	}
	for _, tt := range tests {
		if err := L.DoString("v = " + tt.lua); err != nil {
			t.Fatal(err)
		}
		got, err := toGo(L, luabridge.Limits{}, L.GetGlobal("v"))
		if err != nil {
			t.Errorf("toGo(%s): %v", tt.lua, err)
			continue
		}
		if s := fmt.Sprint(got); s != tt.want {
			t.Errorf("toGo(%s) = %s, want %s", tt.lua, s, tt.want)
		}
	}
	L.DoString(`v = {f = print}`)
	if _, err := toGo(L, luabridge.Limits{}, L.GetGlobal("v")); err == nil || !strings.Contains(err.Error(), "function") {
		t.Errorf("a function must be refused, got %v", err)
	}
}

func TestJSONNumbers(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0"}, {1, "1"}, {-17, "-17"}, {0.1, "0.1"}, {1e20, "100000000000000000000"},
		{1e21, "1e+21"}, {1e-6, "0.000001"}, {1e-7, "1e-7"}, {123456789.125, "123456789.125"},
		{9007199254740993, "9007199254740992"},
	}
	for _, tt := range tests {
		e := &jsonEncoder{}
		if err := e.number(tt.in); err != nil || string(e.buf) != tt.want {
			t.Errorf("number(%v) = %q, %v; want %q", tt.in, e.buf, err, tt.want)
		}
	}
}

func TestJSONStrings(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"plain", `"plain"`, true},
		{"q\"b\\", `"q\"b\\"`, true},
		{"\x00\x1f\x7f", `"\u0000\u001f` + "\x7f" + `"`, true},
		{"<script>&", `"\u003cscript\u003e\u0026"`, true},
		{"é\u2028\u2029", `"é\u2028\u2029"`, true},
		{"bad\xff", "", false},
	}
	for _, tt := range tests {
		e := &jsonEncoder{}
		err := e.string(tt.in)
		if (err == nil) != tt.ok || (tt.ok && string(e.buf) != tt.want) {
			t.Errorf("string(%q) = %q, %v; want %q (ok %v)", tt.in, e.buf, err, tt.want, tt.ok)
		}
	}
}
