package luabridge

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"
)

const app = ` return function(e, sr) sr("200 OK", {}) return {"ok"} end`

func TestFootprint(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		desc     string
		src      string
		budget   int
		min, max int64 // bytes
		complete bool
	}{
		{"a small app", app, 100_000, 1, 1 * mib, true},
		{"a 10 MiB string in a global", `big = string.rep("x", 10 * 2^20)` + app, 100_000, 10 * mib, 11 * mib, true},
		{"one string held in three places", `a = string.rep("x", 8 * 2^20) b = a c = {a}` + app, 100_000, 8 * mib, 9 * mib, true},
		{"a string in the app's upvalue", `local s = string.rep("x", 4 * 2^20) return function(e, sr) return {s} end`, 100_000, 4 * mib, 5 * mib, true},
		{"a table of 100,000 strings", `t = {} for i = 1, 100000 do t[i] = "value " .. i end` + app, 1_000_000, 4 * mib, 12 * mib, true},
		{"a hash of 50,000 entries", `t = {} for i = 1, 50000 do t["k" .. i] = i end` + app, 1_000_000, 3 * mib, 10 * mib, true},
		{"200 suspended coroutines", `cos = {} for i = 1, 200 do local co = coroutine.create(function() coroutine.yield() end) coroutine.resume(co) cos[i] = co end` + app,
			100_000, 200 * 64 << 10, 200 * 128 << 10, true},
		{"nesting costs no Go stack", `local t = {} root = t for i = 1, 100000 do t[1] = {} t = t[1] end` + app, 1_000_000, 100_000 * 64, 100_000 * 200, true},
		{"a walk stopped by its budget", `t = {} for i = 1, 10000 do t[i] = {} end` + app, 1000, 1, 10 * mib, false},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			pool, _ := newTestPool(t, tt.src)
			st, err := pool.Get(context.Background(), time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer pool.Put(st)
			fp := st.Footprint(tt.budget)
			if fp.Bytes < tt.min || fp.Bytes > tt.max || fp.Complete != tt.complete {
				t.Errorf("Footprint = %+v, want %d to %d bytes, complete %v", fp, tt.min, tt.max, tt.complete)
			}
		})
	}
}

// TestSweep discards the idle state that holds memory and keeps the one
// that does not.
func TestSweep(t *testing.T) {
	tests := []struct {
		desc     string
		src      string
		wantDrop bool
	}{
		{"a state holding 20 MiB", `keep = string.rep("x", 20 * 2^20)` + app, true},
		{"a small state", app, false},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			pool, _ := newTestPool(t, tt.src)
			dropped := pool.Sweep(100_000, func(fp Footprint) bool { return fp.Bytes >= 16<<20 })
			if (len(dropped) == 1) != tt.wantDrop || pool.Live() != map[bool]int{true: 0, false: 1}[tt.wantDrop] {
				t.Errorf("dropped %v, %d live states; want dropped %v", dropped, pool.Live(), tt.wantDrop)
			}
			// The pool serves on, with a new state if it dropped one.
			st, err := pool.Get(context.Background(), time.Second)
			if err != nil {
				t.Fatal(err)
			}
			pool.Put(st)
		})
	}
}

// TestDiscard closes a lent state and frees its place.
func TestDiscard(t *testing.T) {
	pool, _ := newTestPool(t, app)
	st, err := pool.Get(context.Background(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	pool.Discard(st)
	if pool.Live() != 0 {
		t.Errorf("%d live states after Discard, want 0", pool.Live())
	}
	st, err = pool.Get(context.Background(), 100*time.Millisecond)
	if err != nil {
		t.Fatalf("Get after Discard: %v", err)
	}
	pool.Put(st)
}

// TestStopReachesClose ends Request.Stop while result:close() loops:
// close() is interrupted at once rather than at its own bound.
func TestStopReachesClose(t *testing.T) {
	pool, logs := newTestPool(t, `return function(e, sr)
		sr("200 OK", {})
		return setmetatable({"body"}, {__index = {close = function() while true do end end}})
	end`)
	st, err := pool.Get(context.Background(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Put(st)
	stop, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	st.Serve(context.Background(), &Request{Vars: testVars("GET", "/"), Stop: stop}, newRecorder())
	if took := time.Since(start); took > closeTimeout/2 {
		t.Errorf("close() ran %v after Stop ended, want it interrupted", took)
	}
	if !strings.Contains(logs.String(), "result:close() failed") {
		t.Errorf("the interrupted close() is not logged: %s", logs)
	}
}

// TestSparseIndexAllocatesNoArray assigns far integer keys, which in
// gopher-lua's own bound would each fill an array of that many slots in
// one instruction.
func TestSparseIndexAllocatesNoArray(t *testing.T) {
	tests := []struct {
		desc, src string
		maxBytes  uint64 // allocated by the request
	}{
		{"t[6e7]", `local t = {} t[6e7] = true return #t == 0 and t[6e7] == true`, 16 << 20},
		{"t[2^25] in 20 tables", `local ts = {} for i = 1, 20 do ts[i] = {} ts[i][2^25] = i end return ts[20][2^25] == 20`, 16 << 20},
		{"the array part's last index stays an array", `local t = {} for i = 1, 1000 do t[i] = i end t[1001] = 1 return #t == 1001`, 16 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			pool, _ := newTestPool(t, `local function f() `+tt.src+` end
				return function(e, sr) sr("200 OK", {}) return {tostring(f())} end`)
			st, err := pool.Get(context.Background(), time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer pool.Put(st)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			rec := newRecorder()
			if err := st.Serve(context.Background(), &Request{Vars: testVars("GET", "/")}, rec); err != nil {
				t.Fatal(err)
			}
			runtime.ReadMemStats(&after)
			if got := after.TotalAlloc - before.TotalAlloc; got > tt.maxBytes {
				t.Errorf("the request allocated %d bytes, want at most %d", got, tt.maxBytes)
			}
			if len(rec.chunks) != 1 || rec.chunks[0] != "true" {
				t.Errorf("result %q, want true", rec.chunks)
			}
		})
	}
}
