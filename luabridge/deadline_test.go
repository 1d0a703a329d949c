package luabridge

import (
	"context"
	"errors"
	"testing"
	"time"
)

// deadlineApp answers /loop with an endless loop, /co by resuming a
// coroutine it keeps in a global (so that it outlives the request), /wrap
// with an abandoned generator, and anything else with "ok".
const deadlineApp = `
kept = nil
return function(e, sr)
  sr("200 OK", {})
  if e.PATH_INFO == "/loop" then while true do end end
  if e.PATH_INFO == "/co" then
    kept = kept or coroutine.create(function() while true do coroutine.yield("tick") end end)
    local ok, v = coroutine.resume(kept)
    return {tostring(ok) .. " " .. tostring(v)}
  end
  if e.PATH_INFO == "/wrap" then
    local g = coroutine.wrap(function() coroutine.yield("a") coroutine.yield("b") end)
    return {g()}
  end
  return {"ok"}
end`

func TestStateDeadline(t *testing.T) {
	pool, _ := newTestPool(t, deadlineApp)
	serve := func(t *testing.T, ctx context.Context, path string, deadline time.Time) (string, error, *State) {
		t.Helper()
		st, err := pool.Get(context.Background(), time.Second)
		if err != nil {
			t.Fatal(err)
		}
		rec := newRecorder()
		err = st.Serve(ctx, &Request{Vars: testVars("GET", path), Deadline: deadline}, rec)
		pool.Put(st)
		return rec.body(), err, st
	}
	soon := func() time.Time { return time.Now().Add(200 * time.Millisecond) }
	tests := []struct {
		desc string
		run  func(t *testing.T)
	}{
		{"an endless loop ends at Request.Deadline as a timeout", func(t *testing.T) {
			start := time.Now()
			_, err, st := serve(t, context.Background(), "/loop", soon())
			var appErr *AppError
			if !errors.As(err, &appErr) || !appErr.Timeout || !st.broken {
				t.Fatalf("Serve = %v (broken %v), want a timeout that breaks the state", err, st.broken)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("interrupted after %v", d)
			}
		}},
		{"the context's deadline counts too", func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			_, err, _ := serve(t, ctx, "/loop", time.Time{})
			var appErr *AppError
			if !errors.As(err, &appErr) || !appErr.Timeout {
				t.Fatalf("Serve = %v, want a timeout", err)
			}
		}},
		{"a cancelled context is a client gone", func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(100*time.Millisecond, cancel)
			_, err, _ := serve(t, ctx, "/loop", soon().Add(10*time.Second))
			var clientErr *ClientError
			if !errors.As(err, &clientErr) {
				t.Fatalf("Serve = %v, want a *ClientError", err)
			}
		}},
		{"requests in time reuse the channel; a generator's child ends with its request", func(t *testing.T) {
			_, err, st := serve(t, context.Background(), "/", soon())
			if err != nil {
				t.Fatal(err)
			}
			done := st.ctx.done
			if _, err, _ := serve(t, context.Background(), "/", soon()); err != nil || st.ctx.done != done {
				t.Fatalf("second request: %v; channel kept: %v", err, st.ctx.done == done)
			}
			if _, err, _ := serve(t, context.Background(), "/wrap", soon()); err != nil {
				t.Fatal(err)
			}
			if len(st.ctx.after) != 0 || !errors.Is(st.ctx.err, context.Canceled) {
				t.Errorf("after an abandoned generator: %d functions registered, err %v; want none, and its child cancelled", len(st.ctx.after), st.ctx.err)
			}
			if body, err, _ := serve(t, context.Background(), "/", soon()); err != nil || body != "ok" {
				t.Errorf("next request: %q, %v", body, err)
			}
		}},
		{"a coroutine kept past its request is dead in the next one, as its context ended", func(t *testing.T) {
			first, err, _ := serve(t, context.Background(), "/co", soon())
			if err != nil || first != "true tick" {
				t.Fatalf("first request: %q, %v", first, err)
			}
			second, err, _ := serve(t, context.Background(), "/co", soon())
			if err != nil || second == "true tick" {
				t.Errorf("second request: %q, %v; want the kept coroutine to fail", second, err)
			}
		}},
		{"a deadline that fires between requests spares the next", func(t *testing.T) {
			if _, err, _ := serve(t, context.Background(), "/", time.Now().Add(time.Millisecond)); err != nil {
				t.Fatal(err)
			}
			time.Sleep(20 * time.Millisecond)
			if body, err, _ := serve(t, context.Background(), "/", soon()); err != nil || body != "ok" {
				t.Errorf("next request: %q, %v", body, err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.desc, tt.run)
	}
}

// TestStateContextAfterFunc checks the registration package context uses
// for children: a child ends when the request is interrupted, and when it
// ends; a stopped registration runs never.
func TestStateContextAfterFunc(t *testing.T) {
	c := newStateContext()
	c.begin(context.Background(), time.Time{})
	child, cancel := context.WithCancel(c)
	defer cancel()
	ran := make(chan struct{})
	stop := context.AfterFunc(c, func() { close(ran) })
	if !stop() {
		t.Error("stop of a pending function reported false")
	}
	c.end()
	select {
	case <-child.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the child outlived its request")
	}
	select {
	case <-ran:
		t.Error("a stopped function ran")
	case <-time.After(50 * time.Millisecond):
	}
	c.begin(context.Background(), time.Now().Add(10*time.Millisecond))
	if c.Err() != nil {
		t.Fatalf("re-armed context: Err = %v", c.Err())
	}
	child2, cancel2 := context.WithCancel(c)
	defer cancel2()
	select {
	case <-child2.Done():
		if !errors.Is(c.Err(), context.DeadlineExceeded) {
			t.Errorf("Err = %v, want DeadlineExceeded", c.Err())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the deadline did not reach the child")
	}
	c.end()
}

// TestStateContextLateCancel checks that the cancellation of a request's
// context that fires as the request ends does not reach the next request
// (net/http cancels a request's context when its client goes away, which
// may be just after the response).
func TestStateContextLateCancel(t *testing.T) {
	c := newStateContext()
	first, cancel := context.WithCancel(context.Background())
	c.begin(first, time.Time{})
	gen := c.gen
	c.end()
	c.begin(context.Background(), time.Time{})
	cancel()
	c.parentDone(gen, first) // as the callback that started before end
	if err := c.Err(); err != nil {
		t.Errorf("the next request's context: Err = %v, want nil", err)
	}
	select {
	case <-c.Done():
		t.Error("the next request's context is done")
	default:
	}
	c.end()
}
