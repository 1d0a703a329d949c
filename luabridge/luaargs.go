package luabridge

// This file checks the arguments of the standard-library functions the
// bridge replaces, with Lua 5.1's coercions (a numeric string is a number,
// a number is a string written "%.14g") and Lua 5.1's error messages
// ("bad argument #1 to 'rep' (number expected, got nil)").

import (
	"fmt"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// funcName names the Go function running now as the error messages of Lua
// 5.1 do: the name it was called by, or "?".
func funcName(L *lua.LState) string {
	dbg, ok := L.GetStack(0)
	if !ok {
		return "?"
	}
	if _, err := L.GetInfo("n", dbg, lua.LNil); err != nil {
		return "?"
	}
	if dbg.Name == "" || strings.HasPrefix(dbg.Name, "<") || strings.Contains(dbg.Name, " ") || dbg.Name == "(anonymous)" {
		return "?"
	}
	return dbg.Name
}

// where returns the position of the Lua code that called the running Go
// function, "file:line:", or "" when a Go function called it (luaL_where
// with level 1).
func where(L *lua.LState) string {
	dbg, ok := L.GetStack(1)
	if !ok {
		return ""
	}
	if _, err := L.GetInfo("Sl", dbg, lua.LNil); err != nil || dbg.What == "G" || dbg.CurrentLine <= 0 {
		return ""
	}
	return fmt.Sprintf("%s:%d:", dbg.Source, dbg.CurrentLine)
}

// raisef raises a Lua error with the caller's position, as luaL_error does.
func raisef(L *lua.LState, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if w := where(L); w != "" {
		msg = w + " " + msg
	}
	L.Error(lua.LString(msg), 0)
}

// argError raises Lua 5.1's "bad argument #n to 'f' (msg)".
func argError(L *lua.LState, n int, msg string) {
	raisef(L, "bad argument #%d to '%s' (%s)", n, funcName(L), msg)
}

// typeName is the type of argument n for messages: "no value" when absent.
func typeName(L *lua.LState, n int) string {
	if n > L.GetTop() {
		return "no value"
	}
	return L.Get(n).Type().String()
}

func typeError(L *lua.LState, n int, expected string) {
	argError(L, n, fmt.Sprintf("%s expected, got %s", expected, typeName(L, n)))
}

// toNumber converts v as lua_tonumber does.
func toNumber(v lua.LValue) (float64, bool) {
	switch v := v.(type) {
	case lua.LNumber:
		return float64(v), true
	case lua.LString:
		return str2number(string(v))
	}
	return 0, false
}

// toText converts v as lua_tolstring does: strings as they are, numbers
// in "%.14g".
func toText(v lua.LValue) (string, bool) {
	switch v := v.(type) {
	case lua.LString:
		return string(v), true
	case lua.LNumber:
		return formatNumber(float64(v)), true
	}
	return "", false
}

// isNoneOrNil reports whether argument n is absent or nil.
func isNoneOrNil(L *lua.LState, n int) bool {
	return n > L.GetTop() || L.Get(n) == lua.LNil
}

func checkNumber(L *lua.LState, n int) float64 {
	f, ok := toNumber(L.Get(n))
	if !ok || n > L.GetTop() {
		typeError(L, n, "number")
	}
	return f
}

func optNumber(L *lua.LState, n int, def float64) float64 {
	if isNoneOrNil(L, n) {
		return def
	}
	return checkNumber(L, n)
}

// checkInteger is luaL_checkinteger: a number cut to a 64-bit integer.
func checkInteger(L *lua.LState, n int) int64 { return toInt64(checkNumber(L, n)) }

func optInteger(L *lua.LState, n int, def int64) int64 {
	if isNoneOrNil(L, n) {
		return def
	}
	return checkInteger(L, n)
}

// checkInt is luaL_checkint: an integer cut to 32 bits.
func checkInt(L *lua.LState, n int) int { return checkintValue(checkNumber(L, n)) }

func optInt(L *lua.LState, n int, def int) int {
	if isNoneOrNil(L, n) {
		return def
	}
	return checkInt(L, n)
}

func checkString(L *lua.LState, n int) string {
	s, ok := toText(L.Get(n))
	if !ok || n > L.GetTop() {
		typeError(L, n, "string")
	}
	return s
}

func optString(L *lua.LState, n int, def string) string {
	if isNoneOrNil(L, n) {
		return def
	}
	return checkString(L, n)
}

func checkTable(L *lua.LState, n int) *lua.LTable {
	t, ok := L.Get(n).(*lua.LTable)
	if !ok {
		typeError(L, n, "table")
	}
	return t
}

func checkAny(L *lua.LState, n int) lua.LValue {
	if n > L.GetTop() {
		argError(L, n, "value expected")
	}
	return L.Get(n)
}
