package host

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lsgi/lsgi/luabridge"
	lua "github.com/yuin/gopher-lua"
)

// waitLog waits up to 10s for the log to hold want.
func waitLog(t *testing.T, logs *syncBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("the log never said %q:\n%s", want, logs)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestUndoRestores breaks a plugin, then restores the byte-identical last
// good file, as an editor's undo does: the app serves again and the log
// says so.
func TestUndoRestores(t *testing.T) {
	dir := t.TempDir()
	good := versionApp("v1")
	writeFile(t, filepath.Join(dir, "a.lua"), good)
	h, logs := newTestHandler(t, Config{Plugins: []PluginSource{Folder{Path: dir}}, Dev: true})
	sync := func() {
		t.Helper()
		if err := h.reg.update(context.Background(), scope{src: 0, names: []string{"a"}}); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(dir, "a.lua"), "return function(")
	sync()
	if rec := getLocal(h, "GET", "/a", ""); rec.Code != 500 || !strings.Contains(rec.Body.String(), "failed to load") {
		t.Fatalf("a broken save under Dev: %d %q, want the load error", rec.Code, rec.Body.String())
	}
	if rec := get(h, "GET", "/a"); rec.Code != 200 || rec.Body.String() != "v1" {
		t.Errorf("a broken save under Dev, for another machine: %d %q, want the version that serves", rec.Code, rec.Body.String())
	}
	writeFile(t, filepath.Join(dir, "a.lua"), good)
	sync()
	if rec := get(h, "GET", "/a"); rec.Code != 200 || rec.Body.String() != "v1" {
		t.Errorf("after the undo: %d %q, want 200 v1", rec.Code, rec.Body.String())
	}
	if h.Mounts()["/a"] != nil || h.reg.plugins["/a"].loadError() != nil {
		t.Errorf("after the undo the app still reports a failure")
	}
	if !strings.Contains(logs.String(), `level=INFO msg="app restored" app=a`) {
		t.Errorf("no app restored line in the log:\n%s", logs)
	}
}

// blockingModules gives plugins a Go function that blocks until release is
// closed, and reports on entered when it starts: a main chunk that no
// context can interrupt.
func blockingModules(entered chan<- string, release <-chan struct{}) map[string]luabridge.Loader {
	return map[string]luabridge.Loader{"block": func(L *lua.LState) int {
		L.Push(L.NewFunction(func(L *lua.LState) int {
			entered <- L.CheckString(1)
			<-release
			return 0
		}))
		return 1
	}}
}

// TestSlowLoadDelaysOnlyItsPlugin reloads a plugin whose main chunk hangs in
// Go, then another plugin: the second reload does not wait for the first.
func TestSlowLoadDelaysOnlyItsPlugin(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "slow.lua"), versionApp("slow1"))
	writeFile(t, filepath.Join(dir, "fast.lua"), versionApp("fast1"))
	entered, release := make(chan string, 1), make(chan struct{})
	h, _ := newTestHandler(t, Config{Plugins: []PluginSource{Folder{Path: dir}}, Modules: blockingModules(entered, release)})

	writeFile(t, filepath.Join(dir, "slow.lua"), `require("block")("slow") `+versionApp("slow2"))
	slowDone := make(chan error, 1)
	go func() { slowDone <- h.reg.update(context.Background(), scope{src: 0, names: []string{"slow"}}) }()
	<-entered // the slow plugin's main chunk is running

	writeFile(t, filepath.Join(dir, "fast.lua"), versionApp("fast2"))
	fastDone := make(chan error, 1)
	go func() { fastDone <- h.reg.update(context.Background(), scope{src: 0, names: []string{"fast"}}) }()
	select {
	case err := <-fastDone:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the fast plugin's reload waited for the slow one")
	}
	if got := get(h, "GET", "/fast").Body.String(); got != "fast2" {
		t.Errorf("fast plugin serves %q, want fast2", got)
	}
	if got := get(h, "GET", "/slow").Body.String(); got != "slow1" {
		t.Errorf("slow plugin serves %q while its new version loads, want slow1", got)
	}
	close(release)
	if err := <-slowDone; err != nil {
		t.Fatal(err)
	}
	waitBody(t, h, "/slow", "slow2")
}

// TestShutdownIsBounded shuts down while a load hangs in Go: Shutdown
// returns at its context's deadline, and the load, once it ends, leaves no
// Lua state open.
func TestShutdownIsBounded(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.lua"), versionApp("a1"))
	entered, release := make(chan string, 1), make(chan struct{})
	h, _ := newTestHandler(t, Config{Plugins: []PluginSource{Folder{Path: dir}}, Modules: blockingModules(entered, release)})
	writeFile(t, filepath.Join(dir, "a.lua"), `require("block")("a") `+versionApp("a2"))
	done := make(chan error, 1)
	go func() { done <- h.Reload(context.Background()) }()
	<-entered

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := h.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown = %v, want the context's deadline", err)
	}
	close(release)
	<-done
	waitLive(t, h, 0)
}

// TestTwoAppsOnOneMount fails at start.
func TestTwoAppsOnOneMount(t *testing.T) {
	_, err := New(Config{Plugins: []PluginSource{
		Folder{Path: "testdata/plugins"},
		App{Mount: "/echo", Source: versionApp("x")},
	}, Logger: quietLogger()})
	if err == nil || !strings.Contains(err.Error(), `two apps mounted at "/echo"`) {
		t.Errorf("New = %v, want a mount conflict", err)
	}
}

// TestNewAppServesAlone mounts its app at / whatever Mount says, and takes
// no other source.
func TestNewAppServesAlone(t *testing.T) {
	h, err := NewApp(App{Mount: "/ignored", Source: splitApp}, Config{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if got := get(h, "GET", "/x").Body.String(); got != "|/x|nil" {
		t.Errorf("GET /x = %q, want the app at the root", got)
	}
	if _, err := NewApp(App{Source: splitApp}, Config{Plugins: []PluginSource{Folder{Path: "."}}}); err == nil {
		t.Error("NewApp took other plugin sources")
	}
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
