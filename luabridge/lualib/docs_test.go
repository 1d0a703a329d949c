package lualib

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// luaBlock finds the Lua examples of a Markdown page.
var luaBlock = regexp.MustCompile("(?s)```lua\n(.*?)```")

// docsPrelude defines the names the examples take for granted: an app to
// wrap, and the seed's hello and world apps.
const docsPrelude = `
local function text(s)
  return function(environ, start_response)
    start_response("200 OK", { { "Content-Type", "text/plain" } })
    return { s }
  end
end
app, hello, world = text("app"), text("Hello"), text("World!")
`

// TestDocsExamples compiles every Lua example of docs/modules and runs each
// one that returns an app: a GET / through the fake server must not fail
// because of the example itself.
func TestDocsExamples(t *testing.T) {
	pages, err := filepath.Glob("../../docs/modules/*.md")
	if err != nil || len(pages) == 0 {
		t.Fatalf("no module pages found: %v", err)
	}
	for _, page := range pages {
		src, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for i, m := range luaBlock.FindAllStringSubmatch(string(src), -1) {
			code := m[1]
			name := filepath.Base(page) + "#" + string(rune('1'+i))
			t.Run(name, func(t *testing.T) {
				if _, err := parse.Parse(strings.NewReader(code), name); err != nil {
					t.Fatalf("does not compile: %v\n%s", err, code)
				}
				f := newFixture(t, false)
				L := f.state(t)
				if err := L.DoString(docsPrelude); err != nil {
					t.Fatal(err)
				}
				fn, err := L.LoadString(code)
				if err != nil {
					t.Fatal(err)
				}
				if err := L.CallByParam(lua.P{Fn: fn, NRet: 1, Protect: true}); err != nil {
					if strings.Contains(err.Error(), "in function 'abort'") {
						return // an example of abort()
					}
					t.Fatalf("runs with an error: %v\n%s", err, code)
				}
				result := L.Get(-1)
				L.Pop(1)
				if result == lua.LNil {
					return // a fragment, not an app
				}
				L.SetGlobal("example_app", result)
				// An error is fine when the example shows it in a comment.
				L.SetGlobal("example_code", lua.LString(code))
				err = L.DoString(`
					local fake = require "fake"
					local res = fake.request(example_app, { path = "/" })
					if res.error ~= nil then
						local msg = tostring(res.error):gsub("^[^:]*:%d+: ", "")
						if not example_code:find(msg, 1, true) then
							error("serving the example failed: " .. tostring(res.error))
						end
					elseif res.code >= 500 and not example_code:find("error(", 1, true) then
						error("serving the example gave " .. res.status .. ": " .. res.body)
					end`)
				if err != nil {
					t.Fatalf("%v\n%s", err, code)
				}
			})
		}
	}
}
