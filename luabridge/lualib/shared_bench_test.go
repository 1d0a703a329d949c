package lualib

import (
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// benchSharedLua holds the variants of BenchmarkSharedGetSet: the same get
// and set on a plain Lua table (state-local, what an app had before) and on
// an lsgi.shared dictionary.
const benchSharedLua = `
local d = require("lsgi.shared").bench
local t = {}
d:set("key", "value")
t.key = "value"
function table_get() return t.key end
function table_set(v) t.key = v end
function shared_get() return d:get("key") end
function shared_set(v) d:set("key", v) end
function shared_incr() return d:incr("n", 1, 0) end
function table_incr() t.n = (t.n or 0) + 1 return t.n end
`

// BenchmarkSharedGetSet times one get, one set and one incr from Lua on an
// lsgi.shared dictionary (the memory store) and on a plain Lua table. Each
// variant is a Lua function called from Go, so both pay the same call.
func BenchmarkSharedGetSet(b *testing.B) {
	services := &Services{}
	defer services.Close()
	L := newSafeState(b)
	NewShared(Options{App: "bench", Services: services}).Preload(L)
	if err := L.DoString(benchSharedLua); err != nil {
		b.Fatal(err)
	}
	fn := func(name string) *lua.LFunction { return L.GetGlobal(name).(*lua.LFunction) }
	value := lua.LString("another value")
	if got := call(b, L, fn("shared_get"), lua.LNil); got.String() != "value" {
		b.Fatalf("shared_get = %v", got)
	}
	b.ReportAllocs()
	b.ResetTimer()
	tableGet := timeVariant(b, func() { call(b, L, fn("table_get"), lua.LNil) })
	sharedGet := timeVariant(b, func() { call(b, L, fn("shared_get"), lua.LNil) })
	tableSet := timeVariant(b, func() { call(b, L, fn("table_set"), value) })
	sharedSet := timeVariant(b, func() { call(b, L, fn("shared_set"), value) })
	tableIncr := timeVariant(b, func() { call(b, L, fn("table_incr"), lua.LNil) })
	sharedIncr := timeVariant(b, func() { call(b, L, fn("shared_incr"), lua.LNil) })
	b.ReportMetric(tableGet, "table-get-ns/op")
	b.ReportMetric(sharedGet, "shared-get-ns/op")
	b.ReportMetric(tableSet, "table-set-ns/op")
	b.ReportMetric(sharedSet, "shared-set-ns/op")
	b.ReportMetric(tableIncr, "table-incr-ns/op")
	b.ReportMetric(sharedIncr, "shared-incr-ns/op")
	b.ReportMetric(sharedGet/tableGet, "shared/table-get")
	b.ReportMetric(sharedSet/tableSet, "shared/table-set")
}
