package luabridge

// This file replaces the parts of gopher-lua's base and coroutine
// libraries that break Lua 5.1's semantics around errors and yields.
//
// # Upvalues after a caught error (yuin/gopher-lua#448)
//
// A closure shares a local with the function that declared it while that
// function runs (the upvalue is "open") and keeps its own copy once the
// function has returned or died in an error (the upvalue is "closed").
// gopher-lua keeps the open upvalues of a state in one list and, when an
// error is raised, closes all of them (LState.raiseError calls
// closeAllUpvalues) — also those of the functions below the pcall, which
// go on running: their closures from then on see a stale copy. Lua 5.1
// closes only the upvalues of the functions the error unwinds
// (luaD_pcall: luaF_close(L, oldtop)).
//
// The protected call here detaches the list while the called function
// runs, so that it holds only the upvalues of functions above the pcall:
// gopher-lua's close-everything then closes exactly those, with their
// values at the time of the error, and the caller's list is put back
// afterwards. xpcall's handler closes them itself, after the app's
// handler has run, since gopher-lua closes nothing when there is one.
//
// # Yields across Go calls
//
// gopher-lua lets a coroutine yield from inside a Go function that called
// Lua (pcall, table.sort, string.gsub) or from a metamethod or for-loop
// iterator the VM called; resuming it then panics or runs on with a
// broken stack. Lua 5.1 raises "attempt to yield across metamethod/C-call
// boundary" (lua_yield), and so does coroutine.yield here.

import (
	"strconv"
	"weak"

	lua "github.com/yuin/gopher-lua"
)

// PCall is L.PCall with Lua 5.1's semantics for upvalues: an error caught
// here closes the upvalues of the functions it unwinds and no others. Go
// functions called from Lua that call Lua in protected mode must use it
// (gopher-lua's own PCall detaches the closures of every running function
// from their locals). As with L.PCall, an error is an *lua.ApiError whose
// StackTrace is the traceback where the error was raised; handler, if not
// nil, is called with the error value before the stack unwinds, and its
// result is the error value returned.
func PCall(L *lua.LState, nargs, nret int, handler *lua.LFunction) error {
	if handler == nil {
		return protectedCall(L, nargs, nret, nil)
	}
	var trace string
	closer := L.NewFunction(func(L *lua.LState) int {
		trace = traceback(L, 1)
		return callHandler(L, handler)
	})
	err := protectedCall(L, nargs, nret, closer)
	if aerr, ok := err.(*lua.ApiError); ok && aerr.StackTrace == "" {
		aerr.StackTrace = trace
	}
	return err
}

// protectedCall calls the function below the nargs values at the top of
// L's stack with the open upvalues of the running functions set aside:
// when an error is raised, gopher-lua closes every upvalue in the list,
// which then holds only those of the functions the error unwinds.
// handler, if not nil, is an error handler (xpcall's); gopher-lua closes
// nothing when there is one, so it must call closeUpvalueList. (Plain
// pcall needs none, and must have none: gopher-lua pushes the handler
// before it clears the stack, which fails when the error was a full one.)
func protectedCall(L *lua.LState, nargs, nret int, handler *lua.LFunction) error {
	if internals.err != nil {
		return L.PCall(nargs, nret, handler)
	}
	list := openUpvalues(L)
	running := *list
	*list = nil
	// Inside an xpcall gopher-lua's flag that a handler is set is still
	// up; a plain pcall within must have its errors close upvalues.
	flag := errorHandlerFlag(L)
	outer := *flag
	*flag = false
	err := L.PCall(nargs, nret, handler)
	*flag = outer
	// Normally empty: the callee's frames returned (closing their
	// upvalues) or died in an error (closed then). After a Go panic, or
	// an error the handler could not run for, their registers are
	// already cleared: the closures see nil.
	closeUpvalueList(L)
	*list = running
	return err
}

// closeUpvalueList closes every upvalue in L's list of open upvalues and
// empties it.
func closeUpvalueList(L *lua.LState) {
	if internals.err != nil {
		return
	}
	list := openUpvalues(L)
	for uv := *list; uv != nil; {
		next := nextUpvalue(uv)
		uv.Close()
		if uv.Value() == nil {
			uv.SetValue(lua.LNil) // a register gopher-lua already cleared
		}
		uv = next
	}
	*list = nil
}

// errorInErrorHandling is what xpcall returns when its handler fails, as
// in Lua 5.1 (LUA_ERRERR).
const errorInErrorHandling = "error in error handling"

// callHandler runs an xpcall handler on the error value at 1, then closes
// the unwound functions' upvalues (which the handler could still see).
func callHandler(L *lua.LState, handler lua.LValue) int {
	obj := L.Get(1)
	result := lua.LValue(lua.LString(errorInErrorHandling))
	if fn, ok := handler.(*lua.LFunction); ok {
		L.Push(fn)
		L.Push(obj)
		if err := protectedCall(L, 1, 1, nil); err == nil {
			result = L.Get(-1)
		}
	}
	closeUpvalueList(L)
	L.SetTop(0)
	L.Push(result)
	return 1
}

// errorValue returns the Lua value an error from a protected call carries.
func errorValue(err error) lua.LValue {
	if aerr, ok := err.(*lua.ApiError); ok {
		return aerr.Object
	}
	return lua.LString(err.Error())
}

// raiseIfInterrupted raises the context's error when the state's context
// is done, whatever error was caught: a deadline or a disconnect must reach
// the host, not a pcall (gopher-lua raises it at the next instruction).
func raiseIfInterrupted(L *lua.LState) {
	if ctx := L.Context(); ctx != nil && ctx.Err() != nil {
		L.RaiseError("%s", ctx.Err().Error())
	}
}

// luaPCall is pcall(f, ...).
func (e *engine) luaPCall(L *lua.LState) int {
	L.CheckAny(1)
	v := L.Get(1)
	if v.Type() != lua.LTFunction && L.GetMetaField(v, "__call").Type() != lua.LTFunction {
		L.SetTop(0)
		L.Push(lua.LFalse)
		L.Push(lua.LString("attempt to call a " + v.Type().String() + " value"))
		return 2
	}
	if err := protectedCall(L, L.GetTop()-1, lua.MultRet, nil); err != nil {
		raiseIfInterrupted(L)
		obj := errorValue(err)
		L.Push(lua.LFalse)
		L.Push(obj)
		return 2
	}
	L.Insert(lua.LTrue, 1)
	return L.GetTop()
}

// luaXPCall is xpcall(f, handler): f is called with no arguments, as in
// Lua 5.1.
func (e *engine) luaXPCall(L *lua.LState) int {
	L.CheckAny(2)
	handler := L.Get(2)
	L.SetTop(1)
	closer := L.NewFunction(func(L *lua.LState) int { return callHandler(L, handler) })
	if err := protectedCall(L, 0, lua.MultRet, closer); err != nil {
		raiseIfInterrupted(L)
		obj := errorValue(err)
		L.Push(lua.LFalse)
		L.Push(obj)
		return 2
	}
	L.Insert(lua.LTrue, 1)
	return L.GetTop()
}

// luaErrorFn is error(message [, level]): a string or number message gets
// the position of the function `level` calls up (1, the default, being
// the caller of error), counted as Lua 5.1 counts (gopher-lua counts one
// level short from 2 on, and skips Go functions instead of giving them no
// position).
func luaErrorFn(L *lua.LState) int {
	obj := L.Get(1)
	level := L.OptInt(2, 1)
	if level > 0 {
		switch v := obj.(type) {
		case lua.LString:
			obj = lua.LString(levelWhere(L, level) + string(v))
		case lua.LNumber:
			obj = lua.LString(levelWhere(L, level) + v.String())
		}
	}
	L.Error(obj, 0)
	return 0
}

// levelWhere returns "chunk:line: " for the function level calls up from the
// running Go function (level 0), or "" when that is a Go function, a
// tail call whose frame is gone, or beyond the stack (luaL_where).
func levelWhere(L *lua.LState, level int) string {
	if internals.err != nil {
		dbg, ok := L.GetStack(level)
		if !ok {
			return ""
		}
		if _, err := L.GetInfo("Sl", dbg, lua.LNil); err != nil || dbg.What == "G" || dbg.CurrentLine <= 0 {
			return ""
		}
		return dbg.Source + ":" + strconv.Itoa(dbg.CurrentLine) + ": "
	}
	f := currentFrame(L)
	for ; level > 0 && f.valid(); f = f.parent() {
		level--
		if !f.fn().IsG {
			level -= f.tailCalls()
		}
	}
	if level != 0 || !f.valid() {
		return ""
	}
	fn := f.fn()
	if fn.IsG || f.pc() <= 0 {
		return ""
	}
	return fn.Proto.SourceName + ":" + strconv.Itoa(fn.Proto.DbgSourcePositions[f.pc()-1]) + ": "
}

// errYieldAcross is Lua 5.1's message for a yield it cannot do.
const errYieldAcross = "attempt to yield across metamethod/C-call boundary"

// What a suspended coroutine's pending yield makes of the values the next
// resume passes (engine.pending): a count n >= 0 of values the yield's
// caller takes, or one of these.
const (
	resumeAll    = -1 // the caller takes them all (a call in f(yield()))
	resumeFinish = -2 // the coroutine ends with them (`return yield(...)`)
)

// luaYield is coroutine.yield(...).
func (e *engine) luaYield(L *lua.LState) int {
	if L.Parent == nil {
		L.Error(lua.LString(errYieldAcross), 0)
	}
	resume, ok := yieldResume(L)
	if !ok {
		L.Error(lua.LString(errYieldAcross), 0)
	}
	e.setPending(L, resume)
	return -1 // gopher-lua's signal to switch to the resuming thread
}

// yieldResume reports whether the running coroutine.yield can yield: no
// Go call may stand between it and the coroutine's resume (a Go function
// that called Lua, or a call the VM made for a metamethod or a for-loop
// iterator: any instruction but a call). It also returns how the values
// of the next resume are to be taken (resumeAll, resumeFinish or a count).
func yieldResume(L *lua.LState) (resume int, ok bool) {
	if internals.err != nil {
		for i := 1; ; i++ {
			dbg, found := L.GetStack(i)
			if !found {
				return resumeAll, true
			}
			if _, err := L.GetInfo("S", dbg, lua.LNil); err == nil && dbg.What == "G" {
				return 0, false
			}
		}
	}
	resume = resumeAll
	for f, first := currentFrame(L), true; f.valid(); f, first = f.parent(), false {
		caller := f.parent()
		if !caller.valid() {
			if first {
				resume = resumeFinish // the coroutine's body is yield itself
			}
			return resume, true
		}
		fn := caller.fn()
		if fn.IsG || caller.pc() <= 0 {
			return 0, false
		}
		inst := fn.Proto.Code[caller.pc()-1]
		switch int(inst >> 26) {
		case lua.OP_CALL:
			if first {
				resume = wantedResults(inst)
			}
		case lua.OP_TAILCALL:
			// gopher-lua drops the caller's frame: the values go where the
			// caller's results would have gone.
			if !first {
				return 0, false
			}
			if next := caller.parent(); !next.valid() {
				resume = resumeFinish
			} else if !next.fn().IsG && next.pc() > 0 {
				resume = wantedResults(next.fn().Proto.Code[next.pc()-1])
			}
		default:
			return 0, false
		}
	}
	return resume, true
}

// wantedResults returns how many results a call instruction keeps (its C
// operand less one), or resumeAll for all of them.
func wantedResults(inst uint32) int {
	if c := int(inst>>9) & 0x1ff; c > 0 {
		return c - 1
	}
	return resumeAll
}

// setPending records how the next resume of co is to pass its values.
// Nothing is recorded for a yield whose caller takes all the values, or
// none (a yield statement): gopher-lua's own passing is then right.
func (e *engine) setPending(co *lua.LState, resume int) {
	if resume == resumeAll || resume == 0 {
		return
	}
	if len(e.pending) >= 256 {
		for k := range e.pending {
			if k.Value() == nil {
				delete(e.pending, k) // a coroutine dropped while suspended
			}
		}
	}
	e.pending[weak.Make(co)] = resume
}

// adjustResume applies co's pending yield to the resume values at 2..top
// of L's stack. It returns true when the coroutine has ended with them: a
// yield gopher-lua cannot resume (a tail call from the coroutine's body
// leaves it without frames) is completed here as Lua 5.1 completes it.
func (e *engine) adjustResume(L, co *lua.LState) bool {
	if len(e.pending) == 0 {
		return false
	}
	key := weak.Make(co)
	resume, ok := e.pending[key]
	if !ok {
		return false
	}
	delete(e.pending, key)
	switch {
	case resume == resumeFinish:
		co.Dead = true
		return true
	case resume >= 0:
		// gopher-lua hands the caller of yield exactly the values given,
		// leaving stale registers where fewer were passed.
		top := 1 + resume
		if L.GetTop() > top {
			L.SetTop(top)
		}
		for L.GetTop() < top {
			L.Push(lua.LNil)
		}
	}
	return false
}

// coroutineStatus returns co's status as Lua 5.1 names it.
func coroutineStatus(L, co *lua.LState) string {
	switch {
	case co.Dead:
		return "dead"
	case co == L:
		return "running"
	}
	for p := L.Parent; p != nil; p = p.Parent {
		if p == co {
			return "normal" // it resumed the running one
		}
	}
	return "suspended"
}

func luaStatus(L *lua.LState) int {
	L.Push(lua.LString(coroutineStatus(L, L.CheckThread(1))))
	return 1
}

// resumeRefusal returns Lua 5.1's message when co cannot be resumed, or "".
func resumeRefusal(L, co *lua.LState) string {
	if st := coroutineStatus(L, co); st != "suspended" {
		return "cannot resume " + st + " coroutine"
	}
	return ""
}

// luaResume is coroutine.resume(co, ...): gopher-lua's, after the status
// checks it lacks (resuming a coroutine that is waiting for the one it
// resumed corrupts both) and the adjustments of adjustResume.
func (e *engine) luaResume(L *lua.LState) int {
	co := L.CheckThread(1)
	if msg := resumeRefusal(L, co); msg != "" {
		L.SetTop(0)
		L.Push(lua.LFalse)
		L.Push(lua.LString(msg))
		return 2
	}
	if e.adjustResume(L, co) {
		L.Insert(lua.LTrue, 2)
		return L.GetTop() - 1
	}
	// gopher-lua's resume works on this frame's stack: co, then the values.
	return e.resume.GFunction(L)
}

// luaCreate is coroutine.create(f): f must be a Lua function, as in Lua
// 5.1 (gopher-lua cannot yield from a coroutine whose body is Go).
func (e *engine) luaCreate(L *lua.LState) int {
	fn := L.CheckFunction(1)
	if fn.IsG {
		L.ArgError(1, "Lua function expected")
	}
	L.SetTop(1)
	return e.create.GFunction(L)
}

// luaWrap is coroutine.wrap(f): a function that resumes a new coroutine
// and raises its errors, a string error prefixed with the caller's
// position (auxwrap in Lua 5.1).
func (e *engine) luaWrap(L *lua.LState) int {
	e.luaCreate(L)
	co := L.CheckThread(-1)
	L.Push(L.NewFunction(func(L *lua.LState) int {
		if msg := resumeRefusal(L, co); msg != "" {
			L.Error(lua.LString(levelWhere(L, 1)+msg), 0)
		}
		L.Insert(co, 1)
		n := e.luaResume(L)
		if L.Get(-n) != lua.LTrue {
			obj := L.Get(-n + 1)
			if s, ok := obj.(lua.LString); ok {
				obj = lua.LString(levelWhere(L, 1) + string(s))
			}
			L.Error(obj, 0)
		}
		return n - 1 // the values after true
	}))
	return 1
}
