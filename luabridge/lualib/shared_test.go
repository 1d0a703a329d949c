package lualib

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/lsgi/lsgi/dict"
	"github.com/lsgi/lsgi/internal/redistest"
	"github.com/lsgi/lsgi/luabridge"
	lua "github.com/yuin/gopher-lua"
)

// TestSharedAcrossStatesAndVersions: two states of one app version, and a
// state of the next version, see one dictionary; another app does not.
func TestSharedAcrossStatesAndVersions(t *testing.T) {
	services := &Services{}
	defer services.Close()
	v1 := NewShared(Options{App: "notes", Services: services})
	v2 := NewShared(Options{App: "notes", Services: services})
	other := NewShared(Options{App: "blog", Services: services})
	state := func(sh *Shared) *lua.LState {
		L := newSafeState(t)
		sh.Preload(L)
		return L
	}
	a, b, c, d := state(v1), state(v1), state(v2), state(other)
	run := func(L *lua.LState, code string) string {
		t.Helper()
		if err := L.DoString("result = tostring(" + code + ")"); err != nil {
			t.Fatal(err)
		}
		return L.GetGlobal("result").String()
	}
	run(a, `require("lsgi.shared").hits:incr("n", 1, 0)`)
	run(b, `require("lsgi.shared").hits:incr("n", 1, 0)`)
	if got := run(c, `require("lsgi.shared").hits:incr("n", 1, 0)`); got != "3" {
		t.Fatalf("the next version sees %s, want 3", got)
	}
	if got := run(d, `require("lsgi.shared").hits:get("n")`); got != "nil" {
		t.Fatalf("another app sees %s, want nil", got)
	}
}

// TestSharedConcurrentStates: 8 states, each on its own goroutine as the
// host's pool runs them, increment one counter 1000 times each.
func TestSharedConcurrentStates(t *testing.T) {
	services := &Services{}
	defer services.Close()
	sh := NewShared(Options{App: "app", Services: services})
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
			errs <- L.DoString(`
				local hits = require("lsgi.shared").hits
				for i = 1, 1000 do assert(hits:incr("n", 1, 0)) end`)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	L := newSafeState(t)
	sh.Preload(L)
	if err := L.DoString(`assert(require("lsgi.shared").hits:get("n") == 8000, "counter is not 8000")`); err != nil {
		t.Fatal(err)
	}
}

// TestSharedRedisGone: with the dictionaries in a Redis that hangs, a call
// fails at the state's deadline with a Lua error the app can catch.
func TestSharedRedisGone(t *testing.T) {
	srv := redistest.Start(t)
	store, err := dict.NewRedis(srv.URL(0), dict.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	services := &Services{Shared: store}
	defer services.Close()
	L := newSafeState(t)
	NewShared(Options{App: "app", Services: services}).Preload(L)
	if err := L.DoString(`assert(require("lsgi.shared").hits:incr("n", 1, 0) == 1)`); err != nil {
		t.Fatal(err)
	}
	srv.Pause()
	defer srv.Resume()
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	L.SetContext(ctx)
	start := time.Now()
	// The deadline stops the script too, so the caught error is checked
	// inside the state and reported through a global.
	err = L.DoString(`
		local ok, err = pcall(function() return require("lsgi.shared").hits:incr("n", 1, 0) end)
		caught = tostring(err)`)
	L.RemoveContext()
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("the call took %v, past its deadline of 500ms", took)
	}
	if err == nil {
		if caught := L.GetGlobal("caught").String(); !strings.Contains(caught, "lsgi.shared: hits:incr(\"n\"): dict: redis") {
			t.Fatalf("caught %q, want the store's error", caught)
		}
	} else if !strings.Contains(err.Error(), "context deadline exceeded") {
		t.Fatalf("error %v, want the deadline or the store's error", err)
	}
}

func TestConfigSettingsErrors(t *testing.T) {
	tests := []struct {
		desc string
		file string
		want string
	}{
		{"not JSON", `{"a": `, "lsgi.config: config.json: json.decode: unexpected end of JSON input"},
		{"an array", `[1, 2]`, "config.json must hold a JSON object"},
		{"a string", `"x"`, "config.json must hold a JSON object"},
		{"too big", `{"a": "` + strings.Repeat("x", maxSettingsBytes) + `"}`, "more than 1048576"},
	}
	for _, tt := range tests {
		sh := NewShared(Options{FS: fstest.MapFS{SettingsFile: {Data: []byte(tt.file)}}})
		L := newSafeState(t)
		sh.Preload(L)
		err := L.DoString(`require "lsgi.config"`)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", tt.desc, err, tt.want)
		}
	}
	// No folder (a single-file plugin), or no file: empty settings.
	for _, fsys := range []fstest.MapFS{nil, {}} {
		opts := Options{}
		if fsys != nil {
			opts.FS = fsys
		}
		L := newSafeState(t)
		NewShared(opts).Preload(L)
		if err := L.DoString(`assert(next(require("lsgi.config").settings) == nil)`); err != nil {
			t.Error(err)
		}
	}
}

func TestEnvPatterns(t *testing.T) {
	tests := []struct {
		desc     string
		patterns []string
		want     string // the names kept, sorted, joined by commas
	}{
		{"a name", []string{"HOME"}, "HOME"},
		{"a prefix", []string{"APP_*"}, "APP_A,APP_B"},
		{"both", []string{"APP_A", "X*"}, "APP_A,XY"},
		{"none", nil, ""},
		{"every one", []string{"*"}, "APP_A,APP_B,HOME,XY"},
	}
	environ := []string{"HOME=/root", "APP_A=1", "APP_B=", "XY=z", "=bad", "noequals"}
	for _, tt := range tests {
		env := SnapshotEnv(tt.patterns, environ)
		var names []string
		for k := range env {
			names = append(names, k)
		}
		slices.Sort(names)
		if got := strings.Join(names, ","); got != tt.want {
			t.Errorf("%s: kept %q, want %q", tt.desc, got, tt.want)
		}
	}
	for _, p := range []string{"NAME", "PREFIX_*", "*"} {
		if err := CheckEnvPattern(p); err != nil {
			t.Errorf("CheckEnvPattern(%q): %v", p, err)
		}
	}
	for _, p := range []string{"", "A=B", "A*B*", "A*B"} {
		if err := CheckEnvPattern(p); err == nil {
			t.Errorf("CheckEnvPattern(%q) must fail", p)
		}
	}
}
