package luabridge

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// countingProgram compiles src as app "t" with a Setup that counts the
// states opened; the global `slow`, read by the main chunk, is true while
// *slow is.
func countingProgram(t *testing.T, src string, opened *atomic.Int64, slow *atomic.Bool) *Program {
	t.Helper()
	prog, err := NewProgram("t", "t.lua", []byte(src), ProgramOptions{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Setup: func(L *lua.LState) error {
			opened.Add(1)
			L.SetGlobal("slow", lua.LBool(slow != nil && slow.Load()))
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return prog
}

const (
	okApp     = `return function(e, sr) sr("200 OK", {}) return {"ok"} end`
	brokenApp = "local x = nil\nreturn x.y"
	slowApp   = `while slow do end return function(e, sr) sr("200 OK", {}) return {"ok"} end`
)

func TestPoolLazy(t *testing.T) {
	tests := []struct {
		desc        string
		src         string
		opts        PoolOptions
		wantNewErr  bool
		openedByNew int64 // states opened by NewPoolWith
		liveAtNew   int
		wantGetErr  string // "" when Get succeeds
		openedByGet int64  // states opened by two Gets in a row (the first given back)
		onLoad      string // what OnLoad saw: "", "ok" or "error"
	}{
		{desc: "eager: the first state opens at once", src: okApp, opts: PoolOptions{},
			openedByNew: 1, liveAtNew: 1, openedByGet: 0},
		{desc: "eager and broken: the error is NewPool's", src: brokenApp, opts: PoolOptions{},
			wantNewErr: true, openedByNew: 1},
		{desc: "lazy: no state until the first Get", src: okApp, opts: PoolOptions{Lazy: true},
			openedByNew: 0, liveAtNew: 0, openedByGet: 1, onLoad: "ok"},
		{desc: "lazy and checked: the main chunk runs once, its state closes", src: okApp, opts: PoolOptions{Lazy: true, Check: true},
			openedByNew: 1, liveAtNew: 0, openedByGet: 1, onLoad: "ok"},
		{desc: "lazy, checked and broken: the error is NewPool's", src: brokenApp, opts: PoolOptions{Lazy: true, Check: true},
			wantNewErr: true, openedByNew: 1},
		{desc: "lazy and broken: Get fails with the load error, once", src: brokenApp, opts: PoolOptions{Lazy: true},
			openedByNew: 0, liveAtNew: 0, wantGetErr: "t.lua:2:", openedByGet: 1, onLoad: "error"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			var opened atomic.Int64
			var mu sync.Mutex
			var loads []string
			tt.opts.OnLoad = func(err error, _ time.Duration) {
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					loads = append(loads, "error")
				} else {
					loads = append(loads, "ok")
				}
			}
			pool, err := NewPoolWith(context.Background(), countingProgram(t, tt.src, &opened, nil), tt.opts)
			if got := opened.Load(); got != tt.openedByNew {
				t.Errorf("NewPoolWith opened %d states, want %d", got, tt.openedByNew)
			}
			if (err != nil) != tt.wantNewErr {
				t.Fatalf("NewPoolWith = %v, want an error: %v", err, tt.wantNewErr)
			}
			if err != nil {
				return
			}
			defer pool.Close()
			if pool.Live() != tt.liveAtNew {
				t.Errorf("live after NewPoolWith = %d, want %d", pool.Live(), tt.liveAtNew)
			}
			for i := 0; i < 2; i++ {
				st, err := pool.Get(context.Background(), time.Second)
				if tt.wantGetErr == "" && err != nil {
					t.Fatalf("Get %d = %v", i+1, err)
				}
				if tt.wantGetErr != "" {
					if !errors.Is(err, ErrNotLoaded) || !strings.Contains(err.Error(), tt.wantGetErr) {
						t.Errorf("Get %d = %v, want ErrNotLoaded with %q", i+1, err, tt.wantGetErr)
					}
					if pool.LoadErr() == nil {
						t.Errorf("LoadErr = nil after a failed first state")
					}
					continue
				}
				pool.Put(st)
			}
			if got := opened.Load() - tt.openedByNew; got != tt.openedByGet {
				t.Errorf("two Gets opened %d states, want %d", got, tt.openedByGet)
			}
			mu.Lock()
			defer mu.Unlock()
			if got := strings.Join(loads, ","); got != tt.onLoad {
				t.Errorf("OnLoad calls: %q, want %q", got, tt.onLoad)
			}
		})
	}
}

// A lazy pool's first state that fails because its request gave up is not
// the app's failure: the next request tries again.
func TestPoolLazyCancelledFirstState(t *testing.T) {
	var opened atomic.Int64
	var slow atomic.Bool
	slow.Store(true)
	called := 0
	pool, err := NewPoolWith(context.Background(), countingProgram(t, slowApp, &opened, &slow),
		PoolOptions{Lazy: true, OnLoad: func(error, time.Duration) { called++ }})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := pool.Get(ctx, time.Second); err == nil || errors.Is(err, ErrNotLoaded) {
		t.Fatalf("Get with a context that ends = %v, want the interruption, not ErrNotLoaded", err)
	}
	if pool.LoadErr() != nil || called != 0 {
		t.Errorf("after an interrupted first state: LoadErr %v, OnLoad called %d times; want neither", pool.LoadErr(), called)
	}
	slow.Store(false)
	st, err := pool.Get(context.Background(), time.Second)
	if err != nil {
		t.Fatalf("Get after the interruption = %v", err)
	}
	pool.Put(st)
	if called != 1 {
		t.Errorf("OnLoad called %d times, want once", called)
	}
}

// TestPoolIdleShrink: states that no request needed for a whole IdleTimeout
// close, down to IdleKeep.
func TestPoolIdleShrink(t *testing.T) {
	const timeout = time.Minute
	tests := []struct {
		desc     string
		opts     PoolOptions
		burst    int           // states taken at once and given back
		every    time.Duration // then one request at this interval; 0 for none
		wait     time.Duration
		wantLive int
	}{
		{"a burst shrinks back to one", PoolOptions{Size: 4, IdleTimeout: timeout, IdleKeep: 1}, 4, 0, 2*timeout + time.Second, 1},
		{"not before a whole interval idle", PoolOptions{Size: 4, IdleTimeout: timeout, IdleKeep: 1}, 4, 0, timeout + time.Second, 4},
		{"keep 0 closes every state", PoolOptions{Size: 4, IdleTimeout: timeout}, 4, 0, 2*timeout + time.Second, 0},
		{"a state in use stays", PoolOptions{Size: 4, IdleTimeout: timeout}, 4, timeout / 4, 5 * timeout, 1},
		{"no timeout: nothing closes", PoolOptions{Size: 4, IdleKeep: 1}, 4, 0, 5 * timeout, 4},
		{"one state and keep 1: nothing to do", PoolOptions{Size: 4, IdleTimeout: timeout, IdleKeep: 1}, 1, 0, 5 * timeout, 1},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var opened atomic.Int64
				pool, err := NewPoolWith(context.Background(), countingProgram(t, okApp, &opened, nil), tt.opts)
				if err != nil {
					t.Fatal(err)
				}
				defer pool.Close()
				var states []*State
				for range tt.burst {
					st, err := pool.Get(context.Background(), time.Second)
					if err != nil {
						t.Fatal(err)
					}
					states = append(states, st)
				}
				for _, st := range states {
					pool.Put(st)
				}
				for elapsed := time.Duration(0); elapsed < tt.wait; {
					step := tt.wait - elapsed
					if tt.every > 0 {
						step = min(step, tt.every)
						st, err := pool.Get(context.Background(), time.Second)
						if err != nil {
							t.Fatal(err)
						}
						pool.Put(st)
					}
					time.Sleep(step)
					elapsed += step
				}
				synctest.Wait()
				if pool.Live() != tt.wantLive {
					t.Errorf("live after %v = %d, want %d", tt.wait, pool.Live(), tt.wantLive)
				}
				// Whatever closed, the pool still serves.
				st, err := pool.Get(context.Background(), time.Second)
				if err != nil {
					t.Fatalf("Get after shrinking = %v", err)
				}
				pool.Put(st)
			})
		})
	}
}
