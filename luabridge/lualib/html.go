package lualib

// This file implements lsgi.html: HTML escaping in Go, because string.gsub
// escaping is several times slower in gopher-lua.

import (
	"html"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

func (s *Shared) openHTML(L *lua.LState) int {
	L.Push(newModule(L, map[string]lua.LGFunction{
		"escape":   s.htmlEscape,
		"unescape": htmlUnescape,
	}))
	return 1
}

// htmlSpecial reports whether c must be escaped in HTML text or in a quoted
// attribute value.
func htmlSpecial(c byte) bool {
	return c == '&' || c == '<' || c == '>' || c == '"' || c == '\''
}

// escapeHTML replaces & < > " ' with &amp; &lt; &gt; &#34; &#39;, the same
// entities as html.EscapeString and html/template. It returns s itself when
// nothing needs escaping.
func escapeHTML(s string) string {
	i := 0
	for i < len(s) && !htmlSpecial(s[i]) {
		i++
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for ; i < len(s); i++ {
		switch c := s[i]; c {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			b.WriteString("&#34;")
		case '\'':
			b.WriteString("&#39;")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// escapedLen is the length of escapeHTML(s): each special byte becomes an
// entity of at most five bytes.
func escapedLen(s string) int64 {
	n := int64(len(s))
	for i := 0; i < len(s); i++ {
		if htmlSpecial(s[i]) {
			n += 4
		}
	}
	return n
}

// htmlEscape: escape(s) -> s with & < > " ' escaped. A number is escaped
// as its text; any other type is an argument error (nil in particular, so
// a missing value never prints as "nil").
func (s *Shared) htmlEscape(L *lua.LState) int {
	switch v := L.Get(1).(type) {
	case lua.LString:
		str := string(v)
		s.checkOutput(L, "lsgi.html.escape", escapedLen(str))
		out := escapeHTML(str)
		if len(out) == len(str) {
			L.Push(v) // unchanged: no new string
		} else {
			L.Push(lua.LString(out))
		}
	case lua.LNumber:
		L.Push(lua.LString(v.String()))
	default:
		L.ArgError(1, "string expected, got "+v.Type().String())
	}
	return 1
}

// htmlUnescape: unescape(s) -> s with entities such as &lt; and &#39;
// decoded (html.UnescapeString).
func htmlUnescape(L *lua.LState) int {
	L.Push(lua.LString(html.UnescapeString(checkLString(L, 1))))
	return 1
}
