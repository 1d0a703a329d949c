package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"

	"github.com/lsgi/lsgi/host"
	"github.com/lsgi/lsgi/transport"
)

// check loads every app of a plugins folder as lsgi serve would, with the
// same flags and the same host.Config, runs each once on GET / through
// lsgi.validator, prints one line per app and exits 1 if any failed: for
// CI and pre-commit hooks.
func check(args []string, stdout, stderr io.Writer) int {
	f, code, ok := parseServeFor("check", args, stderr)
	if !ok {
		return code
	}
	if !f.set["data"] {
		// Databases, migrations and the generated secret go to a
		// folder of their own: a check leaves nothing behind.
		tmp, err := os.MkdirTemp("", "lsgi-check-")
		if err != nil {
			fmt.Fprintf(stderr, "lsgi check: %v\n", err)
			return 1
		}
		defer os.RemoveAll(tmp)
		_ = f.services.fs.Set("data", tmp)
	}
	f.reload = false
	logs := &errorLog{}
	logger := slog.New(logs)
	services, err := f.buildServices(logger)
	if err != nil {
		fmt.Fprintf(stderr, "lsgi check: %v\n", err)
		return 2
	}
	defer services.Close()
	f.accessLog = "off"
	cfg, closeLog, err := f.config(stderr, logger, services)
	if err != nil {
		fmt.Fprintf(stderr, "lsgi check: %v\n", err)
		return 1
	}
	defer closeLog()
	cfg.Validate = true
	h, err := host.New(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "lsgi check: %v\n", err)
		return 1
	}
	defer h.Close()
	apps := h.Apps()
	if len(apps) == 0 {
		fmt.Fprintf(stderr, "lsgi check: no app in %s (NAME.lua, NAME/init.lua or index.lua)\n", f.dir)
		return 1
	}
	width := 0
	for _, app := range apps {
		width = max(width, len(app.Mount))
	}
	failed := 0
	for _, app := range apps {
		problem, note := checkApp(h, app, logs)
		if problem != "" {
			failed++
			fmt.Fprintf(stdout, "FAIL %-*s  %s\n", width, app.Mount, problem)
			continue
		}
		fmt.Fprintf(stdout, "ok   %-*s  %s%s\n", width, app.Mount, app.File, note)
	}
	if failed > 0 {
		fmt.Fprintf(stderr, "lsgi check: %d of %d apps failed\n", failed, len(apps))
		return 1
	}
	return 0
}

// checkApp runs GET / on one app and returns what is wrong with it, ""
// when nothing is, and a note for an app that answered something other
// than a success or a redirect.
func checkApp(h *host.Handler, app host.AppInfo, logs *errorLog) (problem, note string) {
	if app.Err != nil {
		return withFile(app.File, app.Err.Error()), ""
	}
	target := strings.TrimSuffix(app.Mount, "/") + "/"
	req := httptest.NewRequestWithContext(context.Background(), http.MethodGet, target, nil)
	rec := httptest.NewRecorder()
	logs.reset()
	err := transport.Catch(h, rec, req)
	logged := logs.first()
	switch {
	case errors.Is(err, host.ErrAborted):
		return withFile(app.File, orDefault(logged, "GET "+target+": the response was aborted")), ""
	case err != nil:
		return withFile(app.File, err.Error()), ""
	case rec.Code >= 500:
		return withFile(app.File, orDefault(logged, fmt.Sprintf("GET %s answered %d", target, rec.Code))), ""
	case rec.Code >= 400:
		return "", fmt.Sprintf("  (GET %s: %d)", target, rec.Code)
	}
	return "", ""
}

// withFile puts the app's file before a message that names no position.
func withFile(file, msg string) string {
	if strings.Contains(msg, ".lua:") {
		return msg
	}
	return file + ": " + msg
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// errorLog is the log of lsgi check: it keeps the first error an app's run
// logged (the host's or the error middleware's "app error", with its err
// attribute) and drops the rest.
type errorLog struct {
	mu    sync.Mutex
	found string
}

func (l *errorLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.found = ""
}

func (l *errorLog) first() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.found
}

func (l *errorLog) Enabled(_ context.Context, level slog.Level) bool { return level >= slog.LevelError }

func (l *errorLog) Handle(_ context.Context, r slog.Record) error {
	msg := r.Message
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "err" {
			msg = a.Value.String()
			return false
		}
		return true
	})
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.found == "" {
		l.found = msg
	}
	return nil
}

func (l *errorLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *errorLog) WithGroup(string) slog.Handler      { return l }
