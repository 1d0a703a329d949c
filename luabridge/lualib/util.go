package lualib

// This file implements lsgi.util, the Lua counterpart of wsgiref.util plus
// the URL, query-string and cookie helpers the other modules share.

import (
	"net/http"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lsgi/lsgi/luabridge"
	lua "github.com/yuin/gopher-lua"

	"github.com/lsgi/lsgi/environ"
	"github.com/lsgi/lsgi/httpsyntax"
)

func (s *Shared) openUtil(L *lua.LState) int {
	L.Push(newModule(L, map[string]lua.LGFunction{
		"unquote":          utilUnquote,
		"unquote_plus":     utilUnquotePlus,
		"quote":            s.utilQuote(false, "/"),
		"quote_plus":       s.utilQuote(true, ""),
		"parse_qs":         utilParseQS,
		"urlencode":        s.utilURLEncode,
		"parse_cookies":    utilParseCookies,
		"cookie":           utilCookie,
		"shift_path_info":  utilShiftPathInfo,
		"application_uri":  utilApplicationURI,
		"request_uri":      utilRequestURI,
		"guess_scheme":     utilGuessScheme,
		"http_date":        utilHTTPDate,
		"parse_http_date":  utilParseHTTPDate,
		"status_line":      utilStatusLine,
		"is_hop_by_hop":    utilIsHopByHop,
		"is_loopback":      utilIsLoopback,
		"accepts_encoding": utilAcceptsEncoding,
	}))
	return 1
}

// checkLString returns argument n, which must be a Lua string (numbers are
// not converted: a header or URL part given as a number is a bug).
func checkLString(L *lua.LState, n int) string {
	v, ok := L.Get(n).(lua.LString)
	if !ok {
		L.ArgError(n, "string expected, got "+L.Get(n).Type().String())
	}
	return string(v)
}

// optLString is checkLString for an optional argument.
func optLString(L *lua.LState, n int, def string) string {
	if L.Get(n) == lua.LNil {
		return def
	}
	return checkLString(L, n)
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// unquote percent-decodes s. A '%' not followed by two hex digits is kept
// as it is, as Python's urllib.parse.unquote does; with plus, '+' means a
// space (form encoding).
func unquote(s string, plus bool) string {
	if strings.IndexByte(s, '%') < 0 && (!plus || strings.IndexByte(s, '+') < 0) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%' && i+2 < len(s):
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if ok1 && ok2 {
				b.WriteByte(hi<<4 | lo)
				i += 2
				continue
			}
			b.WriteByte(c)
		case c == '+' && plus:
			b.WriteByte(' ')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// alwaysSafe are the bytes that quote never encodes (RFC 3986 unreserved).
func alwaysSafe(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '_' || c == '.' || c == '-' || c == '~'
}

// quote percent-encodes s like Python's urllib.parse.quote: unreserved
// bytes and the bytes in safe stay, everything else becomes %XX. With plus,
// a space becomes '+' (quote_plus).
func quote(s, safe string, plus bool) string {
	const hexdigits = "0123456789ABCDEF"
	n := (quotedLen(s, safe, plus) - int64(len(s))) / 2
	if n == 0 && !(plus && strings.IndexByte(s, ' ') >= 0) {
		return s
	}
	b := make([]byte, 0, int64(len(s))+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case alwaysSafe(c) || strings.IndexByte(safe, c) >= 0:
			b = append(b, c)
		case plus && c == ' ':
			b = append(b, '+')
		default:
			b = append(b, '%', hexdigits[c>>4], hexdigits[c&15])
		}
	}
	return string(b)
}

// quotedLen is the length of quote(s, safe, plus).
func quotedLen(s, safe string, plus bool) int64 {
	n := int64(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !alwaysSafe(c) && strings.IndexByte(safe, c) < 0 && !(plus && c == ' ') {
			n += 2
		}
	}
	return n
}

func utilUnquote(L *lua.LState) int {
	L.Push(lua.LString(unquote(checkLString(L, 1), false)))
	return 1
}

func utilUnquotePlus(L *lua.LState) int {
	L.Push(lua.LString(unquote(checkLString(L, 1), true)))
	return 1
}

// utilQuote returns quote or quote_plus: quote(s [, safe]).
func (s *Shared) utilQuote(plus bool, defaultSafe string) lua.LGFunction {
	return func(L *lua.LState) int {
		str, safe := checkLString(L, 1), optLString(L, 2, defaultSafe)
		if 3*int64(len(str)) > s.limits.MaxStringBytes {
			s.checkOutput(L, "lsgi.util.quote", quotedLen(str, safe, plus))
		}
		L.Push(lua.LString(quote(str, safe, plus)))
		return 1
	}
}

// checkOutput raises when a function would build more than the
// string-bytes limit.
func (s *Shared) checkOutput(L *lua.LState, fn string, n int64) {
	if n > s.limits.MaxStringBytes {
		L.RaiseError("%s: %s", fn, luabridge.LimitError("string-bytes", s.limits.MaxStringBytes, "the result"))
	}
}

// parseQS splits a query string or an urlencoded form into name/value
// pairs in order. Pairs are separated by '&'; a pair without '=' has the
// value ""; empty pairs are skipped; '+' and %XX are decoded, and a bad
// escape is kept literally rather than dropping the pair.
func parseQS(qs string, visit func(name, value string)) {
	for qs != "" {
		var pair string
		if i := strings.IndexByte(qs, '&'); i >= 0 {
			pair, qs = qs[:i], qs[i+1:]
		} else {
			pair, qs = qs, ""
		}
		if pair == "" {
			continue
		}
		name, value, _ := strings.Cut(pair, "=")
		visit(unquote(name, true), unquote(value, true))
	}
}

// pushMulti pushes two tables built from pairs: name -> first value, and
// name -> array of every value in order. size is about how many names
// there are: gopher-lua's NewTable would make room for 32 of each, a
// kilobyte or two per table, for what is often one or two.
func pushMulti(L *lua.LState, size int, visit func(func(name, value string))) {
	first := L.CreateTable(0, size)
	all := L.CreateTable(0, size)
	visit(func(name, value string) {
		k := lua.LString(name)
		if list, ok := all.RawGetH(k).(*lua.LTable); ok {
			list.Append(lua.LString(value))
			return
		}
		first.RawSetH(k, lua.LString(value))
		list := L.CreateTable(1, 0)
		list.Append(lua.LString(value))
		all.RawSetH(k, list)
	})
	L.Push(first)
	L.Push(all)
}

// utilParseQS: parse_qs(s) -> first, all.
func utilParseQS(L *lua.LState) int {
	qs := checkLString(L, 1)
	pushMulti(L, strings.Count(qs, "&")+1, func(add func(string, string)) { parseQS(qs, add) })
	return 2
}

// scalarString converts a string, number or boolean to its text for
// urlencode; anything else is an argument error.
func scalarString(L *lua.LState, argn int, v lua.LValue, what string) string {
	switch v := v.(type) {
	case lua.LString:
		return string(v)
	case lua.LNumber:
		return v.String()
	case lua.LBool:
		if v {
			return "true"
		}
		return "false"
	}
	L.ArgError(argn, what+" must be a string, a number or a boolean, not a "+v.Type().String())
	return ""
}

// utilURLEncode: urlencode(t) -> "a=1&b=2". t is either an array of
// {name, value} pairs (kept in order) or a map name -> value or
// name -> array of values (names sorted, so the result is stable).
func (s *Shared) utilURLEncode(L *lua.LState) int {
	t := L.CheckTable(1)
	var b strings.Builder
	add := func(name, value string) {
		s.checkOutput(L, "lsgi.util.urlencode", int64(b.Len())+quotedLen(name, "", true)+quotedLen(value, "", true)+2)
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(quote(name, "", true))
		b.WriteByte('=')
		b.WriteString(quote(value, "", true))
	}
	if t.RawGetInt(1) != lua.LNil {
		for i := 1; ; i++ {
			v := t.RawGetInt(i)
			if v == lua.LNil {
				break
			}
			pair, ok := v.(*lua.LTable)
			if !ok {
				L.ArgError(1, "entry "+strconv.Itoa(i)+" must be a {name, value} pair")
			}
			add(scalarString(L, 1, pair.RawGetInt(1), "a name"), scalarString(L, 1, pair.RawGetInt(2), "a value"))
		}
		L.Push(lua.LString(b.String()))
		return 1
	}
	var names []string
	values := map[string]lua.LValue{}
	t.ForEach(func(k, v lua.LValue) {
		name := scalarString(L, 1, k, "a name")
		names = append(names, name)
		values[name] = v
	})
	sort.Strings(names)
	for _, name := range names {
		if list, ok := values[name].(*lua.LTable); ok {
			for i := 1; ; i++ {
				v := list.RawGetInt(i)
				if v == lua.LNil {
					break
				}
				add(name, scalarString(L, 1, v, "a value"))
			}
			continue
		}
		add(name, scalarString(L, 1, values[name], "a value"))
	}
	L.Push(lua.LString(b.String()))
	return 1
}

// parseCookies reads a Cookie header ("a=1; b=2") leniently: pairs without
// '=' or with an empty name are skipped, one pair of surrounding double
// quotes is removed from a value, and the first occurrence of a name wins
// (RFC 6265 §5.4 sends the most specific cookie first).
func parseCookies(header string, visit func(name, value string)) {
	for header != "" {
		var part string
		part, header, _ = strings.Cut(header, ";")
		name, value, ok := strings.Cut(part, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			continue
		}
		value = strings.TrimSpace(value)
		if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
			value = value[1 : len(value)-1]
		}
		visit(name, value)
	}
}

// utilParseCookies: parse_cookies(header) -> table name -> value.
func utilParseCookies(L *lua.LState) int {
	t := L.NewTable()
	parseCookies(optLString(L, 1, ""), func(name, value string) {
		if t.RawGetString(name) == lua.LNil {
			t.RawSetString(name, lua.LString(value))
		}
	})
	L.Push(t)
	return 1
}

// utilCookie: cookie(name, value [, opts]) -> the value of a Set-Cookie
// header. opts: path, domain, max_age (seconds; 0 or less deletes),
// expires (a Unix time), secure, http_only, same_site ("Strict", "Lax",
// "None"), partitioned. Invalid names, values or attributes raise: they are
// never silently dropped as net/http would.
func utilCookie(L *lua.LState) int {
	c := &http.Cookie{Name: checkLString(L, 1), Value: checkLString(L, 2)}
	if opts := L.OptTable(3, nil); opts != nil {
		str := func(key string) string {
			switch v := opts.RawGetString(key).(type) {
			case *lua.LNilType:
				return ""
			case lua.LString:
				return string(v)
			default:
				L.ArgError(3, key+" must be a string")
			}
			return ""
		}
		flag := func(key string) bool {
			v := opts.RawGetString(key)
			if v != lua.LNil {
				if _, ok := v.(lua.LBool); !ok {
					L.ArgError(3, key+" must be a boolean")
				}
			}
			return lua.LVAsBool(v)
		}
		num := func(key string) (float64, bool) {
			switch v := opts.RawGetString(key).(type) {
			case *lua.LNilType:
				return 0, false
			case lua.LNumber:
				return float64(v), true
			default:
				L.ArgError(3, key+" must be a number")
			}
			return 0, false
		}
		c.Path = str("path")
		c.Domain = str("domain")
		if n, ok := num("max_age"); ok {
			if n <= 0 {
				c.MaxAge = -1 // written as Max-Age=0
			} else {
				c.MaxAge = int(n)
			}
		}
		if n, ok := num("expires"); ok {
			c.Expires = time.Unix(int64(n), 0).UTC()
			if c.Expires.Year() < 1601 || n == 0 {
				c.Expires = time.Unix(1, 0).UTC() // the epoch: already expired
			}
		}
		c.Secure = flag("secure")
		c.HttpOnly = flag("http_only")
		c.Partitioned = flag("partitioned")
		switch s := str("same_site"); strings.ToLower(s) {
		case "":
		case "strict":
			c.SameSite = http.SameSiteStrictMode
		case "lax":
			c.SameSite = http.SameSiteLaxMode
		case "none":
			c.SameSite = http.SameSiteNoneMode
		default:
			L.ArgError(3, "same_site must be \"Strict\", \"Lax\" or \"None\", not "+strconv.Quote(s))
		}
	}
	if err := c.Valid(); err != nil {
		L.RaiseError("lsgi.util.cookie: %s", err.Error())
	}
	L.Push(lua.LString(c.String()))
	return 1
}

// shiftPathInfo moves one segment from PATH_INFO to SCRIPT_NAME exactly as
// wsgiref.util.shift_path_info does. shifted is false, and nothing changes,
// when PATH_INFO is empty (or does not start with "/"); named is false when
// the shifted segment was "." (Python's None).
func shiftPathInfo(scriptName, pathInfo string) (name string, named bool, newScript, newPath string, shifted bool) {
	if !strings.HasPrefix(pathInfo, "/") {
		return "", false, scriptName, pathInfo, false
	}
	raw := strings.Split(pathInfo, "/")
	// Drop empty and "." segments between the first and the last.
	parts := make([]string, 0, len(raw))
	parts = append(parts, raw[0])
	for i := 1; i < len(raw)-1; i++ {
		if raw[i] != "" && raw[i] != "." {
			parts = append(parts, raw[i])
		}
	}
	parts = append(parts, raw[len(raw)-1])
	name = parts[1]
	parts = append(parts[:1], parts[2:]...)
	newScript = strings.TrimSuffix(path.Clean(scriptName+"/"+name), "/")
	if name == "" && !strings.HasSuffix(newScript, "/") {
		newScript += "/"
	}
	newPath = strings.Join(parts, "/")
	return name, name != ".", newScript, newPath, true
}

// environString reads environ[key] as a string ("" when absent).
func environString(env *lua.LTable, key string) string {
	if s, ok := env.RawGetString(key).(lua.LString); ok {
		return string(s)
	}
	return ""
}

// utilShiftPathInfo: shift_path_info(environ) -> name or nil, changing
// environ.SCRIPT_NAME and environ.PATH_INFO in place.
func utilShiftPathInfo(L *lua.LState) int {
	env := L.CheckTable(1)
	name, named, script, p, shifted := shiftPathInfo(environString(env, "SCRIPT_NAME"), environString(env, "PATH_INFO"))
	if shifted {
		env.RawSetString("SCRIPT_NAME", lua.LString(script))
		env.RawSetString("PATH_INFO", lua.LString(p))
	}
	if !shifted || !named {
		L.Push(lua.LNil)
		return 1
	}
	L.Push(lua.LString(name))
	return 1
}

// guessScheme returns environ's URL scheme: lsgi.url_scheme when set,
// otherwise "https" when HTTPS is on, yes or 1 (wsgiref.util.guess_scheme).
func guessScheme(env *lua.LTable) string {
	if s := environString(env, "lsgi.url_scheme"); s != "" {
		return s
	}
	switch strings.ToLower(environString(env, "HTTPS")) {
	case "on", "yes", "1":
		return "https"
	}
	return "http"
}

// applicationURI rebuilds the URL of the app's root as
// wsgiref.util.application_uri does (PEP 3333 "URL Reconstruction").
func applicationURI(env *lua.LTable) string {
	scheme := guessScheme(env)
	var b strings.Builder
	b.WriteString(scheme)
	b.WriteString("://")
	if host := environString(env, "HTTP_HOST"); host != "" {
		b.WriteString(host)
	} else {
		b.WriteString(environString(env, "SERVER_NAME"))
		port := environString(env, "SERVER_PORT")
		if scheme == "https" && port != "443" || scheme != "https" && port != "80" {
			if port != "" {
				b.WriteString(":" + port)
			}
		}
	}
	script := environString(env, "SCRIPT_NAME")
	if script == "" {
		script = "/"
	}
	b.WriteString(quote(script, "/", false))
	return b.String()
}

func utilApplicationURI(L *lua.LState) int {
	L.Push(lua.LString(applicationURI(L.CheckTable(1))))
	return 1
}

// utilRequestURI: request_uri(environ [, include_query = true]) as
// wsgiref.util.request_uri.
func utilRequestURI(L *lua.LState) int {
	env := L.CheckTable(1)
	includeQuery := L.Get(2) == lua.LNil || lua.LVAsBool(L.Get(2))
	u := applicationURI(env)
	p := quote(environString(env, "PATH_INFO"), "/;=,", false)
	if environString(env, "SCRIPT_NAME") == "" {
		u += strings.TrimPrefix(p, "/")
	} else {
		u += p
	}
	if q := environString(env, "QUERY_STRING"); includeQuery && q != "" {
		u += "?" + q
	}
	L.Push(lua.LString(u))
	return 1
}

func utilGuessScheme(L *lua.LState) int {
	L.Push(lua.LString(guessScheme(L.CheckTable(1))))
	return 1
}

// utilHTTPDate: http_date([t]) -> "Sun, 06 Nov 1994 08:49:37 GMT" for the
// Unix time t (default: now).
func utilHTTPDate(L *lua.LState) int {
	t := time.Now()
	if L.Get(1) != lua.LNil {
		t = time.Unix(int64(L.CheckNumber(1)), 0)
	}
	L.Push(lua.LString(t.UTC().Format(http.TimeFormat)))
	return 1
}

// utilParseHTTPDate: parse_http_date(s) -> Unix time, or nil when s is
// not an HTTP date in any of the three formats of RFC 9110 §5.6.7.
func utilParseHTTPDate(L *lua.LState) int {
	t, err := http.ParseTime(checkLString(L, 1))
	if err != nil {
		L.Push(lua.LNil)
		return 1
	}
	L.Push(lua.LNumber(t.Unix()))
	return 1
}

// statusLine returns "NNN Reason" for code, with "Unknown" as the reason
// of codes net/http does not name.
func statusLine(code int) string {
	text := http.StatusText(code)
	if text == "" {
		text = "Unknown"
	}
	return strconv.Itoa(code) + " " + text
}

// utilStatusLine: status_line(code) -> "404 Not Found". code must be an
// integer from 100 to 599.
func utilStatusLine(L *lua.LState) int {
	n := L.CheckNumber(1)
	if float64(n) != float64(int(n)) || n < 100 || n > 599 {
		L.ArgError(1, "status code must be an integer from 100 to 599")
	}
	L.Push(lua.LString(statusLine(int(n))))
	return 1
}

func utilIsHopByHop(L *lua.LState) int {
	L.Push(lua.LBool(httpsyntax.IsHopByHop(checkLString(L, 1))))
	return 1
}

func utilIsLoopback(L *lua.LState) int {
	s, _ := L.Get(1).(lua.LString)
	L.Push(lua.LBool(environ.IsLoopback(string(s))))
	return 1
}

// acceptsEncoding reports whether an Accept-Encoding header value allows
// coding (RFC 9110 §12.5.3): listed with q > 0, or covered by "*" with
// q > 0 and not listed with q = 0.
func acceptsEncoding(header, coding string) bool {
	star := false
	for _, item := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(item, ";")
		name = strings.ToLower(strings.TrimSpace(name))
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			k, v, ok := strings.Cut(p, "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil {
					f = 0
				}
				q = f
			}
		}
		switch name {
		case coding:
			return q > 0
		case "*":
			star = q > 0
		}
	}
	return star
}

// utilAcceptsEncoding: accepts_encoding(header, coding) -> boolean.
func utilAcceptsEncoding(L *lua.LState) int {
	L.Push(lua.LBool(acceptsEncoding(optLString(L, 1, ""), strings.ToLower(checkLString(L, 2)))))
	return 1
}
