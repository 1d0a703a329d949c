package luabridge

import (
	"fmt"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// benchState returns a state with the bridge's libraries, or gopher-lua's
// own when raw is set, and the function fn compiled from src.
func benchState(b *testing.B, raw bool, src string) (*lua.LState, *lua.LFunction) {
	b.Helper()
	L := lua.NewState(lua.Options{SkipOpenLibs: !raw})
	if !raw {
		if err := OpenLibs(L, false); err != nil {
			b.Fatal(err)
		}
	}
	b.Cleanup(L.Close)
	if err := L.DoString(src); err != nil {
		b.Fatal(err)
	}
	return L, L.GetGlobal("run").(*lua.LFunction)
}

// BenchmarkPCall measures one pcall from Lua, which succeeds or catches an
// error, with the bridge's pcall and with gopher-lua's.
func BenchmarkPCall(b *testing.B) {
	const src = `
		local function ok(a) return a end
		local function fail() error("x", 0) end
		local pcall = pcall
		function run(n, f) f = f == "fail" and fail or ok for i = 1, n do pcall(f, i) end end`
	for _, c := range []struct {
		name string
		raw  bool
		arg  string
	}{
		{"bridge/ok", false, "ok"}, {"gopher/ok", true, "ok"},
		{"bridge/error", false, "fail"}, {"gopher/error", true, "fail"},
	} {
		b.Run(c.name, func(b *testing.B) {
			L, run := benchState(b, c.raw, src)
			b.ResetTimer()
			if err := L.CallByParam(lua.P{Fn: run, Protect: true}, lua.LNumber(b.N), lua.LString(c.arg)); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// BenchmarkMultipleAssignment measures the swap `a, b = b, a`, rewritten
// through fresh locals, against the same moves written out by hand.
func BenchmarkMultipleAssignment(b *testing.B) {
	for _, c := range []struct{ name, body string }{
		{"rewritten", "a, b = b, a"},
		{"by hand", "local t = a; a = b; b = t"},
	} {
		b.Run(c.name, func(b *testing.B) {
			L, run := benchState(b, false, "function run(n) local a, b = 1, 2 for i = 1, n do "+c.body+" end return a end")
			b.ResetTimer()
			if err := L.CallByParam(lua.P{Fn: run, Protect: true}, lua.LNumber(b.N)); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// largeSource is about 200 KB of ordinary Lua: functions with locals,
// loops, tables and multiple assignments.
func largeSource() []byte {
	var s strings.Builder
	s.WriteString("local M = {}\n")
	for i := 0; s.Len() < 200<<10; i++ {
		fmt.Fprintf(&s, `
function M.f%d(t, n)
  local a, b, sum = 0, 1, 0
  for i = 1, n do
    a, b = b, a + b
    if t[i] and t[i].x then sum = sum + t[i].x * 2 - a %% 7 else sum = sum - 1 end
  end
  local r = {name = "f%d", value = sum, list = {1, 2, 3, "x", true}}
  return r.value, #r.list, r.name .. tostring(a)
end
`, i, i)
	}
	s.WriteString("return M\n")
	return []byte(s.String())
}

// BenchmarkCompileLarge measures compiling a large file through Compile
// (limits, scan, parse, rewrite, compile) and through gopher-lua alone.
func BenchmarkCompileLarge(b *testing.B) {
	src := largeSource()
	b.Run("bridge", func(b *testing.B) {
		b.SetBytes(int64(len(src)))
		for b.Loop() {
			if _, err := Compile("large.lua", src); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("gopher", func(b *testing.B) {
		b.SetBytes(int64(len(src)))
		for b.Loop() {
			tree, err := parse.Parse(strings.NewReader(string(src)), "large.lua")
			if err != nil {
				b.Fatal(err)
			}
			if _, err := lua.Compile(tree, "large.lua"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("scan only", func(b *testing.B) {
		b.SetBytes(int64(len(src)))
		lim := Limits{}.WithDefaults()
		for b.Loop() {
			if _, err := scanDepth(src, lim); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkYield measures a coroutine.wrap generator, whose yields go
// through the bridge's checks.
func BenchmarkYield(b *testing.B) {
	const src = `function run(n)
		local gen = coroutine.wrap(function() for i = 1, n do coroutine.yield(i) end end)
		for i = 1, n do gen() end
	end`
	for _, c := range []struct {
		name string
		raw  bool
	}{{"bridge", false}, {"gopher", true}} {
		b.Run(c.name, func(b *testing.B) {
			L, run := benchState(b, c.raw, src)
			b.ResetTimer()
			if err := L.CallByParam(lua.P{Fn: run, Protect: true}, lua.LNumber(b.N)); err != nil {
				b.Fatal(err)
			}
		})
	}
}
