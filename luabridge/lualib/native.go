package lualib

// This file implements lsgi._native, the private Go helpers of the Lua
// modules: a pcall that keeps the traceback, logging, safe tostring,
// multipart parsing, gzip streams, the static file server and the HTTP
// syntax rules. Apps should
// not require it; its API may change.

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"slices"
	"strings"
	"sync"

	"github.com/lsgi/lsgi/luabridge"
	lua "github.com/yuin/gopher-lua"

	"github.com/lsgi/lsgi/httpsyntax"
)

func (s *Shared) openNative(L *lua.LState) int {
	mod := newModule(L, map[string]lua.LGFunction{
		"pcall":           nativePCall,
		"log":             s.nativeLog,
		"tostring":        nativeToString,
		"parse_multipart": nativeParseMultipart,
		"gzip":            nativeGzip,
		"static":          s.nativeStatic,
		"dev_page":        s.nativeDevPage,
		// The HTTP rules lsgi.validator checks, from the one place they
		// are written (package httpsyntax).
		"is_token":           nativePredicate(httpsyntax.IsToken),
		"is_field_value":     nativePredicate(httpsyntax.IsFieldValue),
		"is_hop_by_hop":      nativePredicate(httpsyntax.IsHopByHop),
		"is_reserved_header": nativePredicate(httpsyntax.IsReserved),
		"is_decimal":         nativePredicate(httpsyntax.IsDecimal),
		"check_status":       nativeCheckStatus,
	})
	mod.RawSetString("dev", lua.LBool(s.dev))
	L.Push(mod)
	return 1
}

// nativePredicate makes a Lua function of a string predicate: f(s) -> bool,
// false for a value that is not a string.
func nativePredicate(pred func(string) bool) lua.LGFunction {
	return func(L *lua.LState) int {
		s, ok := L.Get(1).(lua.LString)
		L.Push(lua.LBool(ok && pred(string(s))))
		return 1
	}
}

// nativeCheckStatus: check_status(s) -> nil | message. The message says
// what makes s no LSGI status (docs/SPEC.md 6); s must be a string.
func nativeCheckStatus(L *lua.LState) int {
	if _, _, err := httpsyntax.ParseStatus(L.CheckString(1)); err != nil {
		L.Push(lua.LString(err.Error()))
		return 1
	}
	L.Push(lua.LNil)
	return 1
}

// nativePCall: pcall(f, ...) -> true, results... | false, err, traceback.
// Unlike the base library's pcall it returns the Lua traceback of the
// error. An error caused by the state's context being done (a timeout or
// a disconnect) is not caught: it is raised again, so that the host sees it.
func nativePCall(L *lua.LState) int {
	top := L.GetTop()
	if top < 1 {
		L.ArgError(1, "value expected")
	}
	L.Push(L.Get(1))
	for i := 2; i <= top; i++ {
		L.Push(L.Get(i))
	}
	err := luabridge.PCall(L, top-1, lua.MultRet, nil)
	if err != nil {
		if ctx := L.Context(); ctx != nil && ctx.Err() != nil {
			panic(err)
		}
		obj := lua.LValue(lua.LString(err.Error()))
		trace := ""
		if ae, ok := err.(*lua.ApiError); ok {
			obj, trace = ae.Object, ae.StackTrace
		}
		L.Push(lua.LFalse)
		L.Push(obj)
		L.Push(lua.LString(trace))
		return 3
	}
	n := L.GetTop() - top
	L.Insert(lua.LTrue, top+1)
	return n + 1
}

// toStringLimit bounds the text of an error value (a megabyte-long message
// must not flood the log or the page).
const toStringLimit = 16 << 10

// safeToString converts v to text as tostring does, but a __tostring
// metamethod that raises gives a placeholder instead of an error, and
// long text is cut.
func safeToString(L *lua.LState, v lua.LValue) string {
	var s string
	if mf := L.GetMetaField(v, "__tostring"); mf != lua.LNil {
		L.Push(mf)
		L.Push(v)
		if err := luabridge.PCall(L, 1, 1, nil); err != nil {
			s = "(" + v.Type().String() + " error value; its __tostring failed)"
		} else {
			r := L.Get(-1)
			L.Pop(1)
			if str, ok := r.(lua.LString); ok {
				s = string(str)
			} else {
				s = "(" + v.Type().String() + " error value; its __tostring returned a " + r.Type().String() + ")"
			}
		}
	} else {
		s = v.String()
	}
	if len(s) > toStringLimit {
		s = s[:toStringLimit] + "...(truncated)"
	}
	return s
}

func nativeToString(L *lua.LState) int {
	L.Push(lua.LString(safeToString(L, L.Get(1))))
	return 1
}

// nativeLog: log(level, msg [, fields]) writes to the app's logger. level
// is "debug", "info", "warn" or "error"; fields is a table of strings.
func (s *Shared) nativeLog(L *lua.LState) int {
	var level slog.Level
	switch lv := checkLString(L, 1); lv {
	case "debug":
		level = slog.LevelDebug
	case "info":
		level = slog.LevelInfo
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	default:
		L.ArgError(1, "level must be debug, info, warn or error")
	}
	msg := checkLString(L, 2)
	var attrs []any
	if t := L.OptTable(3, nil); t != nil {
		t.ForEach(func(k, v lua.LValue) {
			attrs = append(attrs, slog.String(safeToString(L, k), safeToString(L, v)))
		})
		// Lua tables have no order; logs should read the same every time.
		slices.SortFunc(attrs, func(a, b any) int { return strings.Compare(a.(slog.Attr).Key, b.(slog.Attr).Key) })
	}
	ctx := L.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	s.logger.Log(ctx, level, msg, attrs...)
	return 0
}

// maxMultipartParts bounds the number of parts of one multipart body.
const maxMultipartParts = 1000

// nativeParseMultipart: parse_multipart(body, content_type [, max_parts])
// -> form, form_all, files, files_all; or nil, message when the body is
// not a well-formed multipart/form-data body.
//
// A file is a table {filename, content_type, size, data, headers}; its
// filename is the base name the client sent (no directories).
func nativeParseMultipart(L *lua.LState) int {
	body := checkLString(L, 1)
	ctype := checkLString(L, 2)
	maxParts := L.OptInt(3, maxMultipartParts)
	fail := func(msg string) int {
		L.Push(lua.LNil)
		L.Push(lua.LString(msg))
		return 2
	}
	mediatype, params, err := mime.ParseMediaType(ctype)
	if err != nil || mediatype != "multipart/form-data" {
		return fail("not a multipart/form-data content type")
	}
	boundary := params["boundary"]
	if boundary == "" {
		return fail("multipart/form-data without a boundary")
	}
	type field struct{ name, value string }
	type file struct {
		name, filename, ctype, data string
		headers                     map[string]string
	}
	var fields []field
	var files []file
	r := multipart.NewReader(strings.NewReader(body), boundary)
	for n := 0; ; n++ {
		part, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fail("malformed multipart body: " + err.Error())
		}
		if n >= maxParts {
			return fail("too many parts in the multipart body")
		}
		data, err := io.ReadAll(part)
		if err != nil {
			return fail("malformed multipart body: " + err.Error())
		}
		name := part.FormName()
		if name == "" {
			continue
		}
		if part.FileName() == "" && !strings.Contains(part.Header.Get("Content-Disposition"), "filename") {
			fields = append(fields, field{name, string(data)})
			continue
		}
		h := map[string]string{}
		for k, v := range part.Header {
			h[strings.ToLower(k)] = strings.Join(v, ", ")
		}
		files = append(files, file{name: name, filename: baseName(part.FileName()), ctype: part.Header.Get("Content-Type"), data: string(data), headers: h})
	}
	pushMulti(L, len(fields), func(add func(string, string)) {
		for _, f := range fields {
			add(f.name, f.value)
		}
	})
	filesFirst, filesAll := L.NewTable(), L.NewTable()
	for _, f := range files {
		t := L.CreateTable(0, 6)
		t.RawSetString("name", lua.LString(f.name))
		t.RawSetString("filename", lua.LString(f.filename))
		t.RawSetString("content_type", lua.LString(f.ctype))
		t.RawSetString("size", lua.LNumber(len(f.data)))
		t.RawSetString("data", lua.LString(f.data))
		ht := L.CreateTable(0, len(f.headers))
		for k, v := range f.headers {
			ht.RawSetString(k, lua.LString(v))
		}
		t.RawSetString("headers", ht)
		k := lua.LString(f.name)
		list, ok := filesAll.RawGetH(k).(*lua.LTable)
		if !ok {
			list = L.NewTable()
			filesAll.RawSetH(k, list)
			filesFirst.RawSetH(k, t)
		}
		list.Append(t)
	}
	L.Push(filesFirst)
	L.Push(filesAll)
	return 4
}

// gzipPools recycles gzip writers per compression level (1 to 9).
var gzipPools [10]sync.Pool

// gzipStream compresses a response body chunk by chunk: each chunk is
// flushed so that streaming responses stay streaming.
type gzipStream struct {
	buf   bytes.Buffer
	w     *gzip.Writer
	level int
}

const gzipTypeName = "lsgi.gzip"

// nativeGzip: gzip([level]) -> stream with :write(s) -> compressed bytes,
// :finish() -> the last bytes, and :close() to drop it unfinished.
func nativeGzip(L *lua.LState) int {
	level := L.OptInt(1, 6)
	if level < 1 || level > 9 {
		L.ArgError(1, "gzip level must be from 1 to 9")
	}
	g := &gzipStream{level: level}
	if w, ok := gzipPools[level].Get().(*gzip.Writer); ok {
		w.Reset(&g.buf)
		g.w = w
	} else {
		w, err := gzip.NewWriterLevel(&g.buf, level)
		if err != nil {
			L.RaiseError("gzip: %s", err.Error())
		}
		g.w = w
	}
	ud := L.NewUserData()
	ud.Value = g
	mt := L.NewTypeMetatable(gzipTypeName)
	if mt.RawGetString("__index") == lua.LNil {
		L.SetField(mt, "__index", L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
			"write":  gzipWrite,
			"finish": gzipFinish,
			"close":  gzipClose,
		}))
	}
	ud.Metatable = mt
	L.Push(ud)
	return 1
}

func checkGzip(L *lua.LState) *gzipStream {
	ud := L.CheckUserData(1)
	g, ok := ud.Value.(*gzipStream)
	if !ok {
		L.ArgError(1, "gzip stream expected (call it with a colon)")
	}
	return g
}

func (g *gzipStream) release() {
	if g.w != nil {
		g.w.Reset(io.Discard)
		gzipPools[g.level].Put(g.w)
		g.w = nil
	}
}

func gzipWrite(L *lua.LState) int {
	g := checkGzip(L)
	s := checkLString(L, 2)
	if g.w == nil {
		L.RaiseError("gzip: write after finish or close")
	}
	if s == "" {
		L.Push(lua.LString(""))
		return 1
	}
	if _, err := io.WriteString(g.w, s); err != nil {
		L.RaiseError("gzip: %s", err.Error())
	}
	if err := g.w.Flush(); err != nil {
		L.RaiseError("gzip: %s", err.Error())
	}
	L.Push(lua.LString(g.buf.String()))
	g.buf.Reset()
	return 1
}

func gzipFinish(L *lua.LState) int {
	g := checkGzip(L)
	if g.w == nil {
		L.RaiseError("gzip: finish after finish or close")
	}
	if err := g.w.Close(); err != nil {
		L.RaiseError("gzip: %s", err.Error())
	}
	L.Push(lua.LString(g.buf.String()))
	g.buf.Reset()
	g.release()
	return 1
}

func gzipClose(L *lua.LState) int {
	checkGzip(L).release()
	return 0
}

// baseName drops any folders from a client's file name. mime/multipart
// strips only "/" on Unix, but browsers on Windows (and old IE) send
// `C:\Users\ann\photo.png`.
func baseName(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	return name
}
