package lualib

// This file implements lsgi.http (docs/modules/http.md): outbound HTTP
// requests through package outbound, which keeps them to the host's
// destination policy and caps.

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/lsgi/lsgi/outbound"
	lua "github.com/yuin/gopher-lua"
)

// httpOptions are the fields request{...} accepts.
var httpOptions = []string{"body", "headers", "max_body", "method", "redirects", "stream", "timeout", "url"}

// httpChunk is what res:iter() reads at a time by default.
const httpChunk = 32 << 10

func (s *Shared) openHTTP(L *lua.LState) int {
	mod := newModule(L, map[string]lua.LGFunction{"request": s.httpRequest})
	L.Push(mod)
	return 1
}

// httpRequest: request(url) or request{url=, method=, headers=, body=,
// timeout=, max_body=, redirects=, stream=} -> response table.
func (s *Shared) httpRequest(L *lua.LState) int {
	req := httpRequestFrom(L)
	client, err := s.services.httpClient()
	if err != nil {
		L.RaiseError("lsgi.http: %s", err.Error())
	}
	ctx := L.Context()
	if ctx == nil {
		ctx = context.Background() // the client's timeout still bounds it
	}
	res, err := client.Do(ctx, req)
	if err != nil {
		L.RaiseError("lsgi.http: %s", httpMessage(err, client))
	}
	L.Push(httpResponse(L, res, client))
	return 1
}

// httpRequestFrom reads the request from argument 1.
func httpRequestFrom(L *lua.LState) *outbound.Request {
	if u, ok := L.Get(1).(lua.LString); ok {
		return &outbound.Request{URL: string(u)}
	}
	opts := L.CheckTable(1)
	req := &outbound.Request{}
	opts.ForEach(func(k, v lua.LValue) {
		name, _ := k.(lua.LString)
		if !slices.Contains(httpOptions, string(name)) {
			L.ArgError(1, "unknown option "+k.String()+" (options: "+strings.Join(httpOptions, ", ")+")")
		}
	})
	u, ok := optField(L, opts, "url", lua.LTString).(lua.LString)
	if !ok || u == "" {
		L.ArgError(1, "url is required")
	}
	req.URL = string(u)
	if m := optField(L, opts, "method", lua.LTString); m != lua.LNil {
		req.Method = strings.ToUpper(m.String())
	}
	if b := optField(L, opts, "body", lua.LTString); b != lua.LNil {
		req.Body = []byte(b.(lua.LString))
		if req.Method == "" {
			req.Method = http.MethodPost
		}
	}
	if h := optField(L, opts, "headers", lua.LTTable); h != lua.LNil {
		req.Header = httpHeaders(L, h.(*lua.LTable))
	}
	if t := optField(L, opts, "timeout", lua.LTNumber); t != lua.LNil {
		sec := float64(t.(lua.LNumber))
		if !(sec > 0) || sec > 24*3600 {
			L.ArgError(1, "timeout is a number of seconds above 0")
		}
		req.Timeout = time.Duration(sec * float64(time.Second))
	}
	if n := optField(L, opts, "max_body", lua.LTNumber); n != lua.LNil {
		req.MaxBody = int64(positiveInt(L, "max_body", n, 1))
	}
	if n := optField(L, opts, "redirects", lua.LTNumber); n != lua.LNil {
		req.MaxRedirects = positiveInt(L, "redirects", n, 0)
		if req.MaxRedirects == 0 {
			req.MaxRedirects = -1 // none
		}
	}
	if st := optField(L, opts, "stream", lua.LTBool); st != lua.LNil {
		req.Stream = bool(st.(lua.LBool))
	}
	return req
}

// optField returns opts[name], raising unless it is nil or of type want.
func optField(L *lua.LState, opts *lua.LTable, name string, want lua.LValueType) lua.LValue {
	v := opts.RawGetString(name)
	if v != lua.LNil && v.Type() != want {
		L.ArgError(1, name+" must be a "+want.String()+", not a "+v.Type().String())
	}
	return v
}

// positiveInt checks that v is a whole number of at least least.
func positiveInt(L *lua.LState, name string, v lua.LValue, least int) int {
	f := float64(v.(lua.LNumber))
	if f != math.Trunc(f) || f < float64(least) || f > 1<<40 {
		L.ArgError(1, name+" must be a whole number of at least "+itoa(int64(least)))
	}
	return int(f)
}

// httpHeaders reads request headers: a map {name = value or {values}} or
// an array of {name, value} pairs, as start_response takes them.
func httpHeaders(L *lua.LState, t *lua.LTable) http.Header {
	h := http.Header{}
	add := func(name, value lua.LValue) {
		n, ok := name.(lua.LString)
		if !ok {
			L.ArgError(1, "a header name must be a string")
		}
		switch v := value.(type) {
		case lua.LString, lua.LNumber:
			h.Add(string(n), v.String())
		case *lua.LTable:
			for i := 1; i <= v.Len(); i++ {
				h.Add(string(n), v.RawGetInt(i).String())
			}
		default:
			L.ArgError(1, "header "+string(n)+": a value must be a string, a number or an array of them")
		}
	}
	t.ForEach(func(k, v lua.LValue) {
		if _, ok := k.(lua.LNumber); ok {
			pair, ok := v.(*lua.LTable)
			if !ok {
				L.ArgError(1, "headers: an array item must be a {name, value} pair")
			}
			add(pair.RawGetInt(1), pair.RawGetInt(2))
			return
		}
		add(k, v)
	})
	return h
}

// httpResponse builds the response table: status, reason, url, headers
// (lower-case names; repeats joined with ", ", except set-cookie, which
// keeps the first), headers_all (every value, in arrays), body (unless
// streamed), and the methods read, iter and close.
func httpResponse(L *lua.LState, res *outbound.Response, client *outbound.Client) *lua.LTable {
	t := L.CreateTable(0, 8)
	t.RawSetString("status", lua.LNumber(res.Status))
	t.RawSetString("reason", lua.LString(res.Reason))
	t.RawSetString("url", lua.LString(res.URL))
	headers, all := L.CreateTable(0, len(res.Header)), L.CreateTable(0, len(res.Header))
	names := make([]string, 0, len(res.Header))
	for name := range res.Header {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		values := res.Header[name]
		key := strings.ToLower(name)
		list := L.CreateTable(len(values), 0)
		for _, v := range values {
			list.Append(lua.LString(v))
		}
		all.RawSetString(key, list)
		if key == "set-cookie" {
			headers.RawSetString(key, lua.LString(values[0]))
		} else {
			headers.RawSetString(key, lua.LString(strings.Join(values, ", ")))
		}
	}
	t.RawSetString("headers", headers)
	t.RawSetString("headers_all", all)
	var body io.Reader = res
	if res.Body != nil {
		t.RawSetString("body", lua.LString(res.Body))
		body = bytes.NewReader(res.Body)
	}
	b := &httpBody{res: res, r: body, client: client}
	methods := L.SetFuncs(L.CreateTable(0, 3), map[string]lua.LGFunction{
		"read":  b.read,
		"iter":  b.iter,
		"close": b.close,
	})
	mt := L.CreateTable(0, 1)
	mt.RawSetString("__index", methods)
	t.Metatable = mt
	return t
}

// httpBody is the body of one response, read from Lua.
type httpBody struct {
	res    *outbound.Response
	r      io.Reader // the stream, or the body read whole
	client *outbound.Client
	done   bool
}

// read: res:read(n) -> a string of at most n bytes, nil at the end;
// res:read() -> the rest ("" at the end), within max_body.
func (b *httpBody) read(L *lua.LState) int {
	if L.Get(2) == lua.LNil {
		if b.done {
			L.Push(lua.LString(""))
			return 1
		}
		rest, err := readRest(b.r, b.res)
		b.finish()
		if err != nil {
			L.RaiseError("lsgi.http: %s", httpMessage(err, b.client))
		}
		L.Push(lua.LString(rest))
		return 1
	}
	n := L.CheckInt(2)
	if n <= 0 {
		L.ArgError(2, "read(n) needs n > 0")
	}
	return b.next(L, n)
}

// next reads up to n bytes; it pushes nil at the end.
func (b *httpBody) next(L *lua.LState, n int) int {
	if b.done {
		L.Push(lua.LNil)
		return 1
	}
	buf := make([]byte, n)
	for {
		k, err := b.r.Read(buf)
		if k > 0 {
			L.Push(lua.LString(buf[:k]))
			return 1
		}
		if err == io.EOF {
			b.finish()
			L.Push(lua.LNil)
			return 1
		}
		if err != nil {
			b.finish()
			L.RaiseError("lsgi.http: %s", httpMessage(err, b.client))
		}
	}
}

// iter: res:iter([n]) -> a function giving the next piece of at most n
// bytes on each call, and nil at the end, when it closes the body. The
// function is a valid LSGI body.
func (b *httpBody) iter(L *lua.LState) int {
	n := L.OptInt(2, httpChunk)
	if n <= 0 {
		L.ArgError(2, "iter(n) needs n > 0")
	}
	L.Push(L.NewFunction(func(L *lua.LState) int { return b.next(L, n) }))
	return 1
}

// close: res:close() releases the connection of a streamed body.
func (b *httpBody) close(L *lua.LState) int {
	b.finish()
	return 0
}

func (b *httpBody) finish() {
	b.done = true
	b.res.Close()
}

// readRest reads what is left of a body: from the stream within its cap,
// or the rest of a body read whole.
func readRest(r io.Reader, res *outbound.Response) ([]byte, error) {
	if br, ok := r.(*bytes.Reader); ok {
		return io.ReadAll(br)
	}
	return res.ReadAll()
}

// httpMessage turns an error of package outbound into the text of a Lua
// error, naming the option or flag behind a refusal or a cap.
func httpMessage(err error, c *outbound.Client) string {
	var (
		req     *outbound.RequestError
		refused *outbound.RefusedError
		lim     *outbound.LimitError
	)
	what := ""
	if errors.As(err, &req) {
		what = req.Method + " " + req.URL + ": "
	}
	switch {
	case errors.As(err, &refused) && refused.Addr == "":
		return strings.TrimSuffix(what, ": ") + " refused: " + refused.Host + " is " + refused.Reason + " (the host's --http-allow list)"
	case errors.As(err, &refused):
		return strings.TrimSuffix(what, ": ") + " refused: " + refused.Addr + " is " + refused.Reason +
			"; an operator can allow it with --http-allow " + refused.Addr
	case errors.As(err, &lim):
		return what + "the response body is larger than " + itoa(lim.Limit) + " bytes (the max_body option, at most " +
			itoa(c.MaxBody()) + ": --http-max-body); stream = true reads it in pieces"
	case errors.Is(err, outbound.ErrTooManyRedirects):
		return what + "too many redirects (the redirects option)"
	case errors.Is(err, context.DeadlineExceeded):
		return what + "context deadline exceeded (the timeout option, or the request's deadline)"
	}
	if req != nil {
		return what + strings.TrimPrefix(req.Err.Error(), "outbound: ")
	}
	return strings.TrimPrefix(err.Error(), "outbound: ")
}
