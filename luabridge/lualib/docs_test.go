package lualib

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lsgi/lsgi/outbound"
	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// luaBlock finds the Lua examples of a Markdown page.
var luaBlock = regexp.MustCompile("(?s)```lua\n(.*?)```")

// requestLine finds the requests an example asks to be checked with:
// `-- request: METHOD PATH [-> STATUS [TEXT]]`, TEXT being a part of the
// body. They run in order, a cookie the app sets going with the next ones.
var requestLine = regexp.MustCompile(`(?m)^\s*-- request: ([A-Z]+) (\S+)(?: -> (\d{3})(?: (.*?))?)?\s*$`)

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
// one that returns an app: a GET / through the fake server (or the requests
// the example lists, see requestLine) must not fail because of the example
// itself. The examples run with the fixture's services: LSGI_TEST_* and
// APP_* open to apps, host-wide dictionaries "everyone" and "tiny", and
// testdata/app/config.json.
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
				if strings.Contains(code, ModHTTP) {
					f.services.HTTP = docsHTTPClient(t)
				}
				L := f.state(t)
				// The examples run as a request does, under a deadline
				// (lsgi.sleep waits only under one).
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				L.SetContext(context.WithValue(ctx, DeadlineKey{}, docsDeadline{}))
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
				requests := L.NewTable()
				for _, m := range requestLine.FindAllStringSubmatch(code, -1) {
					r := L.NewTable()
					for i, v := range m[1:] {
						r.RawSetInt(i+1, lua.LString(v))
					}
					requests.Append(r)
				}
				L.SetGlobal("example_requests", requests)
				err = L.DoString(docsRequests)
				if err != nil {
					t.Fatalf("%v\n%s", err, code)
				}
			})
		}
	}
}

// docsDeadline lets the examples move their deadline as a host would,
// within the minute their context allows.
type docsDeadline struct{}

func (docsDeadline) Extend(d time.Duration) time.Time { return time.Now().Add(min(d, time.Minute)) }

// docsRequests serves example_app the requests of example_requests, or a
// GET / when there are none.
const docsRequests = `
local fake = require "fake"
local jar
local function send(method, path)
  local headers = {}
  if jar then headers.Cookie = jar end
  local p, q = path:match("^([^?]*)%??(.*)$")
  local res = fake.request(example_app, { method = method, path = p, query = q, headers = headers,
    body = method == "POST" and "" or nil, content_type = method == "POST" and "application/x-www-form-urlencoded" or nil })
  local set = res:header("Set-Cookie")
  if set then jar = set:match("^([^;]*)") end
  return res
end
if #example_requests == 0 then
  local res = send("GET", "/")
  if res.error ~= nil then
    local msg = tostring(res.error):gsub("^[^:]*:%d+: ", "")
    if not example_code:find(msg, 1, true) then
      error("serving the example failed: " .. tostring(res.error))
    end
  elseif res.code >= 500 and not example_code:find("error(", 1, true) then
    error("serving the example gave " .. res.status .. ": " .. res.body)
  end
end
for _, r in ipairs(example_requests) do
  local method, path, status, text = r[1], r[2], r[3], r[4]
  local res = send(method, path)
  if res.error ~= nil then error(method .. " " .. path .. " failed: " .. tostring(res.error)) end
  if status ~= "" and res.code ~= tonumber(status) then
    error(method .. " " .. path .. " gave " .. res.status .. " (" .. res.body .. "), not " .. status)
  end
  if text ~= "" and not res.body:find(text, 1, true) then
    error(method .. " " .. path .. " gave " .. res.body .. ", without " .. text)
  end
end`

// docsHTTPClient returns the client the examples of lsgi.http run with: it
// maps api.example.com to a local HTTPS server that answers what the
// examples ask, and keeps the default destination policy for the rest.
func docsHTTPClient(t *testing.T) *outbound.Client {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/1", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":1,"name":"Ann"}`)
	})
	mux.HandleFunc("GET /export.csv", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/csv")
		for i := range 1000 {
			fmt.Fprintf(w, "%d,row %d\n", i, i)
		}
	})
	mux.HandleFunc("POST /hooks", func(w http.ResponseWriter, r *http.Request) {
		var v map[string]any
		if r.Header.Get("Content-Type") != "application/json" || json.NewDecoder(r.Body).Decode(&v) != nil {
			http.Error(w, "expected JSON", http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	c, err := outbound.New(outbound.Config{
		Allow:   []string{"*", srv.Listener.Addr().(*net.TCPAddr).IP.String()},
		RootCAs: roots,
		Hosts:   map[string]string{"api.example.com:443": srv.Listener.Addr().String()},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
