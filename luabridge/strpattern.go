package luabridge

// This file replaces gopher-lua's string.find, string.match, string.gmatch
// and string.gsub with functions built on luapattern, which bounds the work
// of one call (gopher-lua's matcher backtracks without bound inside one Go
// call, where the request deadline cannot reach it), reads %f frontier
// patterns, and gives Lua 5.1's results and error messages.

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/lsgi/lsgi/luabridge/luapattern"
	lua "github.com/yuin/gopher-lua"
)

// The options that raise the pattern functions' limits, named in the errors
// raised when a limit is reached.
const (
	patternStepsOption = "pattern-steps (lsgi serve --limit pattern-steps=N, or Limits.MaxPatternSteps in host.Config)"
	stringBytesOption  = "string-bytes (lsgi serve --limit string-bytes=N, or Limits.MaxStringBytes in host.Config)"
)

// defaultMaxResult bounds the length of string.gsub's result when
// openPatternFunctions is given no bound: 64 MiB.
const defaultMaxResult = 64 << 20

// matchers holds idle Matchers: a state may run several matches at once
// (a gsub whose replacement function calls string.find), each needs its own.
var matchers = sync.Pool{New: func() any { return new(luapattern.Matcher) }}

// patternFuncs are the pattern functions of one state and their limits.
type patternFuncs struct {
	steps     int // step budget of one call
	maxResult int // longest result of string.gsub, in bytes
}

// openPatternFunctions installs string.find, string.match, string.gmatch
// (also as string.gfind) and string.gsub, built on luapattern, over those
// of gopher-lua in L's string library, which must be open. The string
// library's table is also the __index of strings, so ("x"):gsub(...) uses
// them too.
//
// steps is the step budget of one call ([luapattern.DefaultBudget], ten
// million steps, when zero or less); maxResult bounds the length of
// string.gsub's result (64 MiB when zero or less). A call that reaches
// either raises a catchable Lua error naming the limit; one that outlasts
// L's context raises an error too.
func openPatternFunctions(L *lua.LState, steps, maxResult int) {
	if steps <= 0 {
		steps = luapattern.DefaultBudget
	}
	if maxResult <= 0 {
		maxResult = defaultMaxResult
	}
	f := &patternFuncs{steps: steps, maxResult: maxResult}
	gmatch := L.NewFunction(f.gmatch)
	funcs := map[string]lua.LValue{
		"find":   L.NewFunction(f.find),
		"match":  L.NewFunction(f.match),
		"gmatch": gmatch,
		"gfind":  gmatch, // Lua 5.1's old name, kept by its default build
		"gsub":   L.NewFunction(f.gsub),
	}
	for _, t := range stringTables(L) {
		for name, fn := range funcs {
			t.RawSetString(name, fn)
		}
	}
}

// stringTables returns the string library's table as the global "string",
// package.loaded.string and the strings' metatable reach it (one table in
// gopher-lua, but nothing here relies on that).
func stringTables(L *lua.LState) []*lua.LTable {
	var tables []*lua.LTable
	add := func(v lua.LValue) {
		if t, ok := v.(*lua.LTable); ok && !slices.Contains(tables, t) {
			tables = append(tables, t)
		}
	}
	add(L.GetGlobal(lua.StringLibName))
	if loaded, ok := L.Get(lua.RegistryIndex).(*lua.LTable).RawGetString("_LOADED").(*lua.LTable); ok {
		add(loaded.RawGetString(lua.StringLibName))
	}
	if mt, ok := L.GetMetatable(lua.LString("")).(*lua.LTable); ok {
		add(mt.RawGetString("__index"))
	}
	return tables
}

// matcher returns an idle Matcher with a fresh budget, bound to L's context.
func (f *patternFuncs) matcher(L *lua.LState) *luapattern.Matcher {
	m := matchers.Get().(*luapattern.Matcher)
	m.Reset(L.Context(), f.steps)
	return m
}

// release gives m back, holding no subject or context.
func release(m *luapattern.Matcher) {
	m.Reset(nil, 0)
	matchers.Put(m)
}

func (f *patternFuncs) find(L *lua.LState) int  { return f.findAux(L, "find") }
func (f *patternFuncs) match(L *lua.LState) int { return f.findAux(L, "match") }

// findAux is string.find (s, pattern [, init [, plain]]) and string.match
// (s, pattern [, init]).
func (f *patternFuncs) findAux(L *lua.LState, name string) int {
	s, p := L.CheckString(1), L.CheckString(2)
	init := luapattern.StartIndex(optPosition(L, 3, 1), len(s))
	find := name == "find"
	if find && (lua.LVAsBool(L.Get(4)) || luapattern.IsPlain(p)) {
		i := strings.Index(s[init:], p)
		if i < 0 {
			L.Push(lua.LNil)
			return 1
		}
		L.Push(lua.LNumber(init + i + 1))
		L.Push(lua.LNumber(init + i + len(p)))
		return 2
	}
	m := f.matcher(L)
	defer release(m)
	start, end, err := m.Find(s, p, init)
	if err != nil {
		f.raise(L, name, err)
	}
	if start < 0 {
		L.Push(lua.LNil)
		return 1
	}
	if !find {
		return pushCaptures(L, m, s, start, end, true)
	}
	L.Push(lua.LNumber(start + 1))
	L.Push(lua.LNumber(end))
	return 2 + pushCaptures(L, m, s, start, end, false)
}

// gmatch is string.gmatch (s, pattern): it returns one value, the iterator.
// As in Lua 5.1, a '^' in the pattern anchors nothing and matches itself.
func (f *patternFuncs) gmatch(L *lua.LState) int {
	s, p := L.CheckString(1), L.CheckString(2)
	pos := 0
	L.Push(L.NewFunction(func(L *lua.LState) int {
		if pos > len(s) {
			return 0
		}
		m := f.matcher(L)
		defer release(m)
		start, end, err := m.Gmatch(s, p, pos)
		if err != nil {
			f.raise(L, "gmatch", err)
		}
		if start < 0 {
			pos = len(s) + 1 // Lua would scan again, to the same end
			return 0
		}
		if pos = end; end == start {
			pos++ // an empty match: go on from the next byte
		}
		return pushCaptures(L, m, s, start, end, true)
	}))
	return 1
}

// gsub is string.gsub (s, pattern, repl [, n]), repl being a string (with
// %0-%9 and %%), a table indexed by the first capture or a function called
// with the captures; a false or nil replacement value keeps the match.
func (f *patternFuncs) gsub(L *lua.LState) int {
	s, p := L.CheckString(1), L.CheckString(2)
	repl := L.Get(3)
	switch repl.(type) {
	case lua.LString, lua.LNumber, *lua.LTable, *lua.LFunction:
	default:
		L.ArgError(3, "string/function/table expected")
	}
	max := optPosition(L, 4, len(s)+1)
	m := f.matcher(L)
	defer release(m)
	var replace luapattern.Replacer
	switch r := repl.(type) {
	case *lua.LTable:
		replace = func(dst []byte, start, end int) ([]byte, error) {
			key := captureValue(L, m, s, 0, start, end)
			var v lua.LValue
			withoutYield(L, func() { v = L.GetTable(r, key) }) // __index may run Lua
			return f.appendValue(L, dst, v, s[start:end])
		}
	case *lua.LFunction:
		replace = func(dst []byte, start, end int) ([]byte, error) {
			// An unprotected call: an error in repl goes on up with its
			// traceback, and L's context stops a repl that loops.
			L.Push(r)
			n := pushCaptures(L, m, s, start, end, true)
			withoutYield(L, func() { L.Call(n, 1) })
			v := L.Get(-1)
			L.Pop(1)
			return f.appendValue(L, dst, v, s[start:end])
		}
	default:
		tmpl := lua.LVAsString(repl)
		replace = func(dst []byte, start, end int) ([]byte, error) {
			return m.Expand(dst, tmpl, start, end, f.maxResult)
		}
	}
	out, n, err := m.Gsub(s, p, max, f.maxResult, replace)
	if err != nil {
		f.raise(L, "gsub", err)
	}
	L.Push(lua.LString(out))
	L.Push(lua.LNumber(n))
	return 2
}

// withoutYield runs call, which calls Lua code from Go, so that a
// coroutine.yield in that code raises an error (Lua 5.1 cannot yield across
// a C call either). gopher-lua would otherwise switch threads in the middle
// of the Go call and leave the coroutine's stack broken; its yield refuses
// to run in a thread without a parent.
func withoutYield(L *lua.LState, call func()) {
	parent := L.Parent
	L.Parent = nil
	defer func() { L.Parent = parent }()
	call()
}

// appendValue appends a replacement value from a table or a function: a
// string or a number as text, false or nil as the match itself.
func (f *patternFuncs) appendValue(L *lua.LState, dst []byte, v lua.LValue, match string) ([]byte, error) {
	var text string
	switch v := v.(type) {
	case lua.LString:
		text = string(v)
	case lua.LNumber:
		text = v.String()
	default:
		if lua.LVAsBool(v) {
			raiseLua51(L, fmt.Sprintf("invalid replacement value (a %s)", v.Type()))
		}
		text = match
	}
	if len(dst)+len(text) > f.maxResult {
		return dst, luapattern.ErrTooLong
	}
	return append(dst, text...), nil
}

// pushCaptures pushes the captures of m's last match, s[start:end], and
// returns how many; with none, whole says to push the whole match instead.
func pushCaptures(L *lua.LState, m *luapattern.Matcher, s string, start, end int, whole bool) int {
	n := m.Captures()
	if n == 0 && whole {
		n = 1
	}
	for i := range n {
		L.Push(captureValue(L, m, s, i, start, end))
	}
	return n
}

// captureValue returns capture i of m's last match as a Lua value: a string,
// or a number for a position capture.
func captureValue(L *lua.LState, m *luapattern.Matcher, s string, i, start, end int) lua.LValue {
	c, err := m.Capture(i, start, end)
	if err != nil {
		var perr *luapattern.Error
		if errors.As(err, &perr) {
			raiseLua51(L, perr.Msg)
		}
		L.RaiseError("%s", err.Error())
	}
	if c.Position {
		return lua.LNumber(c.Start + 1)
	}
	return lua.LString(s[c.Start:c.End])
}

// raise raises err from the pattern function name as a Lua error.
func (f *patternFuncs) raise(L *lua.LState, name string, err error) {
	var perr *luapattern.Error
	switch {
	case errors.As(err, &perr):
		raiseLua51(L, perr.Msg)
	case errors.Is(err, luapattern.ErrBudget):
		L.RaiseError("string.%s: pattern matching took more than %d steps: simplify the pattern or raise the limit %s",
			name, f.steps, patternStepsOption)
	case errors.Is(err, luapattern.ErrTooLong):
		L.RaiseError("string.%s: result longer than %d bytes: raise the limit %s", name, f.maxResult, stringBytesOption)
	default:
		L.RaiseError("string.%s: %s", name, err.Error())
	}
}

// raiseLua51 raises msg as Lua 5.1's string library does: prefixed with
// the position of the calling Lua code, and with no position when the
// caller is not Lua code (pcall(string.find, ...)).
func raiseLua51(L *lua.LState, msg string) {
	if dbg, ok := L.GetStack(1); ok {
		if _, err := L.GetInfo("Sl", dbg, lua.LNil); err == nil && dbg.CurrentLine > 0 {
			msg = fmt.Sprintf("%s:%d: %s", dbg.Source, dbg.CurrentLine, msg)
		}
	}
	L.Error(lua.LString(msg), 0)
}

// optPosition reads the optional integer argument n as Lua 5.1's
// luaL_optinteger does: a number or a numeric string, truncated, with
// values too large for exact integers clamped.
func optPosition(L *lua.LState, n, def int) int {
	if L.Get(n) == lua.LNil {
		return def
	}
	const limit = 1 << 53
	switch f := float64(L.CheckNumber(n)); {
	case f != f:
		return 0
	case f > limit:
		return limit
	case f < -limit:
		return -limit
	default:
		return int(f)
	}
}
