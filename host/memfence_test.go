package host

import (
	"net/http"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

// TestMemoryFence bombs an in-process handler whose fence sits 128 MiB
// above the heap in use: a string doubled in a loop, a plugin that keeps
// 40 MiB more in a global at each request, one that keeps coroutines, and
// a far table index. Each is stopped or refused with the app named in the
// log, and the handler keeps answering.
func TestMemoryFence(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	limit := int64(ms.HeapAlloc) + 128<<20
	h, logs := newTestHandler(t, Config{
		MaxMemory: limit,
		Timeout:   20 * time.Second,
		States:    2,
		Plugins: []PluginSource{
			App{Mount: "/health", Name: "health", Source: `return function(e, sr) sr("200 OK", {}) return {"ok"} end`},
			App{Mount: "/double", Name: "double", Source: `return function(e, sr)
				local s = "x"
				for i = 1, 30 do s = s .. s end
				sr("200 OK", {}) return {"survived"} end`},
			App{Mount: "/hoard", Name: "hoard", Source: `keep = {}
				return function(e, sr)
					keep[#keep + 1] = string.rep("x", 40 * 2^20) .. #keep
					sr("200 OK", {}) return {"kept " .. #keep} end`},
			App{Mount: "/coroutines", Name: "coroutines", Source: `cos = {}
				return function(e, sr)
					for i = 1, 300 do
						local co = coroutine.create(function() coroutine.yield() end)
						coroutine.resume(co)
						cos[#cos + 1] = co
					end
					sr("200 OK", {}) return {"kept " .. #cos} end`},
		},
	})
	if h.fence == nil {
		t.Fatal("the fence is off")
	}
	health := func(after string) {
		t.Helper()
		if rec := get(h, "GET", "/health"); rec.Code != http.StatusOK {
			t.Fatalf("GET /health after %s: %d", after, rec.Code)
		}
	}

	t.Run("a string doubled until it is stopped", func(t *testing.T) {
		rec := get(h, "GET", "/double")
		if rec.Code != http.StatusServiceUnavailable {
			t.Errorf("GET /double: %d %q, want 503", rec.Code, rec.Body)
		}
		waitFor(t, logs, `msg="memory fence: stopped a request; its Lua state is discarded" app=double`)
		health("/double")
	})

	for _, tc := range []struct{ path, app string }{{"/hoard", "hoard"}, {"/coroutines", "coroutines"}} {
		t.Run("a plugin that keeps memory across requests: "+tc.app, func(t *testing.T) {
			mark := len(logs.String())
			for i := 0; i < 60; i++ {
				get(h, "GET", tc.path)
				if strings.Contains(logs.String()[mark:], "app="+tc.app) {
					break
				}
			}
			// Stopped in a request, or found idle by the sweep.
			waitFor(t, logs, `memory fence: (stopped a request; its Lua state is discarded|discarded an idle Lua state that held memory)" app=`+tc.app)
			health(tc.path)
			runtime.GC()
			runtime.ReadMemStats(&ms)
			if int64(ms.HeapAlloc) > limit {
				t.Errorf("heap %d after the fence, over its limit %d", ms.HeapAlloc, limit)
			}
		})
	}
	if h.LiveStates() == 0 {
		t.Errorf("no Lua state left")
	}
}

// TestMemoryFenceOff: a negative MaxMemory runs no watchdog.
func TestMemoryFenceOff(t *testing.T) {
	h, _ := newTestHandler(t, Config{MaxMemory: -1, Plugins: []PluginSource{App{Source: `return function() end`}}})
	if h.fence != nil {
		t.Error("MaxMemory -1 started a fence")
	}
	h2, _ := newTestHandler(t, Config{Plugins: []PluginSource{App{Source: `return function() end`}}})
	if h2.fence == nil || h2.fence.limit <= 0 {
		t.Error("the zero Config has no fence")
	}
	if got, avail := DefaultMaxMemory(); got != avail.Bytes/3 {
		t.Errorf("DefaultMaxMemory = %d, want a third of %d", got, avail.Bytes)
	}
}

// waitFor waits until the log matches pattern (a regular expression).
func waitFor(t *testing.T, logs *syncBuffer, pattern string) {
	t.Helper()
	re := regexp.MustCompile(pattern)
	deadline := time.Now().Add(10 * time.Second)
	for !re.MatchString(logs.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("no log line matches %q:\n%s", pattern, logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
