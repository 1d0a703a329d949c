package luabridge

// This file reads the few unexported parts of gopher-lua's state that the
// engine fixes need and its API does not offer: the list of open upvalues
// (yuin/gopher-lua#448 cannot be fixed without detaching it, see
// protect.go) and the call frames (which function called which, at which
// instruction: to refuse a yield across a Go call as Lua 5.1 does, and to
// count error levels past tail calls).
//
// Nothing is assumed about the layout: every field is looked up by name
// through reflect when the package starts, its type checked, and its
// offset taken from reflect. If a gopher-lua release renames or retypes
// one of them, [EngineInternals] reports it, pcall and the other fixes
// fall back to gopher-lua's own behaviour, and this package's tests fail.

import (
	"fmt"
	"reflect"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
)

// internals holds the offsets found by findInternals.
var internals = findInternals()

type internalOffsets struct {
	err error // why the internals cannot be used; nil when they can

	stateFrame   uintptr // LState.currentFrame *callFrame
	stateUpvals  uintptr // LState.uvcache *Upvalue (open upvalues, by register)
	stateHandler uintptr // LState.hasErrorFunc bool (errors close no upvalues)
	frameFn      uintptr // callFrame.Fn *LFunction
	frameParent  uintptr // callFrame.Parent *callFrame
	framePc      uintptr // callFrame.Pc int (next instruction)
	frameTail    uintptr // callFrame.TailCall int (tail calls folded in)
	upvalueNext  uintptr // Upvalue.next *Upvalue
}

// EngineInternals reports whether the engine fixes of this package work
// with the gopher-lua in the build: nil if they do, else which part of
// gopher-lua's state was not found (a gopher-lua other than v1.1.2), in
// which case pcall, xpcall and coroutine.yield behave as gopher-lua's own.
func EngineInternals() error { return internals.err }

func findInternals() (off internalOffsets) {
	fail := func(format string, args ...any) internalOffsets {
		return internalOffsets{err: fmt.Errorf("luabridge: gopher-lua internals: "+format, args...)}
	}
	state := reflect.TypeOf(lua.LState{})
	upvalue := reflect.TypeOf(lua.Upvalue{})
	upvaluePtr := reflect.PointerTo(upvalue)
	fnPtr := reflect.TypeOf((*lua.LFunction)(nil))

	cf, ok := state.FieldByName("currentFrame")
	if !ok || cf.Type.Kind() != reflect.Pointer || cf.Type.Elem().Kind() != reflect.Struct {
		return fail("LState.currentFrame is not a pointer to a struct")
	}
	frame := cf.Type.Elem()
	uv, ok := state.FieldByName("uvcache")
	if !ok || uv.Type != upvaluePtr {
		return fail("LState.uvcache is not a *Upvalue")
	}
	handler, ok := state.FieldByName("hasErrorFunc")
	if !ok || handler.Type.Kind() != reflect.Bool {
		return fail("LState.hasErrorFunc is not a bool")
	}
	off.stateFrame, off.stateUpvals, off.stateHandler = cf.Offset, uv.Offset, handler.Offset

	want := []struct {
		typ   reflect.Type
		name  string
		check func(reflect.Type) bool
		dst   *uintptr
	}{
		{frame, "Fn", func(t reflect.Type) bool { return t == fnPtr }, &off.frameFn},
		{frame, "Parent", func(t reflect.Type) bool { return t == cf.Type }, &off.frameParent},
		{frame, "Pc", isInt, &off.framePc},
		{frame, "TailCall", isInt, &off.frameTail},
		{upvalue, "next", func(t reflect.Type) bool { return t == upvaluePtr }, &off.upvalueNext},
	}
	for _, w := range want {
		f, ok := w.typ.FieldByName(w.name)
		if !ok || !w.check(f.Type) {
			return fail("%s.%s is missing or of another type", w.typ.Name(), w.name)
		}
		*w.dst = f.Offset
	}
	return off
}

func isInt(t reflect.Type) bool { return t.Kind() == reflect.Int }

// frameRef is a gopher-lua call frame, read through the offsets above.
type frameRef struct{ p unsafe.Pointer }

// currentFrame returns the frame running in L (nil p when none).
func currentFrame(L *lua.LState) frameRef {
	return frameRef{*(*unsafe.Pointer)(unsafe.Add(unsafe.Pointer(L), internals.stateFrame))}
}

func (f frameRef) valid() bool { return f.p != nil }

func (f frameRef) fn() *lua.LFunction {
	return *(**lua.LFunction)(unsafe.Add(f.p, internals.frameFn))
}

func (f frameRef) parent() frameRef {
	return frameRef{*(*unsafe.Pointer)(unsafe.Add(f.p, internals.frameParent))}
}

func (f frameRef) pc() int {
	return *(*int)(unsafe.Add(f.p, internals.framePc))
}

func (f frameRef) tailCalls() int {
	return *(*int)(unsafe.Add(f.p, internals.frameTail))
}

// openUpvalues returns the address of L's list of open upvalues.
func openUpvalues(L *lua.LState) **lua.Upvalue {
	return (**lua.Upvalue)(unsafe.Add(unsafe.Pointer(L), internals.stateUpvals))
}

func nextUpvalue(uv *lua.Upvalue) *lua.Upvalue {
	return *(**lua.Upvalue)(unsafe.Add(unsafe.Pointer(uv), internals.upvalueNext))
}

// errorHandlerFlag returns the address of L's flag that an error handler
// is set (while it is, a raised error closes no upvalues).
func errorHandlerFlag(L *lua.LState) *bool {
	return (*bool)(unsafe.Add(unsafe.Pointer(L), internals.stateHandler))
}
