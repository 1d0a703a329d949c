package lualib

// This file implements the module lsgi: what the host itself offers an app
// while it runs, waiting without burning CPU (sleep) and the request's
// deadline (time_left, extend_deadline), for server-sent events and other
// long responses.

import (
	"context"
	"math"
	"strconv"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// ModLSGI is the module of the host's own services: require("lsgi").sleep.
const ModLSGI = "lsgi"

// Deadline is a request's deadline as the host lets its app move it. The
// request's context carries it under [DeadlineKey]; a context without one
// (a main chunk, a body's close) has a deadline that cannot move.
type Deadline interface {
	// Extend moves the deadline to d from now, never earlier than it is
	// and never past the host's maximum, and returns the deadline in
	// force.
	Extend(d time.Duration) time.Time
}

// DeadlineKey is the context key of a request's [Deadline].
type DeadlineKey struct{}

func openLSGI(L *lua.LState) int {
	L.Push(newModule(L, map[string]lua.LGFunction{
		"sleep":           lsgiSleep,
		"time_left":       lsgiTimeLeft,
		"extend_deadline": lsgiExtendDeadline,
	}))
	return 1
}

// checkSeconds reads argument n as a duration in seconds: a finite number,
// at least 0.
func checkSeconds(L *lua.LState, n int, fn string) time.Duration {
	s := float64(L.CheckNumber(n))
	if math.IsNaN(s) || math.IsInf(s, 0) || s < 0 {
		L.ArgError(n, fn+": seconds must be a finite number >= 0")
	}
	if s > float64(math.MaxInt64/int64(time.Second)) {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(s * float64(time.Second))
}

// seconds formats d for messages: "1.5s".
func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s"
}

// lsgiSleep: sleep(seconds) -> true | false, message. It waits on a Go
// timer, so a sleeping app costs no CPU; it does not wait at all, and
// returns false, when the request's deadline comes first (the app should
// end its response), nor past the moment the client goes away.
func lsgiSleep(L *lua.LState) int {
	d := checkSeconds(L, 1, "lsgi.sleep")
	ctx := L.Context()
	if ctx == nil {
		L.RaiseError("lsgi.sleep: called outside a request or a main chunk, where nothing bounds the wait")
	}
	if dl, ok := ctx.Deadline(); ok {
		if left := time.Until(dl); left < d {
			L.Push(lua.LFalse)
			L.Push(lua.LString("lsgi.sleep: the request's deadline comes in " + seconds(left.Round(time.Millisecond)) +
				", before " + seconds(d) + " are up (--timeout; a response can move it with lsgi.extend_deadline, up to --max-stream-time)"))
			return 2
		}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		L.Push(lua.LTrue)
		return 1
	case <-ctx.Done():
		// The next instruction raises the context's error; say why here
		// too, for code that runs before it.
		L.Push(lua.LFalse)
		L.Push(lua.LString("lsgi.sleep: " + context.Cause(ctx).Error()))
		return 2
	}
}

// lsgiTimeLeft: time_left() -> seconds until the request's deadline, or
// nil when nothing bounds it.
func lsgiTimeLeft(L *lua.LState) int {
	ctx := L.Context()
	if ctx == nil {
		L.Push(lua.LNil)
		return 1
	}
	dl, ok := ctx.Deadline()
	if !ok {
		L.Push(lua.LNil)
		return 1
	}
	L.Push(lua.LNumber(max(0, time.Until(dl).Seconds())))
	return 1
}

// lsgiExtendDeadline: extend_deadline(seconds) -> ok, left. It moves the
// request's deadline to seconds from now, never earlier and never past
// the host's maximum (--max-stream-time from the request's start); ok is
// false when the maximum cut the extension short, left the seconds now
// left. Outside a request it moves nothing and returns false.
func lsgiExtendDeadline(L *lua.LState) int {
	d := checkSeconds(L, 1, "lsgi.extend_deadline")
	ctx := L.Context()
	var dl Deadline
	if ctx != nil {
		dl, _ = ctx.Value(DeadlineKey{}).(Deadline)
	}
	if dl == nil {
		L.Push(lua.LFalse)
		if ctx != nil {
			if t, ok := ctx.Deadline(); ok {
				L.Push(lua.LNumber(max(0, time.Until(t).Seconds())))
				return 2
			}
		}
		L.Push(lua.LNil)
		return 2
	}
	left := time.Until(dl.Extend(d))
	L.Push(lua.LBool(left >= d-time.Millisecond))
	L.Push(lua.LNumber(max(0, left.Seconds())))
	return 2
}
