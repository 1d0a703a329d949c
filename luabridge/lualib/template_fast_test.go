package lualib

import (
	"bytes"
	"html/template"
	"math"
	"testing"
	"testing/fstest"

	"github.com/lsgi/lsgi/luabridge"
	lua "github.com/yuin/gopher-lua"
)

// slowRender is html/template's own output for src and data, the
// reference of the fast path.
func slowRender(t *testing.T, L *lua.LState, src string, data lua.LValue) string {
	t.Helper()
	tm, err := template.New("t.html").Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	goData, err := toGo(L, luabridge.Limits{}, data)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := tm.Execute(&b, goData); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// cachedRenders renders src twice through a templateCache (html/template
// the first time, the fast path after, when it applies) and reports
// whether the fast path was taken.
func cachedRenders(t *testing.T, L *lua.LState, src string, data lua.LValue) (first, second string, fast bool) {
	t.Helper()
	fsys := fstest.MapFS{"t.html": {Data: []byte(src)}}
	var c templateCache
	c.init()
	c.reloaded = true
	lim := luabridge.Limits{MaxStringBytes: 1 << 20}
	var err error
	if first, err = c.render(L, fsys, []string{"t.html"}, data, lim); err != nil {
		t.Fatal(err)
	}
	if second, err = c.render(L, fsys, []string{"t.html"}, data, lim); err != nil {
		t.Fatal(err)
	}
	e := c.entries["t.html"]
	return first, second, e.fast != nil
}

func TestFastTemplateMatches(t *testing.T) {
	L := newSafeState(t)
	nasty := "a<b>&'\"+\x00 é \xff\xfe <script>x</script> &amp; {{.}}"
	table := func(kv ...any) lua.LValue {
		tb := L.NewTable()
		for i := 0; i+1 < len(kv); i += 2 {
			var v lua.LValue
			switch x := kv[i+1].(type) {
			case string:
				v = lua.LString(x)
			case float64:
				v = lua.LNumber(x)
			case bool:
				v = lua.LBool(x)
			case lua.LValue:
				v = x
			}
			tb.RawSetString(kv[i].(string), v)
		}
		return tb
	}
	tests := []struct {
		desc     string
		src      string
		data     lua.LValue
		wantFast bool
	}{
		{"text, title and attribute", `<title>{{.s}}</title><p title="{{.s}}">{{.s}}</p>`, table("s", nasty), true},
		{"single-quoted attribute", `<p class='{{.s}}'>x</p>`, table("s", nasty), true},
		{"numbers", `{{.i}} {{.f}} {{.big}} {{.neg}} {{.nan}} {{.inf}} {{.tiny}} {{.e21}}`,
			table("i", 3.0, "f", 0.5, "big", 1e300, "neg", -2.0, "nan", math.NaN(), "inf", math.Inf(-1), "tiny", 1e-7, "e21", 1.5e21), true},
		{"booleans, missing and null", `[{{.t}}][{{.f}}][{{.missing}}][{{.null}}]`,
			table("t", true, "f", false, "null", jsonNullValue(L)), true},
		{"no actions", `plain text`, table(), true},
		{"a URL goes the slow way", `<a href="/x?q={{.s}}">x</a>`, table("s", nasty), false},
		{"an unquoted attribute goes the slow way", `<p data-x={{.s}}>x</p>`, table("s", nasty), false},
		{"a script goes the slow way", `<script>var x = {{.s}};</script>`, table("s", nasty), false},
		{"a condition goes the slow way", `{{if .s}}yes{{end}}`, table("s", "x"), false},
		{"a nested field goes the slow way", `{{.a.b}}`, table("a", table("b", "x")), false},
		{"a pipeline goes the slow way", `{{.s | printf "%q"}}`, table("s", nasty), false},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			want := slowRender(t, L, tt.src, tt.data)
			first, second, fast := cachedRenders(t, L, tt.src, tt.data)
			if first != want || second != want {
				t.Errorf("renders\n%q\n%q\nwant\n%q", first, second, want)
			}
			if fast != tt.wantFast {
				t.Errorf("fast path: %v, want %v", fast, tt.wantFast)
			}
		})
	}
}

// jsonNullValue is lsgi.json's null, as apps pass it.
func jsonNullValue(L *lua.LState) lua.LValue {
	ud := L.NewUserData()
	ud.Value = jsonNull{}
	return ud
}

func TestFastDataRefuses(t *testing.T) {
	L := newSafeState(t)
	tests := []struct {
		desc string
		src  string
	}{
		{"not a table", `return "x"`},
		{"a number key", `return {[1] = "x", a = "y"}`},
		{"a nested table", `return {a = {}}`},
		{"a function", `return {a = print}`},
		{"a metatable", `return setmetatable({a = "x"}, {})`},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			if err := L.DoString(tt.src); err != nil {
				t.Fatal(err)
			}
			v := L.Get(-1)
			L.Pop(1)
			if _, ok := fastData(v, 1000); ok {
				t.Error("fastData accepted it")
			}
		})
	}
	if _, ok := fastData(L.NewTable(), 0); ok {
		t.Error("fastData accepted data past the data-nodes limit")
	}
}

// FuzzFastTemplate holds the fast path's escaping to html/template's for
// any value, in text, RCDATA and attribute contexts.
func FuzzFastTemplate(f *testing.F) {
	for _, seed := range []string{"", "plain", "<>&'\"+\x00", "é\xff", "&amp;&#34;", "{{.}}"} {
		f.Add(seed)
	}
	src := `<title>{{.s}}</title><p title="{{.s}}" class='{{.s}}'>{{.s}}</p>`
	tm := template.Must(template.New("t.html").Parse(src))
	var buf bytes.Buffer
	tm.Execute(&buf, map[string]any{"s": ""})
	fast := compileFast(tm)
	if fast == nil {
		f.Fatal("the fuzzed template has no fast form")
	}
	f.Fuzz(func(t *testing.T, s string) {
		L := lua.NewState(lua.Options{SkipOpenLibs: true})
		defer L.Close()
		data := L.NewTable()
		data.RawSetString("s", lua.LString(s))
		var want bytes.Buffer
		if err := tm.Execute(&want, map[string]any{"s": s}); err != nil {
			t.Fatal(err)
		}
		got := &limitedBuffer{limit: 1 << 30}
		if err := fast.render(got, data); err != nil {
			t.Fatal(err)
		}
		if string(got.buf) != want.String() {
			t.Errorf("fast %q\nwant %q", got.buf, want.String())
		}
	})
}
