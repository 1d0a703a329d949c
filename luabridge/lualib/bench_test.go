package lualib

import (
	"bytes"
	"html/template"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// The benchmarks compare the Go-backed toolkit with the pure-Lua way of
// doing the same work in gopher-lua, in the same run. Each variant runs b.N
// times; its time per operation is reported as "<variant>-ns/op" and the
// ratios as "<slow>/<fast>". The default ns/op is the sum of the variants.

// benchName is the value substituted into the page: it needs escaping.
const benchName = "Jörg <admin> & \"co\""

// benchLua holds the pure-Lua variants, after the peers' wsgi.lua and
// wsgi_gsub.lua (shared/peers/go/lua): escaping with string.gsub and a
// table, rendering by gsub over the whole page, or by joining the page
// split once on "{name}".
const benchLua = `
local gsub, find, sub, concat = string.gsub, string.find, string.sub, table.concat
local template = require "lsgi.template"
local html = require "lsgi.html"
local ESC = { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&#34;", ["'"] = "&#39;" }
local function gsub_escape(s) return (gsub(s, "[&<>\"']", ESC)) end
local function split(s, sep)
  local t, i = {}, 1
  while true do
    local j = find(s, sep, i, true)
    if not j then t[#t + 1] = sub(s, i); return t end
    t[#t + 1] = sub(s, i, j - 1)
    i = j + #sep
  end
end
local PARTS = split(PAGE, "{name}")
function render_template(name) return template.render("templates/page.html", { name = name }) end
function render_gsub(name) return (gsub(PAGE, "{name}", (gsub(gsub_escape(name), "%%", "%%%%")))) end
function render_concat(name) return concat(PARTS, gsub_escape(name)) end
function escape_go(s) return html.escape(s) end
function escape_gsub(s) return gsub_escape(s) end
`

// benchState returns a preloaded state with the benchmark functions and
// the page (read from testdata, since the state has no io library).
func benchState(b *testing.B) *lua.LState {
	b.Helper()
	page, err := os.ReadFile("testdata/bench/page.txt")
	if err != nil {
		b.Fatal(err)
	}
	L := newSafeState(b)
	NewShared(Options{FS: os.DirFS("testdata/bench")}).Preload(L)
	L.SetGlobal("PAGE", lua.LString(page))
	if err := L.DoString(benchLua); err != nil {
		b.Fatal(err)
	}
	return L
}

// call runs the global Lua function fn(arg) and returns its result.
func call(b *testing.B, L *lua.LState, fn *lua.LFunction, arg lua.LValue) lua.LValue {
	if err := L.CallByParam(lua.P{Fn: fn, NRet: 1, Protect: true}, arg); err != nil {
		b.Fatal(err)
	}
	v := L.Get(-1)
	L.Pop(1)
	return v
}

// timeVariant runs f b.N times and returns the time per operation in ns.
// It collects garbage first, so that one variant's garbage is not charged
// to the next.
func timeVariant(b *testing.B, f func()) float64 {
	b.StopTimer()
	runtime.GC()
	b.StartTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		f()
	}
	return float64(time.Since(start).Nanoseconds()) / float64(b.N)
}

// BenchmarkPageRender renders the peers' 1 KB page with one escaped name
// substituted five times: through lsgi.template (Go html/template, data from
// a Lua table), with string.gsub over the page, by joining the pre-split
// page in Lua, and with html/template called straight from Go (no Lua).
func BenchmarkPageRender(b *testing.B) {
	L := benchState(b)
	name := lua.LString(benchName)
	tmplFn := L.GetGlobal("render_template").(*lua.LFunction)
	gsubFn := L.GetGlobal("render_gsub").(*lua.LFunction)
	concatFn := L.GetGlobal("render_concat").(*lua.LFunction)
	viaTemplate := call(b, L, tmplFn, name).String()
	if viaGsub := call(b, L, gsubFn, name).String(); viaTemplate != viaGsub {
		b.Fatalf("the variants disagree:\n%s\n---\n%s", viaTemplate, viaGsub)
	}
	src, err := os.ReadFile("testdata/bench/templates/page.html")
	if err != nil {
		b.Fatal(err)
	}
	direct := template.Must(template.New("page").Parse(string(src)))
	var buf bytes.Buffer
	data := map[string]any{"name": benchName}

	b.ReportAllocs()
	b.ResetTimer()
	goNs := timeVariant(b, func() {
		buf.Reset()
		if err := direct.Execute(&buf, data); err != nil {
			b.Fatal(err)
		}
	})
	tmplNs := timeVariant(b, func() { call(b, L, tmplFn, name) })
	concatNs := timeVariant(b, func() { call(b, L, concatFn, name) })
	gsubNs := timeVariant(b, func() { call(b, L, gsubFn, name) })
	b.ReportMetric(tmplNs, "template-ns/op")
	b.ReportMetric(gsubNs, "gsub-ns/op")
	b.ReportMetric(concatNs, "luaconcat-ns/op")
	b.ReportMetric(goNs, "go-direct-ns/op")
	b.ReportMetric(gsubNs/tmplNs, "gsub/template")
	b.ReportMetric(tmplNs/goNs, "template/go-direct")
}

// BenchmarkHTMLEscape escapes a short name and the 1 KB page with
// lsgi.html.escape (Go) and with string.gsub and a table (Lua).
func BenchmarkHTMLEscape(b *testing.B) {
	L := benchState(b)
	goFn := L.GetGlobal("escape_go").(*lua.LFunction)
	gsubFn := L.GetGlobal("escape_gsub").(*lua.LFunction)
	page := lua.LString(strings.Repeat(string(L.GetGlobal("PAGE").(lua.LString)), 1))
	short := lua.LString(benchName)
	for _, in := range []lua.LValue{short, page} {
		if a, c := call(b, L, goFn, in).String(), call(b, L, gsubFn, in).String(); a != c {
			b.Fatalf("the variants disagree on %q", in)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	goShort := timeVariant(b, func() { call(b, L, goFn, short) })
	gsubShort := timeVariant(b, func() { call(b, L, gsubFn, short) })
	goPage := timeVariant(b, func() { call(b, L, goFn, page) })
	gsubPage := timeVariant(b, func() { call(b, L, gsubFn, page) })
	b.ReportMetric(goShort, "go-short-ns/op")
	b.ReportMetric(gsubShort, "gsub-short-ns/op")
	b.ReportMetric(goPage, "go-1KB-ns/op")
	b.ReportMetric(gsubPage, "gsub-1KB-ns/op")
	b.ReportMetric(gsubShort/goShort, "gsub/go-short")
	b.ReportMetric(gsubPage/goPage, "gsub/go-1KB")
}
