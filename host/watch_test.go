package host

import (
	"io"

	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/fsnotify/fsnotify"
)

// versionApp is a plugin whose body names its version.
func versionApp(v string) string {
	return `return function(e, sr) sr("200 OK", {}) return {"` + v + `"} end`
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// waitBody polls until target answers 200 with want, for at most 5s.
func waitBody(t *testing.T, h http.Handler, target, want string) {
	t.Helper()
	waitResponse(t, h, target, 200, want)
}

func waitResponse(t *testing.T, h http.Handler, target string, status int, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		rec := get(h, "GET", target)
		last = rec.Body.String()
		if rec.Code == status && last == want {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("GET %s never answered %q (last: %q)", target, want, last)
}

func TestWatchReloads(t *testing.T) {
	for _, mode := range []struct {
		desc string
		poll time.Duration
	}{{"events", 0}, {"polling", 20 * time.Millisecond}} {
		t.Run(mode.desc, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "app.lua"), versionApp("v1"))
			h, logs := newTestHandler(t, Config{Plugins: []PluginSource{Folder{Path: dir, Watch: true, PollInterval: mode.poll}}})
			waitBody(t, h, "/app", "v1")

			writeFile(t, filepath.Join(dir, "app.lua"), versionApp("v2"))
			waitBody(t, h, "/app", "v2")

			// A broken version is not swapped in.
			writeFile(t, filepath.Join(dir, "app.lua"), "return function(")
			deadline := time.Now().Add(5 * time.Second)
			for !strings.Contains(logs.String(), "previous version keeps serving") && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			if rec := get(h, "GET", "/app"); rec.Body.String() != "v2" {
				t.Errorf("after a broken save: %d %q, want v2 still", rec.Code, rec.Body.String())
			}
			writeFile(t, filepath.Join(dir, "app.lua"), versionApp("v3"))
			waitBody(t, h, "/app", "v3")

			// New, renamed and removed plugins.
			writeFile(t, filepath.Join(dir, "new.lua"), versionApp("new"))
			waitBody(t, h, "/new", "new")
			if err := os.Rename(filepath.Join(dir, "new.lua"), filepath.Join(dir, "moved.lua")); err != nil {
				t.Fatal(err)
			}
			waitBody(t, h, "/moved", "new")
			if err := os.Remove(filepath.Join(dir, "moved.lua")); err != nil {
				t.Fatal(err)
			}
			waitResponse(t, h, "/moved", 404, "404 Not Found\n")
		})
	}
}

func TestReloadOnlyChangedPlugin(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.lua"), `n = 0 return function(e, sr) n = n + 1 sr("200 OK", {}) return {"a" .. n} end`)
	writeFile(t, filepath.Join(dir, "b/init.lua"), `local m = require "m" return function(e, sr) sr("200 OK", {}) return {m} end`)
	writeFile(t, filepath.Join(dir, "b/m.lua"), `return "m1"`)
	h, _ := newTestHandler(t, Config{Plugins: []PluginSource{Folder{Path: dir, Watch: true}}, States: 1})
	waitBody(t, h, "/a", "a1")
	waitBody(t, h, "/b", "m1")
	writeFile(t, filepath.Join(dir, "b/m.lua"), `return "m2"`)
	waitBody(t, h, "/b", "m2")
	// a kept its state: its global counter went on.
	waitBody(t, h, "/a", "a2")
}

func TestSaveWithoutChangeDoesNotReload(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.lua"), versionApp("v1"))
	h, _ := newTestHandler(t, Config{Plugins: []PluginSource{Folder{Path: dir}}})
	pl, _ := h.reg.lookup("/a")
	before := pl.current.Load()
	writeFile(t, filepath.Join(dir, "a.lua"), versionApp("v1"))
	h.reg.update(context.Background(), scope{src: 0, names: []string{"a"}})
	if pl.current.Load() != before {
		t.Error("an identical save loaded a new version")
	}
}

func TestInFlightRequestFinishesOnOldVersion(t *testing.T) {
	dir := t.TempDir()
	// v1 streams slowly and reports close() in the log.
	writeFile(t, filepath.Join(dir, "s.lua"), `return function(e, sr)
		sr("200 OK", {})
		local i = 0
		return setmetatable({}, {__call = function()
			i = i + 1
			if i > 3 then return nil end
			local t = os.clock() while os.clock() - t < 0.1 do end
			return "v1." .. i .. ";"
		end, __index = {close = function() e["lsgi.errors"]:write("CLOSED v1\n") end}})
	end`)
	h, logs := newTestHandler(t, Config{Plugins: []PluginSource{Folder{Path: dir}}})
	srv := httptest.NewServer(h)
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/s")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	first := make([]byte, 5)
	if _, err := resp.Body.Read(first); err != nil {
		t.Fatal(err)
	}
	// Swap to v2 while v1 is mid-stream.
	writeFile(t, filepath.Join(dir, "s.lua"), versionApp("v2"))
	h.reg.update(context.Background(), scope{src: 0, names: []string{"s"}})
	if rec := get(h, "GET", "/s"); rec.Body.String() != "v2" {
		t.Errorf("new request during the swap: %q, want v2", rec.Body.String())
	}
	rest := new(strings.Builder)
	if _, err := ioCopy(rest, resp.Body); err != nil {
		t.Fatal(err)
	}
	if got := string(first) + rest.String(); got != "v1.1;v1.2;v1.3;" {
		t.Errorf("in-flight body = %q, want the whole v1 body", got)
	}
	if n := strings.Count(logs.String(), "CLOSED v1"); n != 1 {
		t.Errorf("v1 close() ran %d times, want 1", n)
	}
	waitLive(t, h, 1) // the v1 state was closed once it came back
}

func waitLive(t *testing.T, h *Handler, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for h.LiveStates() != want && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := h.LiveStates(); got != want {
		t.Errorf("live Lua states = %d, want %d", got, want)
	}
}

func TestNoLeakAfterManyReloads(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.lua"), versionApp("a"))
	writeFile(t, filepath.Join(dir, "b.lua"), versionApp("b"))
	h, _ := newTestHandler(t, Config{Plugins: []PluginSource{Folder{Path: dir, Watch: true}}, States: 4})
	srv := httptest.NewServer(h)
	defer srv.Close()
	client := srv.Client()
	fetch := func(path string) {
		resp, err := client.Get(srv.URL + path)
		if err != nil {
			t.Error(err)
			return
		}
		ioCopy(new(strings.Builder), resp.Body)
		resp.Body.Close()
	}
	fetch("/a")
	fetch("/b")
	settle := func() (goroutines, states int) {
		client.CloseIdleConnections()
		time.Sleep(50 * time.Millisecond)
		return runtime.NumGoroutine(), h.LiveStates()
	}
	baseG, baseS := settle()

	// Requests run throughout, so retired versions have states in flight.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
					fetch("/a")
				}
			}
		}()
	}
	for i := 0; i < 1000; i++ {
		if err := h.Reload(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	// The current versions may have opened more states for the concurrent
	// requests; a last reload starts them over at one state each, so what
	// remains above the baseline is a leak.
	if err := h.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}

	deadline := time.Now().Add(10 * time.Second)
	g, s := settle()
	for (g > baseG || s > baseS) && time.Now().Before(deadline) {
		g, s = settle()
	}
	if g > baseG || s > baseS {
		t.Errorf("after 1000 reloads: %d goroutines and %d Lua states, baseline %d and %d", g, s, baseG, baseS)
	}
}

func TestDebouncePerPlugin(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := &watcher{pending: map[string]*pendingSync{}, work: make(chan string, 64), stop: make(chan struct{})}
		// A burst of events for one plugin, spread over less than the
		// quiet period each, and one event for another plugin.
		for i := 0; i < 5; i++ {
			w.schedule("a")
			time.Sleep(debounceQuiet / 2)
		}
		w.schedule("b")
		time.Sleep(debounceMax)
		synctest.Wait()
		got := map[string]int{}
		for len(w.work) > 0 {
			got[<-w.work]++
		}
		if got["a"] != 1 || got["b"] != 1 || len(got) != 2 {
			t.Errorf("syncs = %v, want one for a and one for b", got)
		}

		// Events that never stop still sync within debounceMax.
		start := time.Now()
		var fired time.Duration
		for fired == 0 && time.Since(start) < 2*debounceMax {
			w.schedule("c")
			time.Sleep(debounceQuiet / 2)
			synctest.Wait()
			if len(w.work) > 0 {
				fired = time.Since(start)
			}
		}
		if fired == 0 || fired > debounceMax+debounceQuiet {
			t.Errorf("a plugin under constant events synced after %v, want within %v", fired, debounceMax)
		}
		close(w.stop)
	})
}

func TestEventMapping(t *testing.T) {
	root := t.TempDir()
	w := &watcher{root: root, pending: map[string]*pendingSync{}, work: make(chan string, 64), stop: make(chan struct{})}
	defer close(w.stop)
	tests := []struct{ desc, path, want string }{
		{"plugin file", "hello.lua", "hello"},
		{"module in a folder plugin", "blog/lib/util.lua", "blog"},
		{"ConfigMap data link", "..data", allPlugins},
		{"vim swap file", ".hello.lua.swp", ""},
		{"vim probe file", "4913", ""},
		{"backup file", "hello.lua~", ""},
		{"swap file inside a folder", "blog/.init.lua.swp", ""},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			w.mu.Lock()
			for k, p := range w.pending {
				p.timer.Stop()
				delete(w.pending, k)
			}
			w.mu.Unlock()
			w.event(fsEvent(filepath.Join(root, tt.path)))
			w.mu.Lock()
			defer w.mu.Unlock()
			_, scheduled := w.pending[tt.want]
			if tt.want == "" && len(w.pending) != 0 || tt.want != "" && (!scheduled || len(w.pending) != 1) {
				keys := []string{}
				for k := range w.pending {
					keys = append(keys, k)
				}
				t.Errorf("event on %s scheduled %v, want %q", tt.path, keys, tt.want)
			}
		})
	}
}

func fsEvent(name string) fsnotify.Event { return fsnotify.Event{Name: name, Op: fsnotify.Write} }

func ioCopy(dst *strings.Builder, src io.Reader) (int64, error) { return io.Copy(dst, src) }
