// Package lsgitest runs LSGI apps in process for Go tests: an
// *http.Request in, a recorded response out, with no socket. It is to LSGI
// apps (package host) what net/http/httptest is to handlers (net/http).
//
// Apps run with lsgi.validator on, so a test fails loudly on any breach of
// the LSGI contract, as Python's wsgiref.validate makes a WSGI app's tests
// do.
//
//	app := lsgitest.New(t, "plugins/hello.lua")
//	res := app.Get("/hello/x?name=you")
//	if res.Code != 200 { ... }
package lsgitest

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/lsgi/lsgi/host"
	"github.com/lsgi/lsgi/transport"
)

// App is an LSGI app loaded for a test.
type App struct {
	tb   testing.TB
	h    *host.Handler
	logs *bytes.Buffer
}

// New loads the Lua app in file, mounted at the root, with its folder as
// its module folder. The test fails at once if the app does not load. The
// app is closed when the test ends.
func New(tb testing.TB, file string) *App {
	tb.Helper()
	return load(tb, host.App{File: file})
}

// NewSource loads an app from Lua source, as New does for a file.
func NewSource(tb testing.TB, source string) *App {
	tb.Helper()
	return load(tb, host.App{Source: source, Name: "app"})
}

func load(tb testing.TB, app host.App) *App {
	tb.Helper()
	logs := &bytes.Buffer{}
	h, err := host.NewApp(app, host.Config{
		Validate: true,
		Logger:   slog.New(slog.NewTextHandler(logs, nil)),
	})
	if err != nil {
		tb.Fatalf("lsgitest: %v", err)
	}
	tb.Cleanup(func() { h.Close() })
	if err := h.Mounts()["/"]; err != nil {
		tb.Fatalf("lsgitest: %v", err)
	}
	return &App{tb: tb, h: h, logs: logs}
}

// Result is a recorded response.
type Result struct {
	*httptest.ResponseRecorder

	// Aborted is set when an app error cut the response after its headers
	// were sent: over HTTP the client would see a truncated body.
	Aborted bool
}

// Do runs one request through the app and records the response. Requests
// from httptest.NewRequest have no Content-Length header; set one when the
// app needs CONTENT_LENGTH.
func (a *App) Do(r *http.Request) *Result {
	a.tb.Helper()
	res := &Result{ResponseRecorder: httptest.NewRecorder()}
	err := transport.Catch(a.h, res, r)
	res.Aborted = errors.Is(err, host.ErrAborted)
	if err != nil && !res.Aborted {
		a.tb.Fatalf("lsgitest: %v", err)
	}
	return res
}

// Get runs a GET request for target ("/path?query").
func (a *App) Get(target string) *Result {
	a.tb.Helper()
	return a.Do(httptest.NewRequest(http.MethodGet, target, nil))
}

// Log returns what the app and the host logged so far: lsgi.errors and
// print output, and app errors with their tracebacks.
func (a *App) Log() string { return a.logs.String() }
