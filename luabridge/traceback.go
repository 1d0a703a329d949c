package luabridge

import (
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// Lua 5.1 shows the first 12 and the last 10 levels of a long traceback
// (ldblib.c LEVELS1, LEVELS2).
const (
	tracebackHead = 12
	tracebackTail = 10
)

// traceback formats L's call stack from level (0 being the running
// function) the way Lua 5.1's debug.traceback does, with "[G]" for Go
// functions as gopher-lua writes them.
func traceback(L *lua.LState, level int) string {
	var lines []string
	for ; ; level++ {
		dbg, ok := L.GetStack(level)
		if !ok {
			break
		}
		if _, err := L.GetInfo("Sln", dbg, lua.LNil); err != nil {
			break
		}
		lines = append(lines, "\t"+frameLine(dbg))
		if dbg.What == "tail" {
			lines = append(lines, "\t(tail call): ?")
		}
	}
	lines = append(lines, "\t[G]: ?")
	if len(lines) > tracebackHead+tracebackTail {
		tail := lines[len(lines)-tracebackTail:]
		lines = append(append(lines[:tracebackHead], "\t..."), tail...)
	}
	return "stack traceback:\n" + strings.Join(lines, "\n")
}

// frameLine describes one stack level: "file:line: in function 'name'".
func frameLine(dbg *lua.Debug) string {
	var b strings.Builder
	if dbg.What == "G" {
		b.WriteString("[G]:")
	} else {
		b.WriteString(dbg.Source)
		b.WriteString(":")
		if dbg.CurrentLine > 0 {
			b.WriteString(strconv.Itoa(dbg.CurrentLine))
			b.WriteString(":")
		}
	}
	switch {
	case dbg.What == "main":
		b.WriteString(" in main chunk")
	case dbg.Name != "" && dbg.Name != "?":
		b.WriteString(" in function '" + dbg.Name + "'")
	case dbg.What == "G":
		b.WriteString(" ?")
	default:
		b.WriteString(" in function <" + dbg.Source + ":" + strconv.Itoa(dbg.LineDefined) + ">")
	}
	return b.String()
}
