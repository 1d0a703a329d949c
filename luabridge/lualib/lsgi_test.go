package lualib

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// testDeadline is a movable deadline as the host keeps one, capped at max.
type testDeadline struct {
	mu       sync.Mutex
	deadline time.Time
	max      time.Time
}

func (d *testDeadline) Extend(by time.Duration) time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	next := time.Now().Add(by)
	if next.After(d.max) {
		next = d.max
	}
	if next.After(d.deadline) {
		d.deadline = next
	}
	return d.deadline
}

func TestLSGIModule(t *testing.T) {
	tests := []struct {
		desc     string
		timeout  time.Duration // the context's deadline; 0 for none
		movable  time.Duration // the Deadline's maximum; 0 for no Deadline
		code     string        // returns a string to compare with want
		want     string        // a prefix of the result, or of the error
		minTime  time.Duration
		maxTime  time.Duration
		wantFail bool
	}{
		{"sleep waits", time.Second, 0, `return tostring(require("lsgi").sleep(0.05))`, "true", 50 * time.Millisecond, 900 * time.Millisecond, false},
		{"sleep 0", time.Second, 0, `return tostring(require("lsgi").sleep(0))`, "true", 0, 500 * time.Millisecond, false},
		{"sleep past the deadline returns at once", 100 * time.Millisecond, 0,
			`local ok, msg = require("lsgi").sleep(5) return tostring(ok) .. " " .. msg`,
			"false lsgi.sleep: the request's deadline comes in", 0, 90 * time.Millisecond, false},
		{"sleep in a coroutine", time.Second, 0,
			`local co = coroutine.wrap(function() coroutine.yield(require("lsgi").sleep(0.02)) end) return tostring(co())`,
			"true", 20 * time.Millisecond, 900 * time.Millisecond, false},
		{"sleep refuses a negative time", time.Second, 0, `require("lsgi").sleep(-1)`, "seconds must be a finite number >= 0", 0, time.Second, true},
		{"sleep refuses infinity", time.Second, 0, `require("lsgi").sleep(math.huge)`, "seconds must be a finite number >= 0", 0, time.Second, true},
		{"sleep refuses a string", time.Second, 0, `require("lsgi").sleep("x")`, "number expected", 0, time.Second, true},
		{"time_left", time.Second, 0, `local s = require("lsgi").time_left() return tostring(s > 0.5 and s <= 1)`, "true", 0, time.Second, false},
		{"extend within the maximum", 100 * time.Millisecond, 10 * time.Second,
			`local ok, left = require("lsgi").extend_deadline(2) return tostring(ok) .. " " .. tostring(left > 1.9)`, "true true", 0, time.Second, false},
		{"extend past the maximum", 100 * time.Millisecond, time.Second,
			`local ok, left = require("lsgi").extend_deadline(5) return tostring(ok) .. " " .. tostring(left < 1.1)`, "false true", 0, time.Second, false},
		{"extend outside a request", time.Second, 0,
			`local ok, left = require("lsgi").extend_deadline(5) return tostring(ok) .. " " .. tostring(left <= 1)`, "false true", 0, time.Second, false},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			L := newFixture(t, false).state(t)
			ctx, cancel := context.WithTimeout(context.Background(), tc.timeout)
			defer cancel()
			if tc.movable > 0 {
				now := time.Now()
				ctx = context.WithValue(ctx, DeadlineKey{}, &testDeadline{deadline: now.Add(tc.timeout), max: now.Add(tc.movable)})
			}
			L.SetContext(ctx)
			start := time.Now()
			err := L.DoString(tc.code)
			took := time.Since(start)
			switch {
			case tc.wantFail:
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("error %v, want one with %q", err, tc.want)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			got := L.Get(-1)
			if s, ok := got.(lua.LString); !ok || !strings.HasPrefix(string(s), tc.want) {
				t.Errorf("got %v, want %q...", got, tc.want)
			}
			if took < tc.minTime || took > tc.maxTime {
				t.Errorf("took %v, want between %v and %v", took, tc.minTime, tc.maxTime)
			}
		})
	}
}

func TestSleepEndsWhenTheClientLeaves(t *testing.T) {
	L := newFixture(t, false).state(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	L.SetContext(ctx)
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	err := L.DoString(`require("lsgi").sleep(30)`)
	if time.Since(start) > 10*time.Second {
		t.Errorf("lsgi.sleep outlived its request: %v", time.Since(start))
	}
	if err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Errorf("error %v, want the request's end", err)
	}
}
