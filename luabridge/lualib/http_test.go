package lualib

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lsgi/lsgi/outbound"
	lua "github.com/yuin/gopher-lua"
)

// upstream is a test server for lsgi.http.
type upstream struct {
	*httptest.Server
	hits atomic.Int64
}

func startUpstream(t *testing.T, addr string) *upstream {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s: %v", addr, err)
	}
	u := &upstream{}
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Add("Set-Cookie", "a=1")
		w.Header().Add("Set-Cookie", "b=2")
		w.Header().Add("X-Multi", "x")
		w.Header().Add("X-Multi", "y")
		w.WriteHeader(201)
		fmt.Fprintf(w, "%s %s ua=%s x=%s body=%s", r.Method, r.URL.RequestURI(), r.UserAgent(), strings.Join(r.Header.Values("X-Test"), "+"), body)
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		for i := range 100 {
			fmt.Fprintf(w, "%04d:%s\n", i, strings.Repeat("z", 95))
		}
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(10 * time.Second):
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/hop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
	})
	u.Server = &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.hits.Add(1)
		mux.ServeHTTP(w, r)
	})}}
	u.Start()
	t.Cleanup(u.Close)
	return u
}

// httpState opens a state whose lsgi.http uses a client of cfg, with the
// global URL holding base.
func httpState(t *testing.T, cfg outbound.Config, base string) *lua.LState {
	t.Helper()
	s := &Services{}
	if cfg.Allow != nil {
		c, err := outbound.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		s.HTTP = c
	}
	t.Cleanup(func() { s.Close() })
	L := servicesState(t, s, "client")
	L.SetGlobal("URL", lua.LString(base))
	if err := L.DoString(`http = require "lsgi.http"`); err != nil {
		t.Fatal(err)
	}
	return L
}

func TestHTTPRefusesLoopbackByDefault(t *testing.T) {
	up := startUpstream(t, "127.0.0.1:0")
	L := httpState(t, outbound.Config{}, up.URL)
	msg := luaErr(L, `
		local ok, err = pcall(http.request, URL .. "/echo")
		assert(not ok, "the request went through")
		error(err, 0)`)
	for _, want := range []string{"lsgi.http: GET " + up.URL + "/echo refused: 127.0.0.1 is a loopback address", "--http-allow 127.0.0.1"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if up.hits.Load() != 0 {
		t.Error("the server was reached")
	}
}

func TestHTTPRequest(t *testing.T) {
	up := startUpstream(t, "127.0.0.1:0")
	L := httpState(t, outbound.Config{Allow: []string{"127.0.0.1"}}, up.URL)
	if msg := luaErr(L, `
		local res = http.request{
		  url = URL .. "/echo?q=1", method = "put",
		  headers = { ["X-Test"] = { "a", "b" }, ["User-Agent"] = "notes/1" },
		  body = "payload",
		}
		assert(res.status == 201, res.status)
		assert(res.reason == "Created", res.reason)
		assert(res.body == "PUT /echo?q=1 ua=notes/1 x=a+b body=payload", res.body)
		assert(res.headers["x-multi"] == "x, y", res.headers["x-multi"])
		assert(res.headers["set-cookie"] == "a=1")
		assert(#res.headers_all["set-cookie"] == 2 and res.headers_all["set-cookie"][2] == "b=2")
		assert(res.url == URL .. "/echo?q=1")

		-- A string is a GET; a body alone makes a POST; pairs work as headers.
		assert(http.request(URL .. "/echo").body == "GET /echo ua=lsgi x= body=")
		res = http.request{ url = URL .. "/echo", body = "b", headers = { { "X-Test", "1" }, { "X-Test", "2" } } }
		assert(res.body == "POST /echo ua=lsgi x=1+2 body=b", res.body)

		-- A body read whole can still be read in pieces.
		assert(res:read(4) == "POST")
		assert(res:read():sub(1, 6) == " /echo")
		assert(res:read(1) == nil)
	`); msg != "" {
		t.Fatal(msg)
	}
}

func TestHTTPStreaming(t *testing.T) {
	up := startUpstream(t, "127.0.0.1:0")
	L := httpState(t, outbound.Config{Allow: []string{"127.0.0.1"}, MaxBody: 1000}, up.URL)
	if msg := luaErr(L, `
		-- 10,100 bytes: over the cap read whole, fine streamed.
		local ok, err = pcall(http.request, URL .. "/big")
		assert(not ok and err:find("larger than 1000 bytes", 1, true) and err:find("stream = true", 1, true), err)

		local res = http.request{ url = URL .. "/big", stream = true }
		assert(res.body == nil)
		assert(res:read(5) == "0000:")
		local parts = {}
		for piece in res:iter(300) do
			assert(#piece <= 300)
			parts[#parts + 1] = piece
		end
		local rest = table.concat(parts)
		assert(#rest == 10100 - 5, tostring(#rest))
		assert(rest:sub(-101) == "0099:" .. string.rep("z", 95) .. "\n")
		assert(res:read(10) == nil)
		res:close()

		-- read() of a stream keeps to the cap; max_body lowers it.
		res = http.request{ url = URL .. "/big", stream = true }
		ok, err = pcall(res.read, res)
		assert(not ok and err:find("larger than 1000 bytes", 1, true), err)
		ok, err = pcall(http.request, { url = URL .. "/echo", max_body = 5 })
		assert(not ok and err:find("larger than 5 bytes", 1, true), err)
	`); msg != "" {
		t.Fatal(msg)
	}
}

func TestHTTPRedirects(t *testing.T) {
	target := startUpstream(t, "127.0.0.1:0")
	front := startUpstream(t, "127.0.0.2:0")
	L := httpState(t, outbound.Config{Allow: []string{"127.0.0.2"}}, front.URL)
	L.SetGlobal("TARGET", lua.LString(target.URL))
	if msg := luaErr(L, `
		local ok, err = pcall(http.request, URL .. "/hop?to=" .. TARGET .. "/echo")
		assert(not ok and err:find("127.0.0.1 is not in the allow list", 1, true), err)

		local hop = URL .. "/hop?to=/echo"
		assert(http.request(hop).body:find("^GET /echo"))
		local res = http.request{ url = hop, redirects = 0 }
		assert(res.status == 302 and res.headers.location == "/echo", res.status)
		local chain = URL .. "/hop?to=" .. URL .. "/hop%3Fto%3D/echo"
		ok, err = pcall(http.request, { url = chain, redirects = 1 })
		assert(not ok and err:find("too many redirects", 1, true) and err:find("redirects option", 1, true), err)
	`); msg != "" {
		t.Fatal(msg)
	}
	if target.hits.Load() != 0 {
		t.Error("a redirect reached 127.0.0.1")
	}
}

func TestHTTPDeadline(t *testing.T) {
	up := startUpstream(t, "127.0.0.1:0")
	L := httpState(t, outbound.Config{Allow: []string{"127.0.0.1"}}, up.URL)
	start := time.Now()
	msg := luaErr(L, `
		local ok, err = pcall(http.request, { url = URL .. "/slow", timeout = 0.2 })
		assert(not ok)
		error(err, 0)`)
	if !strings.Contains(msg, "deadline exceeded") || !strings.Contains(msg, "timeout option") {
		t.Errorf("timeout option: %q", msg)
	}
	// The state's context (the request's deadline) bounds it too.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	L.SetContext(ctx)
	msg = luaErr(L, `http.request(URL .. "/slow")`)
	L.RemoveContext()
	if !strings.Contains(msg, "deadline exceeded") {
		t.Errorf("state deadline: %q", msg)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %v", took)
	}
}

func TestHTTPBadOptions(t *testing.T) {
	L := httpState(t, outbound.Config{}, "http://example.com")
	for _, tc := range []struct {
		desc, code, want string
	}{
		{"unknown option", `http.request{ url = URL, header = {} }`, `unknown option header (options: body, headers, max_body, method, redirects, stream, timeout, url)`},
		{"no url", `http.request{ method = "GET" }`, "url is required"},
		{"url of the wrong type", `http.request{ url = 5 }`, "url must be a string, not a number"},
		{"bad timeout", `http.request{ url = URL, timeout = -1 }`, "timeout is a number of seconds above 0"},
		{"bad redirects", `http.request{ url = URL, redirects = 1.5 }`, "redirects must be a whole number of at least 0"},
		{"bad header value", `http.request{ url = URL, headers = { X = true } }`, "header X: a value must be a string"},
		{"not a URL", `http.request("file:///etc/passwd")`, "only absolute http:// and https:// URLs"},
		{"no argument", `http.request()`, "table expected"},
	} {
		if msg := luaErr(L, tc.code); !strings.Contains(msg, tc.want) {
			t.Errorf("%s: %q, want %q", tc.desc, msg, tc.want)
		}
	}
}
