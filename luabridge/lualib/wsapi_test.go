package lualib

import (
	"os"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// TestWSAPIDocsExamples runs the examples of docs/modules/wsapi.md through
// the fake server and checks that they answer what the page says.
func TestWSAPIDocsExamples(t *testing.T) {
	src, err := os.ReadFile("../../docs/modules/wsapi.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := luaBlock.FindAllStringSubmatch(string(src), -1)
	tests := []struct {
		desc   string
		block  int
		script string // the request, as fake.request's options
		want   []string
	}{
		{"greeter, at the mount root", 0, `{ script_name = "/hello", path = "", query = "name=Ann" }`,
			[]string{"200 OK", "Content-Type: text/html", "<h1>Hello, Ann!</h1>\n", "<p>PATH_INFO is /</p>", "<p>SCRIPT_NAME is /hello</p>"}},
		{"greeter, below the root", 0, `{ script_name = "/hello", path = "/a/b" }`,
			[]string{"<h1>Hello, world!</h1>", "<p>PATH_INFO is /a/b</p>"}},
		{"middleware", 1, `{ path = "/x" }`,
			[]string{"200 OK", "X-Powered-By: WSAPI on LSGI", "HELLO FROM /X\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			if tt.block >= len(blocks) {
				t.Fatalf("wsapi.md has %d Lua examples, want at least %d", len(blocks), tt.block+1)
			}
			f := newFixture(t, false)
			L := f.state(t)
			fn, err := L.LoadString(blocks[tt.block][1])
			if err != nil {
				t.Fatal(err)
			}
			if err := L.CallByParam(lua.P{Fn: fn, NRet: 1, Protect: true}); err != nil {
				t.Fatal(err)
			}
			L.SetGlobal("example_app", L.Get(-1))
			L.Pop(1)
			err = L.DoString(`
				local res = require("fake").request(example_app, ` + tt.script + `)
				if res.error ~= nil then error(res.error, 0) end
				local lines = { res.status }
				for _, h in ipairs(res.headers) do lines[#lines + 1] = h[1] .. ": " .. h[2] end
				example_result = table.concat(lines, "\n") .. "\n\n" .. res.body`)
			if err != nil {
				t.Fatal(err)
			}
			got := L.GetGlobal("example_result").String()
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("response lacks %q:\n%s", w, got)
				}
			}
		})
	}
}
