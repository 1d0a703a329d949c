package host

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestLazyHost: a host with more plugins than LazyAbove compiles them at
// start but opens their states at their first requests.
func TestLazyHost(t *testing.T) {
	files := map[string]string{
		"a.lua":      versionApp("a"),
		"b.lua":      versionApp("b"),
		"raises.lua": "local x = nil\nreturn x.y",
		"syntax.lua": "return function(",
	}
	tests := []struct {
		desc      string
		lazyAbove int
		wantLive  int    // states after New
		atStart   string // errors logged at start, by file
	}{
		{"few plugins: every main chunk runs at start", 100, 2, "raises.lua:2 syntax.lua:1"},
		{"more than LazyAbove: only syntax errors at start", 3, 0, "syntax.lua:1"},
		{"LazyAbove negative: always lazy", -1, 0, "syntax.lua:1"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			dir := t.TempDir()
			for name, src := range files {
				writeFile(t, filepath.Join(dir, name), src)
			}
			h, logs := newTestHandler(t, Config{Plugins: []PluginSource{Folder{Path: dir}}, LazyAbove: tt.lazyAbove})
			if got := h.LiveStates(); got != tt.wantLive {
				t.Errorf("live states after New = %d, want %d", got, tt.wantLive)
			}
			if got := failedFiles(logs.String()); got != tt.atStart {
				t.Errorf("load errors logged at start: %q, want %q", got, tt.atStart)
			}
			for _, app := range []string{"a", "b"} {
				if rec := get(h, "GET", "/"+app); rec.Code != 200 || rec.Body.String() != app {
					t.Errorf("GET /%s = %d %q", app, rec.Code, rec.Body.String())
				}
			}
			for i := 0; i < 2; i++ {
				if rec := get(h, "GET", "/raises"); rec.Code != 500 || !strings.Contains(rec.Body.String(), "failed to load") {
					t.Errorf("GET /raises = %d %q, want 500 failed to load", rec.Code, rec.Body.String())
				}
			}
			// Once found, the main chunk's error is logged once and
			// reported like any load error.
			if got := failedFiles(logs.String()); got != "raises.lua:2 syntax.lua:1" {
				t.Errorf("load errors logged after the requests: %q", got)
			}
			if err := h.Mounts()["/raises"]; err == nil || !strings.Contains(err.Error(), "raises.lua:2") {
				t.Errorf("Mounts()[/raises] = %v, want the main chunk's error", err)
			}
			if got := h.LiveStates(); got != 2 {
				t.Errorf("live states after the requests = %d, want 2 (a and b)", got)
			}
		})
	}
}

var failedLine = regexp.MustCompile(`msg="app failed to load".* err="?[^ ]*?([a-z]+\.lua:\d+)`)

// failedFiles lists, sorted, the file:line of each "app failed to load"
// line.
func failedFiles(logs string) string {
	var out []string
	for _, m := range failedLine.FindAllStringSubmatch(logs, -1) {
		out = append(out, filepath.Base(m[1]))
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

// TestLazyHostReloads: in a lazy host, a new version is still run before it
// replaces one that works, and a plugin added alone is run at load.
func TestLazyHostReloads(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a", "b", "c"} {
		writeFile(t, filepath.Join(dir, name+".lua"), versionApp(name+"1"))
	}
	h, logs := newTestHandler(t, Config{Plugins: []PluginSource{Folder{Path: dir}}, LazyAbove: 2})
	update := func(names ...string) {
		t.Helper()
		if err := h.reg.update(context.Background(), scope{src: 0, names: names}); err != nil {
			t.Fatal(err)
		}
	}
	waitBody(t, h, "/a", "a1")

	writeFile(t, filepath.Join(dir, "a.lua"), "error('boom')\nreturn 1")
	update("a")
	if !strings.Contains(logs.String(), "previous version keeps serving") {
		t.Errorf("a broken main chunk was not caught at reload:\n%s", logs.String())
	}
	waitBody(t, h, "/a", "a1")

	writeFile(t, filepath.Join(dir, "a.lua"), versionApp("a2"))
	update("a")
	waitBody(t, h, "/a", "a2")
	if got := h.LiveStates(); got != 1 {
		t.Errorf("live states = %d, want 1: a checked version keeps no state until asked", got)
	}

	writeFile(t, filepath.Join(dir, "d.lua"), "local x = nil\nreturn x.y")
	update("d")
	if got := failedFiles(logs.String()); got != "d.lua:2" {
		t.Errorf("a plugin added alone: load errors %q, want d.lua:2 at load", got)
	}
}

// TestLookupPassesPluginsNotLoaded: a plugin whose first version is still
// loading is in the mount table but does not serve yet.
func TestLookupPassesPluginsNotLoaded(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "index.lua"), versionApp("index"))
	h, _ := newTestHandler(t, Config{Plugins: []PluginSource{Folder{Path: dir}}})
	edit := &mountEdit{old: *h.reg.mounts.Load()}
	edit.set("/x", &plugin{name: "x", prefix: "/x"})
	h.reg.mounts.Store(&edit.next)
	if pl, prefix := h.reg.lookup("/x/y"); pl == nil || prefix != "" {
		t.Errorf("lookup(/x/y) = %v at %q, want the index app", pl, prefix)
	}
	if got := h.Mounts(); len(got) != 1 {
		t.Errorf("Mounts = %v, want only /", got)
	}
}

func TestChangedKeys(t *testing.T) {
	fp := func(b byte) [32]byte { return [32]byte{b} }
	many := map[string][32]byte{}
	for i := range pollBatch + 1 {
		many[fmt.Sprint(i)] = fp(1)
	}
	tests := []struct {
		desc     string
		old, now map[string][32]byte
		want     []string
	}{
		{"nothing changed", map[string][32]byte{"a": fp(1)}, map[string][32]byte{"a": fp(1)}, nil},
		{"one edited", map[string][32]byte{"a": fp(1), "b": fp(1)}, map[string][32]byte{"a": fp(2), "b": fp(1)}, []string{"a"}},
		{"added and removed", map[string][32]byte{"a": fp(1)}, map[string][32]byte{"b": fp(1)}, []string{"a", "b"}},
		{"more than a batch: the whole folder", map[string][32]byte{}, many, []string{allPlugins}},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			got := changedKeys(tt.old, tt.now)
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("changedKeys = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestWatchFallsBackToPolling: a tree that needs more watches than the
// budget is polled, with one log line that says so and why.
func TestWatchFallsBackToPolling(t *testing.T) {
	tests := []struct {
		desc      string
		budget    int
		watchers  int // Folder.Watchers: processes sharing the budget
		wantWatch bool
	}{
		{"within the budget: events", 100, 0, true},
		{"over the budget: polling", 2, 0, false},
		{"within one worker's share: events", 10, 2, true},
		{"over one worker's share: polling", 10, 4, false},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			old := watchBudget
			watchBudget = func() int { return tt.budget }
			defer func() { watchBudget = old }()
			dir := t.TempDir()
			for _, name := range []string{"a", "b", "c"} {
				writeFile(t, filepath.Join(dir, name, "init.lua"), versionApp(name+"1"))
			}
			h, logs := newTestHandler(t, Config{Plugins: []PluginSource{Folder{Path: dir, Watch: true, Watchers: tt.watchers}}})
			lines := watchLines(logs.String())
			want := `watching plugins for changes`
			if !tt.wantWatch {
				want = `cannot watch the plugins folder for changes; polling modification times instead`
			}
			if len(lines) != 1 || !strings.Contains(lines[0], want) {
				t.Fatalf("log lines about watching: %q, want one: %q", lines, want)
			}
			if !tt.wantWatch && !strings.Contains(lines[0], "max_user_watches") {
				t.Errorf("the fallback line does not name the limit: %s", lines[0])
			}
			if !tt.wantWatch && tt.watchers > 1 && !strings.Contains(lines[0], strconv.Itoa(tt.watchers)+" processes") {
				t.Errorf("the fallback line does not say the budget is shared: %s", lines[0])
			}
			writeFile(t, filepath.Join(dir, "b", "init.lua"), versionApp("b2"))
			waitBody(t, h, "/b", "b2")
			// Only b was reloaded.
			if n := strings.Count(logs.String(), `msg="app reloaded"`); n != 1 {
				t.Errorf("%d reloads logged, want 1:\n%s", n, logs.String())
			}
		})
	}
}

// watchLines are the log lines that say how the folder is watched.
func watchLines(logs string) []string {
	var out []string
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, "plugins folder for changes") || strings.Contains(line, "plugins for changes") {
			out = append(out, line)
		}
	}
	return out
}

// TestSnapshotPerPlugin: polling tells plugins apart, folders and files,
// and sees an edit that keeps the size.
func TestSnapshotPerPlugin(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.lua"), "1")
	writeFile(t, filepath.Join(dir, "b", "init.lua"), "1")
	writeFile(t, filepath.Join(dir, "b", "lib", "m.lua"), "1")
	writeFile(t, filepath.Join(dir, ".hidden.lua"), "1")
	w := &watcher{root: dir}
	before := w.snapshot()
	if got := slices.Sorted(maps.Keys(before)); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("keys = %v, want [a b]", got)
	}
	writeFile(t, filepath.Join(dir, "b", "lib", "m.lua"), "2") // same size, within racyWindow
	writeFile(t, filepath.Join(dir, ".hidden.lua"), "2")
	if got := changedKeys(before, w.snapshot()); !slices.Equal(got, []string{"b"}) {
		t.Errorf("changed = %v, want [b]", got)
	}
	if err := os.Remove(filepath.Join(dir, "a.lua")); err != nil {
		t.Fatal(err)
	}
	if got := changedKeys(before, w.snapshot()); !slices.Contains(got, "a") {
		t.Errorf("changed = %v, want a among them", got)
	}
}
