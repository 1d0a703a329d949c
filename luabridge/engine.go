package luabridge

// This file installs the engine fixes in a state: the base and coroutine
// functions that make gopher-lua compute what Lua 5.1 computes
// (protect.go, load.go), and keeps the state's limits for them.

import (
	"log/slog"
	"sync"
	"weak"

	lua "github.com/yuin/gopher-lua"
)

// engine is the Go side of the fixes in one state (shared by its
// coroutines).
type engine struct {
	limits Limits

	// gopher-lua's coroutine.resume and create, which the replacements
	// call after their own checks.
	resume, create *lua.LFunction

	// pending records, for each coroutine suspended in coroutine.yield,
	// how to pass it the values of its next resume (see adjustResume).
	pending map[weak.Pointer[lua.LState]]int
}

// openEngineFixes replaces, in a state whose libraries are open, the
// functions gopher-lua gets wrong: pcall, xpcall, error, load, loadstring,
// dofile and loadfile (where present), require's file searcher, and
// coroutine.yield, resume, wrap and status. lim bounds the source that
// load, loadstring and the file loaders compile.
func openEngineFixes(L *lua.LState, lim Limits) {
	e := &engine{limits: lim.WithDefaults(), pending: map[weak.Pointer[lua.LState]]int{}}

	globals := L.Get(lua.GlobalsIndex).(*lua.LTable)
	for name, fn := range map[string]lua.LGFunction{
		"pcall":      e.luaPCall,
		"xpcall":     e.luaXPCall,
		"error":      luaErrorFn,
		"load":       e.luaLoad,
		"loadstring": e.luaLoadstring,
	} {
		globals.RawSetString(name, L.NewFunction(fn))
	}
	// gopher-lua's file loaders compile with its own compiler.
	for name, fn := range map[string]lua.LGFunction{"dofile": e.luaDofile, "loadfile": e.luaLoadfile} {
		if globals.RawGetString(name) != lua.LNil {
			globals.RawSetString(name, L.NewFunction(fn))
		}
	}
	if pkg, ok := globals.RawGetString(lua.LoadLibName).(*lua.LTable); ok {
		if loaders, ok := pkg.RawGetString("loaders").(*lua.LTable); ok && loaders.Len() >= 2 {
			loaders.RawSetInt(2, L.NewFunction(e.luaSearchPath))
		}
	}

	co, ok := globals.RawGetString(lua.CoroutineLibName).(*lua.LTable)
	if !ok {
		return
	}
	e.resume, _ = co.RawGetString("resume").(*lua.LFunction)
	e.create, _ = co.RawGetString("create").(*lua.LFunction)
	if e.resume != nil && !e.resume.IsG || e.create != nil && !e.create.IsG {
		e.resume, e.create = nil, nil
	}
	co.RawSetString("yield", L.NewFunction(e.luaYield))
	co.RawSetString("status", L.NewFunction(luaStatus))
	if e.resume != nil && e.create != nil {
		co.RawSetString("create", L.NewFunction(e.luaCreate))
		co.RawSetString("resume", L.NewFunction(e.luaResume))
		co.RawSetString("wrap", L.NewFunction(e.luaWrap))
	}
}

// warnInternals logs once per process that the engine fixes are off,
// when the gopher-lua in the build is not the one they were made for.
var warnInternals sync.Once

func warnIfNoInternals(logger *slog.Logger) {
	if err := EngineInternals(); err != nil {
		warnInternals.Do(func() {
			logger.Warn("luabridge: pcall, xpcall and coroutine.yield behave as gopher-lua's own (yuin/gopher-lua#448 is not fixed)", "err", err)
		})
	}
}
