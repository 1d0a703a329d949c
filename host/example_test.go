package host_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing/fstest"

	"github.com/lsgi/lsgi/environ"
	"github.com/lsgi/lsgi/host"
	"github.com/lsgi/lsgi/luabridge"
	lua "github.com/yuin/gopher-lua"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// A single app from Lua source, called in process.
func Example() {
	h, err := host.NewApp(host.App{Source: `
			return function(environ, start_response)
				start_response("200 OK", {{"Content-Type", "text/plain"}})
				return {"Hello from ", environ.PATH_INFO}
			end`}, host.Config{Logger: quiet})
	if err != nil {
		panic(err)
	}
	defer h.Close()

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/world", nil))
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"), rec.Body.String())
	// Output: 200 text/plain Hello from /world
}

// Mounting the host under a prefix of your own mux, beside Go handlers.
// Root (not http.StripPrefix) keeps the prefix in SCRIPT_NAME, so apps can
// build their own URLs.
func Example_mux() {
	h, err := host.New(host.Config{
		Root: "/lua",
		Plugins: []host.PluginSource{host.App{Mount: "/app", Source: `
			return function(environ, start_response)
				start_response("200 OK", {})
				return {environ.SCRIPT_NAME, " ", environ.PATH_INFO}
			end`}},
		Logger: quiet,
	})
	if err != nil {
		panic(err)
	}
	defer h.Close()

	mux := http.NewServeMux()
	mux.Handle("/lua/", h)
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })

	for _, path := range []string{"/lua/app/items/3", "/health"} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		fmt.Println(rec.Body.String())
	}
	// Output:
	// /lua/app /items/3
	// ok
}

// Plugins shipped inside the binary (an embed.FS works the same way as this
// in-memory one), a Go function exposed to Lua as a module, and a value a
// middleware adds to the environ.
func ExampleConfig() {
	plugins := fstest.MapFS{"hello.lua": {Data: []byte(`
		local greeter = require "greeter"
		return function(environ, start_response)
			start_response("200 OK", {})
			return {greeter.greet(environ["example.user"])}
		end`)}}
	h, err := host.New(host.Config{
		Plugins: []host.PluginSource{host.FolderFS{FS: plugins}},
		Modules: map[string]luabridge.Loader{"greeter": func(L *lua.LState) int {
			L.Push(L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
				"greet": func(L *lua.LState) int {
					L.Push(lua.LString("Hello, " + strings.ToUpper(L.CheckString(1))))
					return 1
				},
			}))
			return 1
		}},
		Logger: quiet,
	})
	if err != nil {
		panic(err)
	}
	defer h.Close()
	withUser := func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, environ.WithVars(r, environ.Var{Name: "example.user", Value: r.Header.Get("X-User")}))
	}

	req := httptest.NewRequest("GET", "/hello", nil)
	req.Header.Set("X-User", "ann")
	rec := httptest.NewRecorder()
	withUser(rec, req)
	fmt.Println(rec.Body.String())
	// Output: Hello, ANN
}
