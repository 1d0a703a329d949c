package luabridge

// This file gives debug.getinfo the fields of Lua 5.1 (source, short_src,
// what, currentline, linedefined, lastlinedefined, name, namewhat, nups,
// func, activelines) and debug.traceback Lua 5.1's layout. In default mode
// these two are the whole debug library: they only read, so libraries
// that report their own file and line (or format errors) work, and nothing
// can change another function's locals or upvalues.

import (
	"fmt"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

func (s *stdlib) installDebug() {
	L := s.L
	mod := s.module(lua.DebugLibName)
	L.SetFuncs(mod, map[string]lua.LGFunction{
		"getinfo":   debugGetinfo,
		"traceback": debugTraceback,
	})
}

// luaIDSize is Lua 5.1's LUA_IDSIZE, the size of short_src.
const luaIDSize = 60

// sourceOf returns Lua 5.1's source for a gopher-lua chunk name: files
// (names ending in .lua) get the "@" Lua gives them; "@" and "=" names
// are kept; anything else is the text of a string chunk.
func sourceOf(name string) string {
	if strings.HasPrefix(name, "@") || strings.HasPrefix(name, "=") || strings.HasPrefix(name, `[string "`) {
		return name
	}
	if strings.HasSuffix(name, ".lua") {
		return "@" + name
	}
	return name
}

// shortSource is Lua 5.1's luaO_chunkid: the short_src of a source.
func shortSource(source string) string {
	switch {
	case strings.HasPrefix(source, "="):
		return truncate(source[1:], luaIDSize-1)
	case strings.HasPrefix(source, "@"):
		name := source[1:]
		if room := luaIDSize - len(" '...' ") - 1; len(name) > room {
			return "..." + name[len(name)-room:]
		}
		return name
	case strings.HasPrefix(source, `[string "`):
		return source
	}
	room := luaIDSize - len(` [string "..."] `) - 1
	line := source
	if i := strings.IndexAny(line, "\r\n"); i >= 0 {
		line = line[:i]
	}
	if len(line) > room {
		line = line[:room]
	}
	if len(line) < len(source) {
		return `[string "` + line + `..."]`
	}
	return `[string "` + line + `"]`
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// frameInfo is what Lua 5.1's lua_Debug holds for one function.
type frameInfo struct {
	fn              *lua.LFunction
	source          string
	shortSrc        string
	what            string // "Lua", "C" or "main"
	currentLine     int
	lineDefined     int
	lastLineDefined int
	name            string // "" when unknown
	namewhat        string
	nups            int
}

// infoOf fills a frameInfo for fn; dbg is the stack level it runs at in
// co (level), or nil for a function given by value.
func infoOf(co *lua.LState, dbg *lua.Debug, level int, fn *lua.LFunction) frameInfo {
	fi := frameInfo{fn: fn, currentLine: -1, nups: len(fn.Upvalues)}
	if fn.IsG {
		fi.source, fi.shortSrc, fi.what = "=[C]", "[C]", "C"
		fi.lineDefined, fi.lastLineDefined = -1, -1
	} else {
		fi.source = sourceOf(fn.Proto.SourceName)
		if source, ok := chunkSource(fn.Proto); ok {
			fi.source = source // load and loadstring (load.go)
		}
		fi.shortSrc = shortSource(fi.source)
		fi.lineDefined, fi.lastLineDefined = fn.Proto.LineDefined, fn.Proto.LastLineDefined
		fi.what = "Lua"
		if fi.lineDefined == 0 {
			fi.what, fi.lastLineDefined = "main", 0
		}
	}
	if dbg == nil {
		return fi
	}
	if _, err := co.GetInfo("ln", dbg, lua.LNil); err == nil {
		if !fn.IsG {
			fi.currentLine = dbg.CurrentLine
		}
		if name := dbg.Name; name != "" && !strings.HasPrefix(name, "<") && !strings.Contains(name, " ") && name != "(anonymous)" {
			fi.name = name
			fi.namewhat = nameKind(co, level+1, fn, name)
		}
	}
	return fi
}

// nameKind guesses Lua 5.1's namewhat for a function called by name:
// gopher-lua keeps the name of each call but not how it was reached, so
// the name is looked up among the calling function's locals and upvalues
// (co's function at level), then among the globals.
func nameKind(co *lua.LState, level int, fn *lua.LFunction, name string) string {
	if up, ok := co.GetStack(level); ok {
		f, err := co.GetInfo("f", up, lua.LNil)
		if caller, isFn := f.(*lua.LFunction); err == nil && isFn && !caller.IsG {
			for _, local := range caller.Proto.DbgLocals {
				if local.Name == name {
					return "local"
				}
			}
			for _, upName := range caller.Proto.DbgUpvalues {
				if upName == name {
					return "upvalue"
				}
			}
		}
	}
	if co.GetGlobal(name) == fn {
		return "global"
	}
	return "field"
}

// frameAt returns the info of the function running at level (0 is the
// running Go function) of thread co.
func frameAt(L, co *lua.LState, level int) (frameInfo, bool) {
	dbg, ok := co.GetStack(level)
	if !ok {
		return frameInfo{}, false
	}
	f, err := co.GetInfo("f", dbg, lua.LNil)
	fn, isFn := f.(*lua.LFunction)
	if err != nil || !isFn {
		return frameInfo{}, false
	}
	return infoOf(co, dbg, level, fn), true
}

// threadArg reads an optional first thread argument, as Lua 5.1's debug
// functions do: it returns the thread and the index of the next argument.
func threadArg(L *lua.LState) (*lua.LState, int) {
	if co, ok := L.Get(1).(*lua.LState); ok {
		return co, 1
	}
	return L, 0
}

// debugGetinfo is debug.getinfo([thread,] f_or_level [, what]).
func debugGetinfo(L *lua.LState) int {
	co, arg := threadArg(L)
	what := optString(L, arg+2, "flnSu")
	var fi frameInfo
	switch v := L.Get(arg + 1).(type) {
	case lua.LNumber, lua.LString:
		level, ok := toNumber(v)
		if !ok {
			argError(L, arg+1, "function or level expected")
		}
		var found bool
		fi, found = frameAt(L, co, int(toInt64(level)))
		if !found {
			L.Push(lua.LNil)
			return 1
		}
	case *lua.LFunction:
		fi = infoOf(L, nil, 0, v)
	default:
		argError(L, arg+1, "function or level expected")
	}
	if strings.Trim(what, "SlunfL") != "" {
		argError(L, arg+2, "invalid option")
	}
	t := L.NewTable()
	if strings.Contains(what, "S") {
		t.RawSetString("source", lua.LString(fi.source))
		t.RawSetString("short_src", lua.LString(fi.shortSrc))
		t.RawSetString("linedefined", lua.LNumber(fi.lineDefined))
		t.RawSetString("lastlinedefined", lua.LNumber(fi.lastLineDefined))
		t.RawSetString("what", lua.LString(fi.what))
	}
	if strings.Contains(what, "l") {
		t.RawSetString("currentline", lua.LNumber(fi.currentLine))
	}
	if strings.Contains(what, "u") {
		t.RawSetString("nups", lua.LNumber(fi.nups))
	}
	if strings.Contains(what, "n") {
		if fi.name != "" {
			t.RawSetString("name", lua.LString(fi.name))
		}
		t.RawSetString("namewhat", lua.LString(fi.namewhat))
	}
	if strings.Contains(what, "L") && !fi.fn.IsG {
		lines := L.NewTable()
		for _, line := range fi.fn.Proto.DbgSourcePositions {
			lines.RawSetInt(line, lua.LTrue)
		}
		t.RawSetString("activelines", lines)
	}
	if strings.Contains(what, "f") {
		t.RawSetString("func", fi.fn)
	}
	L.Push(t)
	return 1
}

// Lua 5.1 shows the first levels1 levels of a long traceback and its last
// levels2.
const (
	tracebackLevels1 = 12
	tracebackLevels2 = 10
)

// debugTraceback is debug.traceback([thread,] [message [, level]]) in Lua
// 5.1's layout.
func debugTraceback(L *lua.LState) int {
	co, arg := threadArg(L)
	level := 1
	if co != L {
		level = 0
	}
	if f, ok := L.Get(arg + 2).(lua.LNumber); ok {
		level = int(f)
	}
	var b strings.Builder
	switch msg := L.Get(arg + 1).(type) {
	case *lua.LNilType:
		if L.GetTop() > arg {
			L.Push(lua.LNil)
			return 1
		}
	case lua.LString, lua.LNumber:
		text, _ := toText(msg)
		b.WriteString(text)
		b.WriteString("\n")
	default:
		L.Push(msg)
		return 1
	}
	b.WriteString("stack traceback:")
	exists := func(lv int) bool { _, ok := co.GetStack(lv); return ok }
	firstPart := true
	for lv := level; exists(lv); {
		lv++ // as in Lua 5.1's db_errorfb, lv is now one past the level shown
		if lv > tracebackLevels1 && firstPart {
			firstPart = false
			if !exists(lv + tracebackLevels2) {
				lv-- // few levels left: show them all
			} else {
				b.WriteString("\n\t...")
				for exists(lv + tracebackLevels2) {
					lv++
				}
			}
			continue
		}
		fi, ok := frameAt(L, co, lv-1)
		if !ok {
			break
		}
		b.WriteString("\n\t")
		b.WriteString(fi.traceLine())
	}
	L.Push(lua.LString(b.String()))
	return 1
}

// traceLine is one line of a traceback.
func (fi frameInfo) traceLine() string {
	line := fi.shortSrc + ":"
	if fi.currentLine > 0 {
		line += fmt.Sprintf("%d:", fi.currentLine)
	}
	switch {
	case fi.namewhat != "":
		return line + fmt.Sprintf(" in function '%s'", fi.name)
	case fi.what == "main":
		return line + " in main chunk"
	case fi.what == "C":
		return line + " ?"
	}
	return line + fmt.Sprintf(" in function <%s:%d>", fi.shortSrc, fi.lineDefined)
}
