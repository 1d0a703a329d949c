package luabridge

import (
	"fmt"

	lua "github.com/yuin/gopher-lua"
)

// bodyIterator walks an app's result one chunk at a time.
type bodyIterator interface {
	// next returns the next chunk, or more == false at the end. After the
	// end or an error it is not called again.
	next() (chunk lua.LValue, more bool, err error)
	// knownLength returns the whole body's length if the chunk of n bytes
	// just produced is the body's only non-empty part, else -1.
	knownLength(n int) int64
	// immediate reports whether the next chunk is at hand without running
	// app code (an array): then the current one need not be flushed first.
	immediate() bool
}

// iterate picks the iterator for an app's result (docs/SPEC.md "The
// result"): a function, a coroutine, a callable object, or an array.
func (x *exchange) iterate(result lua.LValue) (bodyIterator, error) {
	L := x.s.lstate
	switch v := result.(type) {
	case *lua.LFunction:
		x.calls = callIterator{L: L, fn: v}
		return &x.calls, nil
	case *lua.LState:
		x.threads = threadIterator{L: L, co: v, resume: x.s.resume}
		return &x.threads, nil
	case *lua.LTable:
		if _, ok := L.GetMetaField(v, "__call").(*lua.LFunction); ok {
			x.calls = callIterator{L: L, fn: v}
			return &x.calls, nil
		}
		x.arrays = arrayIterator{x: x, t: v}
		return &x.arrays, nil
	case *lua.LUserData:
		if _, ok := L.GetMetaField(v, "__call").(*lua.LFunction); ok {
			x.calls = callIterator{L: L, fn: v}
			return &x.calls, nil
		}
	case lua.LString:
		return nil, fmt.Errorf("the app returned a string (%d bytes) where an iterator of chunks is expected: return {s} instead", len(v))
	case lua.LNumber:
		return nil, fmt.Errorf("the app returned a number where an iterator of chunks is expected (a WSAPI-style `return status, headers, body`? LSGI apps call start_response and return the body)")
	}
	return nil, fmt.Errorf("the app returned %s where an iterator of chunks is expected (a function, a coroutine, a callable object or an array of strings)", describe(result))
}

// callIterator calls a function or a callable object with no arguments; its
// first result is the next chunk and nil ends the body.
type callIterator struct {
	L  *lua.LState
	fn lua.LValue
}

func (it *callIterator) next() (lua.LValue, bool, error) {
	it.L.Push(it.fn)
	if err := it.L.PCall(0, 1, nil); err != nil {
		return nil, false, err
	}
	v := it.L.Get(-1)
	it.L.Pop(1)
	return v, v != lua.LNil, nil
}

func (it *callIterator) knownLength(int) int64 { return -1 }
func (it *callIterator) immediate() bool       { return false }

// threadIterator resumes a coroutine until it is dead; only yielded values
// are chunks, its final return values are ignored.
type threadIterator struct {
	L      *lua.LState
	co     *lua.LState
	resume *lua.LFunction
}

func (it *threadIterator) next() (lua.LValue, bool, error) {
	L := it.L
	if it.co.Dead {
		return nil, false, nil
	}
	L.Push(it.resume)
	L.Push(it.co)
	if err := L.PCall(1, 2, nil); err != nil {
		return nil, false, err
	}
	ok, v := L.Get(-2), L.Get(-1)
	L.Pop(2)
	if ok != lua.LTrue {
		return nil, false, &LuaError{Message: safeString(v), Value: v}
	}
	if it.co.Dead {
		return nil, false, nil
	}
	if v == lua.LNil {
		// coroutine.yield() with no value: nothing to send this step.
		return lua.LString(""), true, nil
	}
	return v, true, nil
}

func (it *threadIterator) knownLength(int) int64 { return -1 }
func (it *threadIterator) immediate() bool       { return false }

// arrayIterator reads t[1], t[2], ... up to the first nil, with raw access:
// a __len or __index metamethod cannot change what is sent.
type arrayIterator struct {
	x *exchange
	t *lua.LTable
	i int
}

func (it *arrayIterator) next() (lua.LValue, bool, error) {
	it.i++
	v := it.t.RawGetInt(it.i)
	return v, v != lua.LNil, nil
}

func (it *arrayIterator) immediate() bool { return true }

// knownLength: a chunk followed by nothing is the whole body, unless the
// app also used write().
func (it *arrayIterator) knownLength(n int) int64 {
	if it.x.usedWrite {
		return -1
	}
	for j := it.i + 1; ; j++ {
		switch v := it.t.RawGetInt(j).(type) {
		case *lua.LNilType:
			return int64(n)
		case lua.LString:
			if len(v) > 0 {
				return -1
			}
		default:
			return -1
		}
	}
}
