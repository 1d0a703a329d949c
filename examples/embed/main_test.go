package main

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// newTestApp builds the example's handler with a plugins folder holding
// the given files (none: no folder), and closes it when the test ends. It
// returns the folder and the log.
func newTestApp(t *testing.T, files map[string]string) (*app, string, *logWatch) {
	t.Helper()
	dir := ""
	if files != nil {
		dir = t.TempDir()
		for name, src := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	log := &logWatch{changed: make(chan struct{})}
	a, err := newApp(dir, slog.New(slog.NewTextHandler(log, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := a.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return a, dir, log
}

// logWatch collects log output and lets a test wait for a line.
type logWatch struct {
	mu      sync.Mutex
	text    strings.Builder
	changed chan struct{} // closed and replaced at each write
}

func (l *logWatch) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.text.Write(p)
	close(l.changed)
	l.changed = make(chan struct{})
	return len(p), nil
}

// wait waits up to 10s for the log to contain s.
func (l *logWatch) wait(t *testing.T, s string) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		l.mu.Lock()
		text, changed := l.text.String(), l.changed
		l.mu.Unlock()
		if strings.Contains(text, s) {
			return
		}
		select {
		case <-changed:
		case <-timeout:
			t.Fatalf("no %q in the log within 10s:\n%s", s, text)
		}
	}
}

// do serves one request in process.
func do(h http.Handler, method, target, user string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	if user != "" {
		req.Header.Set("X-User", user)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// TestRoutes checks the Go handlers and the embedded app side by side.
func TestRoutes(t *testing.T) {
	a, _, _ := newTestApp(t, nil)
	for _, tc := range []struct {
		name, target, user string
		status             int
		body               string
	}{
		{"Go index", "/", "", 200, "A Go program with LSGI apps inside. Try /lua/hello (send X-User: you).\n"},
		{"Go health check", "/healthz", "", 200, "ok\n"},
		{"embedded app, Go module and environ entry", "/lua/hello", "ana", 200,
			"Hello, ana, from Go!\nSCRIPT_NAME=/lua/hello PATH_INFO=\n"},
		{"embedded app, no user", "/lua/hello/a/b", "", 200,
			"Hello, stranger, from Go!\nSCRIPT_NAME=/lua/hello PATH_INFO=/a/b\n"},
		{"no such embedded app: the host's 404", "/lua/nope", "", 404, "404 Not Found\n"},
		{"outside every mount: the mux's 404", "/luax", "", 404, "404 page not found\n"},
		{"no -plugins, no /plugins/", "/plugins/x", "", 404, "404 page not found\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := do(a, "GET", tc.target, tc.user)
			if rec.Code != tc.status || rec.Body.String() != tc.body {
				t.Errorf("GET %s = %d %q, want %d %q", tc.target, rec.Code, rec.Body.String(), tc.status, tc.body)
			}
		})
	}
}

const greetApp = `local greeter = require "greeter"
return function(environ, start_response)
  start_response("200 OK", {{"Content-Type", "text/plain"}})
  return {greeter.hello(environ["example.user"] or "nobody") .. " " .. environ.SCRIPT_NAME .. environ.PATH_INFO}
end`

// TestPluginsFolder checks the -plugins folder: mounted under /plugins/,
// with the same Go module and environ entry, and reloaded on change.
func TestPluginsFolder(t *testing.T) {
	a, dir, log := newTestApp(t, map[string]string{"greet.lua": greetApp})
	if rec := do(a, "GET", "/plugins/greet/x", "bo"); rec.Code != 200 || rec.Body.String() != "Hello, bo, from Go! /plugins/greet/x" {
		t.Errorf("GET /plugins/greet/x = %d %q", rec.Code, rec.Body.String())
	}
	// The embedded apps are still there, in their own host.
	if rec := do(a, "GET", "/lua/hello", "bo"); rec.Code != 200 || !strings.HasPrefix(rec.Body.String(), "Hello, bo, from Go!") {
		t.Errorf("GET /lua/hello = %d %q", rec.Code, rec.Body.String())
	}

	// A new file in the folder is mounted without a restart.
	src := `return function(e, sr) sr("200 OK", {}) return {"new"} end`
	if err := os.WriteFile(filepath.Join(dir, "new.lua"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	log.wait(t, `msg="app mounted" app=new`)
	if rec := do(a, "GET", "/plugins/new", ""); rec.Code != 200 || rec.Body.String() != "new" {
		t.Errorf("GET /plugins/new after writing new.lua = %d %q", rec.Code, rec.Body.String())
	}
}

// Example shows the embedded app answering through the program's mux.
func Example() {
	a, err := newApp("", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer a.Close()
	rec := do(a, "GET", "/lua/hello/docs", "gopher")
	fmt.Print(rec.Code, " ", rec.Body.String())
	// Output:
	// 200 Hello, gopher, from Go!
	// SCRIPT_NAME=/lua/hello PATH_INFO=/docs
}
