package host

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/lsgi/lsgi/environ"
	"github.com/lsgi/lsgi/luabridge"
	lua "github.com/yuin/gopher-lua"
)

const splitApp = `return function(e, sr) sr("200 OK", {}) return {e.SCRIPT_NAME .. "|" .. e.PATH_INFO .. "|" .. tostring(e["myapp.user"])} end`

func TestEmbedding(t *testing.T) {
	h, _ := newTestHandler(t, Config{
		Root: "/lua",
		Plugins: []PluginSource{
			App{Mount: "/", Source: splitApp, Name: "root"},
			App{Mount: "/api/v1", Source: splitApp, Name: "api"},
			App{Mount: "/greet", Name: "greet", Source: `local g = require "greeter"
				return function(e, sr) sr("200 OK", {}) return {g.hello(e.PATH_INFO)} end`},
		},
		Modules: map[string]luabridge.Loader{"greeter": func(L *lua.LState) int {
			L.Push(L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
				"hello": func(L *lua.LState) int {
					L.Push(lua.LString("hello from Go, " + L.CheckString(1)))
					return 1
				},
			}))
			return 1
		}},
	})
	// A middleware adds an environ entry, as authentication would.
	withUser := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, environ.WithVars(r, environ.Var{Name: "myapp.user", Value: r.Header.Get("X-User")}))
	})
	mux := http.NewServeMux()
	mux.Handle("/lua/", withUser)
	mux.HandleFunc("/go", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("go handler")) })

	tests := []struct{ target, want string }{
		{"/lua/x", "/lua|/x|bob"},
		{"/lua/api/v1/items/3", "/lua/api/v1|/items/3|bob"},
		{"/lua/api/v1", "/lua/api/v1||bob"},
		{"/lua/greet/you", "hello from Go, /you"},
		{"/go", "go handler"},
	}
	for _, tt := range tests {
		req := httptest.NewRequest("GET", tt.target, nil)
		req.Header.Set("X-User", "bob")
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		if rec.Code != 200 || rec.Body.String() != tt.want {
			t.Errorf("GET %s = %d %q, want %q", tt.target, rec.Code, rec.Body.String(), tt.want)
		}
	}
	// Outside Root: not ours.
	if rec := get(h, "GET", "/luax"); rec.Code != http.StatusNotFound {
		t.Errorf("GET /luax = %d, want 404", rec.Code)
	}
}

func TestTwoHostsDoNotInterfere(t *testing.T) {
	counter := `n = (n or 0) + 1 return function(e, sr) n = n + 1 sr("200 OK", {}) return {NAME .. n} end`
	a, _ := newTestHandler(t, Config{States: 1, Plugins: []PluginSource{App{Mount: "/", Source: "NAME = 'a' " + counter}}})
	b, _ := newTestHandler(t, Config{States: 1, Plugins: []PluginSource{App{Mount: "/", Source: "NAME = 'b' " + counter}}})
	for i := 0; i < 3; i++ {
		get(a, "GET", "/")
	}
	if got := get(b, "GET", "/").Body.String(); got != "b2" {
		t.Errorf("second host saw %q, want b2 (its own globals)", got)
	}
	a.Close()
	if got := get(b, "GET", "/").Body.String(); got != "b3" {
		t.Errorf("closing one host affected the other: %q", got)
	}
}

func TestAppFromFile(t *testing.T) {
	h, _ := newTestHandler(t, Config{Plugins: []PluginSource{App{Mount: "/blog", File: "testdata/plugins/blog/init.lua"}}})
	if rec := get(h, "GET", "/blog/x"); rec.Body.String() != "post/x" {
		t.Errorf("app from a file with a module: %d %q", rec.Code, rec.Body.String())
	}
	if _, err := New(Config{Plugins: []PluginSource{App{Mount: "x", Source: splitApp}}}); err == nil || !strings.Contains(err.Error(), "must start with /") {
		t.Errorf("a mount without a slash: %v", err)
	}
}
