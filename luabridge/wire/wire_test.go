package wire_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/lsgi/lsgi/environ"
	"github.com/lsgi/lsgi/luabridge"
	"github.com/lsgi/lsgi/luabridge/wire"
	lua "github.com/yuin/gopher-lua"
)

// recorder is a luabridge.ResponseWriter that keeps the body.
type recorder struct {
	status int
	body   strings.Builder
}

func (r *recorder) AddHeader(name, value string) {}
func (r *recorder) Start(status int, reason string, contentLength int64) (bool, error) {
	r.status = status
	return true, nil
}
func (r *recorder) Write(chunk string, flush bool) error { r.body.WriteString(chunk); return nil }

func TestProgram(t *testing.T) {
	modules := map[string]luabridge.Loader{"greeter": func(L *lua.LState) int {
		L.Push(lua.LString("hello from Go"))
		return 1
	}}
	assets := fstest.MapFS{"t.html": {Data: []byte("<b>{{.name}}</b>")}}
	tests := []struct {
		desc, src string
		validate  bool
		want      string // the body, or "error: ..." for an error containing it
	}{
		{"the toolkit's modules", `local html = require "lsgi.html"
			return function(e, sr) sr("200 OK", {}) return {html.escape("<x>")} end`, false, "&lt;x&gt;"},
		{"the host's Go modules", `local g = require "greeter"
			return function(e, sr) sr("200 OK", {}) return {g} end`, false, "hello from Go"},
		{"templates from the assets", `local template = require "lsgi.template"
			return function(e, sr) sr("200 OK", {}) return {template.render("t.html", {name = "<n>"})} end`, false, "<b>&lt;n&gt;</b>"},
		{"the validator when asked", `return function(e, sr) sr("200 OK", {{"Connection", "close"}}) return {"x"} end`, true,
			"error: lsgi.validator: headers[1]: Connection is a hop-by-hop header"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			prog, err := wire.Program(wire.App{Name: "t", Chunk: "t.lua", Source: []byte(tt.src), Assets: assets},
				wire.Options{Validate: tt.validate, Modules: modules, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				t.Fatal(err)
			}
			pool, err := luabridge.NewPool(context.Background(), prog, 1)
			if err != nil {
				t.Fatal(err)
			}
			defer pool.Close()
			st, err := pool.Get(context.Background(), 0)
			if err != nil {
				t.Fatal(err)
			}
			defer pool.Put(st)
			rec := &recorder{}
			var vars environ.Vars
			for _, kv := range [][2]string{{"REQUEST_METHOD", "GET"}, {"SCRIPT_NAME", ""}, {"PATH_INFO", "/"}, {"QUERY_STRING", ""},
				{"SERVER_NAME", "localhost"}, {"SERVER_PORT", "80"}, {"SERVER_PROTOCOL", "HTTP/1.1"}, {"lsgi.url_scheme", "http"}} {
				vars = append(vars, environ.Var{Name: kv[0], Value: kv[1]})
			}
			err = st.Serve(context.Background(), &luabridge.Request{Vars: vars}, rec)
			if want, ok := strings.CutPrefix(tt.want, "error: "); ok {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("Serve = %v, want an error containing %q", err, want)
				}
				return
			}
			if err != nil || rec.body.String() != tt.want {
				t.Errorf("Serve = %v, body %q; want %q", err, rec.body.String(), tt.want)
			}
		})
	}
}
