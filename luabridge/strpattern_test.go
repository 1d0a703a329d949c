package luabridge

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/lsgi/lsgi/luabridge/luapattern"
	lua "github.com/yuin/gopher-lua"
)

// newLibState returns a state with the safe standard library as apps get it.
func newLibState(t testing.TB) *lua.LState {
	t.Helper()
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	t.Cleanup(L.Close)
	if err := OpenLibs(L, false); err != nil {
		t.Fatal(err)
	}
	return L
}

// TestPatternFunctionsLikeLua51 runs testdata/patterns.lua in a state and in
// lua5.1 and compares what the two print.
func TestPatternFunctionsLikeLua51(t *testing.T) {
	const script = "testdata/patterns.lua"
	lua51, err := exec.LookPath("lua5.1")
	if err != nil {
		t.Skip("lua5.1 not installed: apt-get install lua5.1")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	want, err := exec.CommandContext(ctx, lua51, "-e", "emit = print", script).CombinedOutput()
	if err != nil {
		t.Fatalf("lua5.1: %v\n%s", err, want)
	}

	L := newLibState(t)
	L.SetContext(ctx)
	var got strings.Builder
	L.SetGlobal("emit", L.NewFunction(func(L *lua.LState) int {
		got.WriteString(L.CheckString(1) + "\n")
		return 0
	}))
	if err := L.DoFile(script); err != nil {
		t.Fatal(err)
	}
	gotLines, wantLines := strings.Split(got.String(), "\n"), strings.Split(string(want), "\n")
	for i := range max(len(gotLines), len(wantLines)) {
		var g, w string
		if i < len(gotLines) {
			g = gotLines[i]
		}
		if i < len(wantLines) {
			w = wantLines[i]
		}
		if g != w {
			t.Errorf("line %d:\n got: %s\nwant: %s", i+1, g, w)
		}
	}
}

// runLua runs src in a fresh library state under ctx and returns the first
// value it returns, as text.
func runLua(t *testing.T, L *lua.LState, ctx context.Context, src string) (string, error) {
	t.Helper()
	L.SetContext(ctx)
	defer L.RemoveContext()
	fn, err := L.LoadString(src)
	if err != nil {
		t.Fatal(err)
	}
	L.Push(fn)
	if err := L.PCall(0, 1, nil); err != nil {
		return "", err
	}
	defer L.Pop(1)
	return L.Get(-1).String(), nil
}

// The budget turns a catastrophic backtracking pattern into a catchable
// error naming the limit; the test is bounded by the budget alone (no
// context deadline is set).
func TestPatternBudget(t *testing.T) {
	tests := []struct {
		desc string
		call string
	}{
		{"find", `string.find(string.rep("a", 350), ".-.-.-b")`},
		{"match", `string.match(string.rep("a", 350), "(.-)(.-)(.-)b")`},
		{"gsub", `string.gsub(string.rep("a", 350), ".-.-.-b", "x")`},
		{"gmatch", `(string.gmatch(string.rep("a", 350), ".-.-.-b"))()`},
		{"method", `(string.rep("a", 350)):gsub("a-a-a-b", "")`},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			L := newLibState(t)
			got, err := runLua(t, L, context.Background(), `
				local ok, err = pcall(function() return `+tt.call+` end)
				assert(not ok, "no error")
				return err .. " | still usable: " .. string.find("abc", "b")`)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"string." + tt.desc, fmt.Sprintf("%d steps", luapattern.DefaultBudget), patternStepsOption, "still usable: 2"} {
				if tt.desc == "method" && want == "string.method" {
					want = "string.gsub"
				}
				if !strings.Contains(got, want) {
					t.Errorf("got %q, want it to contain %q", got, want)
				}
			}
		})
	}
}

func TestPatternStepsOption(t *testing.T) {
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer L.Close()
	if err := OpenLibs(L, false); err != nil {
		t.Fatal(err)
	}
	openPatternFunctions(L, 1000, 0)
	got, err := runLua(t, L, context.Background(), `
		local ok1 = pcall(string.find, string.rep("a", 30), ".-.-.-b")
		local ok2 = pcall(string.find, string.rep("a", 2000), "%d")
		local ok3 = pcall(string.find, string.rep("a", 500), "%d")
		return tostring(ok1) .. tostring(ok2) .. tostring(ok3)`)
	if err != nil || got != "falsefalsetrue" {
		t.Fatalf("got %q, %v; want a budget of 1000 steps", got, err)
	}
}

// The request context reaches inside a long match.
func TestPatternContext(t *testing.T) {
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer L.Close()
	if err := OpenLibs(L, false); err != nil {
		t.Fatal(err)
	}
	openPatternFunctions(L, 1<<62, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := runLua(t, L, ctx, `return string.find(string.rep("a", 350), ".-.-.-b")`)
	if err == nil || !strings.Contains(err.Error(), "deadline exceeded") {
		t.Fatalf("err = %v, want the deadline", err)
	}
}

func TestGsubResultLimit(t *testing.T) {
	tests := []struct {
		desc string
		call string
	}{
		{"template", `string.gsub(string.rep("x", 100), "x", "%0%0%0")`},
		{"template multiplying one match", `string.gsub(string.rep("x", 100), ".+", string.rep("%0", 20))`},
		{"table", `string.gsub(string.rep("x", 100), "x", {x = "yyy"})`},
		{"function", `string.gsub(string.rep("x", 100), "x", function() return "yyy" end)`},
		{"copied text", `string.gsub(string.rep("y", 1000) .. "x", "x", "z")`},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			L := lua.NewState(lua.Options{SkipOpenLibs: true})
			defer L.Close()
			if err := OpenLibs(L, false); err != nil {
				t.Fatal(err)
			}
			openPatternFunctions(L, 0, 250)
			got, err := runLua(t, L, context.Background(), `
				local ok, err = pcall(function() return `+tt.call+` end)
				assert(not ok, "no error")
				return err`)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(got, "string.gsub: result longer than 250 bytes") || !strings.Contains(got, stringBytesOption) {
				t.Errorf("got %q", got)
			}
		})
	}
}

// A replacement function's error keeps its traceback, and the context
// stops a replacement function that loops.
func TestGsubCallback(t *testing.T) {
	L := newLibState(t)
	_, err := runLua(t, L, context.Background(), `
		local function inner() error("boom") end
		return string.gsub("abc", "b", function() inner() end)`)
	var aerr *lua.ApiError
	if !errors.As(err, &aerr) || !strings.Contains(aerr.Error(), "boom") || !strings.Contains(aerr.StackTrace, "inner") {
		t.Fatalf("err = %v, want boom with a traceback through inner", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = runLua(t, newLibState(t), ctx, `return string.gsub("abc", "b", function() while true do end end)`)
	if err == nil || ctx.Err() == nil {
		t.Fatalf("err = %v, want the loop stopped by the deadline", err)
	}
}

// Pattern errors read as Lua 5.1's: with the position of the calling Lua
// code, without one when called straight from pcall.
func TestPatternErrorPosition(t *testing.T) {
	L := newLibState(t)
	got, err := runLua(t, L, context.Background(), `
		local _, direct = pcall(string.find, "a", "%")
		local _, fromLua = pcall(function()
			return string.find("a", "%")
		end)
		return direct .. "|" .. fromLua`)
	if err != nil {
		t.Fatal(err)
	}
	want := `malformed pattern (ends with '%')|<string>:4: malformed pattern (ends with '%')`
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// Every way Lua code reaches the string functions gets these.
func TestPatternFunctionsInstalled(t *testing.T) {
	L := newLibState(t)
	got, err := runLua(t, L, context.Background(), `
		local s = require("string")
		assert(s == string and getmetatable("").__index == string)
		return select("#", string.gmatch("a", "a")) .. " " .. (("THE (quick) fox"):gsub("%f[%a]%a+", "X"))
			.. " " .. tostring(string.gfind == string.gmatch)`)
	if err != nil {
		t.Fatal(err)
	}
	if want := "1 X (X) X true"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// BenchmarkLuaPatterns runs typical string calls over 1 KB subjects in a
// state with gopher-lua's string functions and in one with these.
func BenchmarkLuaPatterns(b *testing.B) {
	const setup = `
		words = string.rep("lorem  ipsum dolor\tsit amet ", 37):sub(1, 1020) .. " 42"
		kv = string.rep("k", 500) .. "=" .. string.rep("v", 523)`
	for _, bench := range []struct{ name, call string }{
		{"find", `string.find(words, "%d+")`},
		{"gsub", `string.gsub(words, "%s+", " ")`},
		{"match", `string.match(kv, "^(%w+)=(%w+)$")`},
		{"gmatch", `for w in string.gmatch(words, "%a+") do end`},
	} {
		for _, impl := range []string{"luapattern", "gopher-lua"} {
			b.Run(bench.name+"/"+impl, func(b *testing.B) {
				L := newLibState(b)
				if impl == "gopher-lua" {
					L = lua.NewState() // gopher-lua's own libraries only
					defer L.Close()
				}
				if err := L.DoString(setup); err != nil {
					b.Fatal(err)
				}
				fn, err := L.LoadString(bench.call)
				if err != nil {
					b.Fatal(err)
				}
				for b.Loop() {
					L.Push(fn)
					if err := L.PCall(0, 0, nil); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// A replacement function that yields gets an error, as in Lua 5.1, instead
// of leaving the coroutine half switched; coroutines of its own still work.
func TestGsubYield(t *testing.T) {
	tests := []struct {
		desc, src, want string
	}{
		{"yield from the replacement function", `
			local co = coroutine.create(function()
				return string.gsub("abc", ".", function(c) coroutine.yield(c) end)
			end)
			local ok, err = coroutine.resume(co)
			return tostring(ok) .. " " .. err:gsub("^.-:%d+: ", "") .. " " .. coroutine.status(co)`,
			"false attempt to yield across metamethod/C-call boundary dead"},
		{"yield from a table's __index", `
			local t = setmetatable({}, {__index = function(_, k) coroutine.yield(k) end})
			local co = coroutine.create(function() return string.gsub("abc", ".", t) end)
			return tostring((coroutine.resume(co)))`,
			"false"},
		{"a coroutine inside the replacement function", `
			local co = coroutine.create(function()
				local r = string.gsub("abc", ".", function(c)
					return coroutine.wrap(function() coroutine.yield(c .. "!") end)()
				end)
				coroutine.yield(r)
			end)
			local _, r = coroutine.resume(co)
			return r .. " " .. string.find("abc", "c")`,
			"a!b!c! 3"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			got, err := runLua(t, newLibState(t), context.Background(), tt.src)
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
