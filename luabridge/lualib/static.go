package lualib

// This file implements the Go side of lsgi.middleware.static: resolving a
// request path inside the app's folder without any way out, conditional
// requests (ETag, Last-Modified), byte ranges and MIME types.

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/lsgi/lsgi/luabridge/appfs"
	lua "github.com/yuin/gopher-lua"
)

// staticInlineMax is the largest file sent as one string; larger files
// stream in staticChunk pieces.
const (
	staticInlineMax = 64 << 10
	staticChunk     = 32 << 10
)

// staticServer serves the files under dir of the app's folder.
type staticServer struct {
	sh     *Shared
	fsys   fs.FS
	dir    string // a valid fs path: "." or "static" or "public/assets"
	index  string // file served for a directory ("" for none)
	maxAge int    // Cache-Control max-age in seconds; < 0 for none
}

// Reasons a path is not served, returned to Lua as the second value.
const (
	staticNotFound  = "not found"
	staticForbidden = "forbidden"
	staticDirectory = "directory" // a directory requested without its trailing slash
)

// extraTypes completes mime.TypeByExtension, whose built-in table misses
// some common web types when the machine has no mime.types file.
var extraTypes = map[string]string{
	".txt":   "text/plain; charset=utf-8",
	".md":    "text/markdown; charset=utf-8",
	".csv":   "text/csv; charset=utf-8",
	".ico":   "image/x-icon",
	".woff":  "font/woff",
	".woff2": "font/woff2",
	".ttf":   "font/ttf",
	".otf":   "font/otf",
	".map":   "application/json",
	".mp3":   "audio/mpeg",
	".mp4":   "video/mp4",
	".webm":  "video/webm",
	".zip":   "application/zip",
	".gz":    "application/gzip",
}

// contentType returns the MIME type for name's extension.
func contentType(name string) string {
	ext := strings.ToLower(path.Ext(name))
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	if t := extraTypes[ext]; t != "" {
		return t
	}
	return "application/octet-stream"
}

// nativeStatic: static(dir, opts) -> server. opts: index (string or
// false), max_age (number).
func (s *Shared) nativeStatic(L *lua.LState) int {
	if s.fsys == nil {
		L.RaiseError("lsgi.middleware.static: this app has no folder to serve files from")
	}
	dir := strings.Trim(checkLString(L, 1), "/")
	if dir == "" {
		dir = "."
	}
	if !fs.ValidPath(dir) {
		L.ArgError(1, "dir must be a folder inside the app's folder, without . or .. segments")
	}
	srv := &staticServer{sh: s, fsys: s.fsys, dir: dir, index: "index.html", maxAge: -1}
	if opts := L.OptTable(2, nil); opts != nil {
		switch v := opts.RawGetString("index").(type) {
		case *lua.LNilType:
		case lua.LBool:
			if v {
				L.ArgError(2, "index must be a file name or false")
			}
			srv.index = ""
		case lua.LString:
			if !fs.ValidPath(string(v)) || strings.Contains(string(v), "/") {
				L.ArgError(2, "index must be a plain file name")
			}
			srv.index = string(v)
		default:
			L.ArgError(2, "index must be a file name or false")
		}
		switch v := opts.RawGetString("max_age").(type) {
		case *lua.LNilType:
		case lua.LNumber:
			if v < 0 || float64(v) != float64(int(v)) {
				L.ArgError(2, "max_age must be a whole number of seconds")
			}
			srv.maxAge = int(v)
		default:
			L.ArgError(2, "max_age must be a number")
		}
	}
	ud := L.NewUserData()
	ud.Value = srv
	mt := L.NewTable()
	mt.RawSetString("__index", L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{"serve": staticServe}))
	ud.Metatable = mt
	L.Push(ud)
	return 1
}

// staticRequest holds what serve needs from the request.
type staticRequest struct {
	rel, method                           string
	ifNoneMatch, ifModifiedSince, rangeHd string
	ifRange                               string
}

// staticServe: server:serve(rel, method, if_none_match, if_modified_since,
// range, if_range) -> status, headers, body; or nil, reason where reason is
// "not found", "forbidden" or "directory".
func staticServe(L *lua.LState) int {
	ud := L.CheckUserData(1)
	srv, ok := ud.Value.(*staticServer)
	if !ok {
		L.ArgError(1, "static server expected (call it with a colon)")
	}
	req := staticRequest{
		rel:             checkLString(L, 2),
		method:          checkLString(L, 3),
		ifNoneMatch:     optLString(L, 4, ""),
		ifModifiedSince: optLString(L, 5, ""),
		rangeHd:         optLString(L, 6, ""),
		ifRange:         optLString(L, 7, ""),
	}
	return srv.serve(L, req)
}

// cleanRel turns the request path below the mount point ("/css/a.css",
// "/", "") into a path relative to the served folder. It refuses anything
// that could name a file outside it: "..", "." and empty segments,
// backslashes, NUL bytes, hidden names (a segment starting with "."), and
// the same after one more round of percent-decoding, so that a doubly
// encoded "%2e%2e" is refused too. wantDir reports a trailing slash.
func cleanRel(rel string) (p string, wantDir bool, reason string) {
	if rel == "" {
		return "", false, staticDirectory
	}
	if rel[0] != '/' {
		return "", false, staticNotFound
	}
	p = rel[1:]
	if strings.HasSuffix(p, "/") {
		wantDir = true
		p = p[:len(p)-1]
	}
	if p == "" {
		return "", true, ""
	}
	for _, cand := range []string{p, unquote(p, false)} {
		if strings.ContainsAny(cand, "\\\x00") || !fs.ValidPath(cand) {
			return "", false, staticForbidden
		}
		for _, seg := range strings.Split(cand, "/") {
			if strings.HasPrefix(seg, ".") {
				return "", false, staticForbidden
			}
		}
	}
	return p, wantDir, ""
}

// locate finds the regular file to serve for p, or says why not.
func (srv *staticServer) locate(p string, wantDir bool) (name string, fi fs.FileInfo, reason string) {
	name = appfs.Join(srv.dir, p)
	for try := 0; try < 2; try++ {
		real, err := appfs.Resolve(srv.fsys, srv.dir, name)
		if errors.Is(err, appfs.ErrOutside) {
			return "", nil, staticForbidden
		}
		if err != nil {
			return "", nil, staticNotFound
		}
		fi, err = fs.Stat(srv.fsys, real)
		if err != nil {
			return "", nil, staticNotFound
		}
		switch {
		case fi.Mode().IsRegular():
			if wantDir && try == 0 {
				return "", nil, staticNotFound // "file.css/"
			}
			return real, fi, ""
		case fi.IsDir() && try == 0:
			if srv.index == "" {
				return "", nil, staticNotFound
			}
			if !wantDir {
				return "", nil, staticDirectory
			}
			name = appfs.Join(real, srv.index)
		default:
			return "", nil, staticNotFound
		}
	}
	return "", nil, staticNotFound
}

// etag returns the file's entity tag: its modification time and size, or,
// when the file system has no modification times (embed.FS), a hash of its
// content, computed once per file and size.
func (srv *staticServer) etag(name string, fi fs.FileInfo) (string, error) {
	if !fi.ModTime().IsZero() {
		return fmt.Sprintf(`"%x-%x"`, fi.ModTime().UnixNano(), fi.Size()), nil
	}
	key := name + "\x00" + strconv.FormatInt(fi.Size(), 10)
	if v, ok := srv.sh.hashes.Load(key); ok {
		return v.(string), nil
	}
	data, err := fs.ReadFile(srv.fsys, name)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	tag := `"` + hex.EncodeToString(sum[:12]) + `"`
	srv.sh.hashes.Store(key, tag)
	return tag, nil
}

// scanETag reads one entity-tag from the start of s ("W/" optional) and
// returns its opaque part (quotes included), whether it is weak, and the
// rest of s; ok is false on a syntax error.
func scanETag(s string) (tag string, weak bool, rest string, ok bool) {
	s = strings.TrimLeft(s, " \t")
	if strings.HasPrefix(s, "W/") {
		weak, s = true, s[2:]
	}
	if len(s) < 2 || s[0] != '"' {
		return "", false, "", false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			return s[:i+1], weak, s[i+1:], true
		case c == 0x21 || c >= 0x23 && c <= 0x7E || c >= 0x80:
		default:
			return "", false, "", false
		}
	}
	return "", false, "", false
}

// noneMatch reports whether an If-None-Match value matches etag with the
// weak comparison of RFC 9110 §13.1.2.
func noneMatch(header, etag string) bool {
	header = strings.TrimSpace(header)
	if header == "*" {
		return true
	}
	opaque := strings.TrimPrefix(etag, "W/")
	for header != "" {
		header = strings.TrimLeft(header, " \t,")
		if header == "" {
			break
		}
		tag, _, rest, ok := scanETag(header)
		if !ok {
			return false
		}
		if tag == opaque {
			return true
		}
		header = rest
	}
	return false
}

// byteRange is an inclusive-exclusive span of a file.
type byteRange struct{ start, length int64 }

// parseRange reads a Range header for a file of size bytes. It returns
// ok false when the header should be ignored (malformed, not bytes, or
// several ranges: a server may always answer those with the whole file),
// and unsatisfiable true when the single range lies beyond the end.
func parseRange(header string, size int64) (r byteRange, ok, unsatisfiable bool) {
	const prefix = "bytes="
	if len(header) < len(prefix) || !strings.EqualFold(header[:len(prefix)], prefix) {
		return r, false, false
	}
	spec := strings.TrimSpace(header[len(prefix):])
	if spec == "" || strings.Contains(spec, ",") {
		return r, false, false
	}
	first, last, found := strings.Cut(spec, "-")
	if !found {
		return r, false, false
	}
	first, last = strings.TrimSpace(first), strings.TrimSpace(last)
	digits := func(s string) (int64, bool) {
		if s == "" || strings.TrimLeft(s, "0123456789") != "" {
			return 0, false
		}
		n, err := strconv.ParseInt(s, 10, 64)
		return n, err == nil
	}
	if first == "" { // suffix range: the last n bytes
		n, ok := digits(last)
		if !ok {
			return r, false, false
		}
		if n == 0 || size == 0 {
			return r, true, true
		}
		n = min(n, size)
		return byteRange{size - n, n}, true, false
	}
	a, ok := digits(first)
	if !ok {
		return r, false, false
	}
	b := size - 1
	if last != "" {
		if b, ok = digits(last); !ok || b < a {
			return r, false, false
		}
		b = min(b, size-1)
	}
	if a >= size {
		return r, true, true
	}
	return byteRange{a, b - a + 1}, true, false
}

// ifRangeAllows reports whether a Range may be honoured given If-Range:
// an entity-tag must match strongly, a date must equal Last-Modified.
func ifRangeAllows(ifRange, etag string, mod time.Time) bool {
	ifRange = strings.TrimSpace(ifRange)
	if ifRange == "" {
		return true
	}
	if strings.HasPrefix(ifRange, `"`) || strings.HasPrefix(ifRange, "W/") {
		tag, weak, _, ok := scanETag(ifRange)
		return ok && !weak && !strings.HasPrefix(etag, "W/") && tag == etag
	}
	t, err := http.ParseTime(ifRange)
	return err == nil && !mod.IsZero() && t.Equal(mod.Truncate(time.Second))
}

// pushHeaders pushes an array of {name, value} pairs.
func pushHeaders(L *lua.LState, h [][2]string) {
	t := L.CreateTable(len(h), 0)
	for _, kv := range h {
		pair := L.CreateTable(2, 0)
		pair.Append(lua.LString(kv[0]))
		pair.Append(lua.LString(kv[1]))
		t.Append(pair)
	}
	L.Push(t)
}

func (srv *staticServer) serve(L *lua.LState, req staticRequest) int {
	p, wantDir, reason := cleanRel(req.rel)
	if reason == staticDirectory && srv.index == "" {
		reason = staticNotFound
	}
	if reason != "" {
		return notServed(L, reason)
	}
	name, fi, reason := srv.locate(p, wantDir)
	if reason != "" {
		return notServed(L, reason)
	}
	etag, err := srv.etag(name, fi)
	if err != nil {
		return notServed(L, staticNotFound)
	}
	mod, size := fi.ModTime(), fi.Size()
	common := srv.cacheHeaders(etag, mod)
	if notModified(req, etag, mod) {
		return pushResponse(L, "304 Not Modified", common, L.NewTable())
	}
	status := "200 OK"
	span := byteRange{0, size}
	headers := append([][2]string{{"Content-Type", contentType(name)}}, common...)
	headers = append(headers, [2]string{"Accept-Ranges", "bytes"}, [2]string{"X-Content-Type-Options", "nosniff"})
	if req.rangeHd != "" && req.method == "GET" && ifRangeAllows(req.ifRange, etag, mod) {
		r, ok, unsatisfiable := parseRange(req.rangeHd, size)
		switch {
		case unsatisfiable:
			return pushResponse(L, "416 Range Not Satisfiable", append(common,
				[2]string{"Content-Range", "bytes */" + strconv.FormatInt(size, 10)}, [2]string{"Content-Length", "0"}), L.NewTable())
		case ok:
			status = "206 Partial Content"
			span = r
			headers = append(headers, [2]string{"Content-Range", fmt.Sprintf("bytes %d-%d/%d", r.start, r.start+r.length-1, size)})
		}
	}
	headers = append(headers, [2]string{"Content-Length", strconv.FormatInt(span.length, 10)})
	if req.method == "HEAD" || span.length == 0 {
		return pushResponse(L, status, headers, L.NewTable())
	}
	return srv.pushBody(L, name, status, headers, span)
}

// notServed returns nil and the reason the file is not served.
func notServed(L *lua.LState, reason string) int {
	L.Push(lua.LNil)
	L.Push(lua.LString(reason))
	return 2
}

// pushResponse returns status, headers and body to Lua.
func pushResponse(L *lua.LState, status string, headers [][2]string, body lua.LValue) int {
	L.Push(lua.LString(status))
	pushHeaders(L, headers)
	L.Push(body)
	return 3
}

// cacheHeaders are the validators and caching fields of every response for
// a file.
func (srv *staticServer) cacheHeaders(etag string, mod time.Time) [][2]string {
	common := [][2]string{{"ETag", etag}}
	if !mod.IsZero() {
		common = append(common, [2]string{"Last-Modified", mod.UTC().Format(http.TimeFormat)})
	}
	if srv.maxAge >= 0 {
		common = append(common, [2]string{"Cache-Control", "public, max-age=" + strconv.Itoa(srv.maxAge)})
	}
	return common
}

// notModified evaluates a conditional request, RFC 9110 §13.2.2:
// If-None-Match wins over If-Modified-Since.
func notModified(req staticRequest, etag string, mod time.Time) bool {
	if req.ifNoneMatch != "" {
		return noneMatch(req.ifNoneMatch, etag)
	}
	if req.ifModifiedSince != "" && !mod.IsZero() {
		t, err := http.ParseTime(req.ifModifiedSince)
		return err == nil && !mod.Truncate(time.Second).After(t)
	}
	return false
}

// pushBody returns the response with the span of the file as its body:
// read whole when small, streamed otherwise.
func (srv *staticServer) pushBody(L *lua.LState, name, status string, headers [][2]string, span byteRange) int {
	f, err := srv.fsys.Open(name)
	if err != nil {
		return notServed(L, staticNotFound)
	}
	if err := skip(f, span.start); err != nil {
		f.Close()
		return notServed(L, staticNotFound)
	}
	src := io.LimitReader(f, span.length)
	if span.length > staticInlineMax {
		return pushResponse(L, status, headers, streamBody(L, f, src, span.length, name))
	}
	data, err := io.ReadAll(src)
	f.Close()
	if err != nil || int64(len(data)) != span.length {
		L.RaiseError("lsgi.middleware.static: read %s: file changed or unreadable", name)
	}
	body := L.CreateTable(1, 0)
	body.Append(lua.LString(data))
	return pushResponse(L, status, headers, body)
}

// skip moves f to offset, by seeking when it can.
func skip(f fs.File, offset int64) error {
	if offset == 0 {
		return nil
	}
	if s, ok := f.(io.Seeker); ok {
		_, err := s.Seek(offset, io.SeekStart)
		return err
	}
	_, err := io.CopyN(io.Discard, f, offset)
	return err
}

// streamBody returns an iterator object (a table with __call and close)
// that reads the file staticChunk bytes at a time. A file that ends before
// the announced length raises, so the host aborts the response instead of
// sending a short body that looks complete.
func streamBody(L *lua.LState, f fs.File, src io.Reader, length int64, name string) *lua.LTable {
	closed := false
	closeFile := func() {
		if !closed {
			closed = true
			f.Close()
		}
	}
	remaining := length
	buf := make([]byte, staticChunk)
	next := L.NewFunction(func(L *lua.LState) int {
		if closed || remaining == 0 {
			closeFile()
			L.Push(lua.LNil)
			return 1
		}
		n, err := io.ReadFull(src, buf[:min(int64(len(buf)), remaining)])
		remaining -= int64(n)
		if err != nil {
			closeFile()
			L.RaiseError("lsgi.middleware.static: %s ended early (the file changed while it was sent)", name)
		}
		L.Push(lua.LString(buf[:n]))
		return 1
	})
	body := L.NewTable()
	body.RawSetString("close", L.NewFunction(func(L *lua.LState) int {
		closeFile()
		return 0
	}))
	mt := L.NewTable()
	mt.RawSetString("__call", next)
	body.Metatable = mt
	return body
}
