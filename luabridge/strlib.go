package luabridge

// This file replaces the string functions whose gopher-lua versions differ
// from Lua 5.1 (string.format is Go's fmt there; lower and upper mangle
// bytes that are not UTF-8) or can allocate without bound (string.rep).

import (
	"fmt"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

func (s *stdlib) installString() {
	L := s.L
	str := s.module(lua.StringLibName)
	// gopher-lua makes the string table its own metatable, so that
	// string.__index exists; Lua 5.1's string metatable is a table of its
	// own whose __index is the string table.
	str.RawSetString("__index", lua.LNil)
	mt := L.CreateTable(0, 1)
	mt.RawSetString("__index", str)
	L.SetMetatable(lua.LString(""), mt)
	L.SetFuncs(str, map[string]lua.LGFunction{
		"format":  s.strFormat,
		"rep":     s.strRep,
		"sub":     strSub,
		"byte":    strByte,
		"char":    strChar,
		"len":     strLen,
		"lower":   strLower,
		"upper":   strUpper,
		"reverse": strReverse,
	})
}

// posrelat turns a relative string position (negative: from the end) into
// an absolute one, as Lua 5.1 does.
func posrelat(pos int64, n int) int64 {
	if pos < 0 {
		pos += int64(n) + 1
	}
	return max(pos, 0)
}

func strSub(L *lua.LState) int {
	str := checkString(L, 1)
	l := len(str)
	start := posrelat(checkInteger(L, 2), l)
	end := posrelat(optInteger(L, 3, -1), l)
	start = max(start, 1)
	end = min(end, int64(l))
	if start <= end {
		L.Push(lua.LString(str[start-1 : end]))
	} else {
		L.Push(lua.LString(""))
	}
	return 1
}

func strByte(L *lua.LState) int {
	str := checkString(L, 1)
	l := len(str)
	posi := posrelat(optInteger(L, 2, 1), l)
	pose := posrelat(optInteger(L, 3, posi), l)
	posi = max(posi, 1)
	pose = min(pose, int64(l))
	if posi > pose {
		return 0
	}
	n := int(pose - posi + 1)
	if n+L.GetTop() > maxCStack {
		raisef(L, "stack overflow (string slice too long)")
	}
	for i := 0; i < n; i++ {
		L.Push(lua.LNumber(str[int(posi)-1+i]))
	}
	return n
}

func strChar(L *lua.LState) int {
	n := L.GetTop()
	b := make([]byte, n)
	for i := 1; i <= n; i++ {
		c := checkInt(L, i)
		if c < 0 || c > 255 {
			argError(L, i, "invalid value")
		}
		b[i-1] = byte(c)
	}
	L.Push(lua.LString(b))
	return 1
}

func strLen(L *lua.LState) int {
	L.Push(lua.LNumber(len(checkString(L, 1))))
	return 1
}

// strLower and strUpper change ASCII letters only, byte by byte, as C's
// tolower and toupper do in the "C" locale.
func strLower(L *lua.LState) int {
	L.Push(lua.LString(mapBytes(checkString(L, 1), 'A', 'Z', 'a'-'A')))
	return 1
}

func strUpper(L *lua.LState) int {
	L.Push(lua.LString(mapBytes(checkString(L, 1), 'a', 'z', 256-('a'-'A'))))
	return 1
}

func mapBytes(s string, lo, hi byte, delta int) string {
	i := 0
	for i < len(s) && (s[i] < lo || s[i] > hi) {
		i++
	}
	if i == len(s) {
		return s
	}
	b := []byte(s)
	for ; i < len(b); i++ {
		if b[i] >= lo && b[i] <= hi {
			b[i] += byte(delta)
		}
	}
	return string(b)
}

func strReverse(L *lua.LState) int {
	str := checkString(L, 1)
	b := make([]byte, len(str))
	for i := range len(str) {
		b[len(str)-1-i] = str[i]
	}
	L.Push(lua.LString(b))
	return 1
}

// strRep is string.rep(s, n), refused before anything is allocated when
// the result would pass the string-bytes limit. (Lua 5.1's string.rep has
// no separator argument; a third argument is ignored, as there.)
func (s *stdlib) strRep(L *lua.LState) int {
	str := checkString(L, 1)
	n := checkInteger(L, 2)
	if n <= 0 || str == "" {
		L.Push(lua.LString(""))
		return 1
	}
	if n > s.limits.MaxStringBytes/int64(len(str)) {
		raiseLimit(L, "string.rep", "string-bytes", s.limits.MaxStringBytes,
			fmt.Sprintf("a result of %d x %d bytes", n, len(str)))
	}
	L.Push(lua.LString(strings.Repeat(str, int(n))))
	return 1
}

// strFormat is Lua 5.1's string.format: C's conversions %c %d %i %o %u %x
// %X %e %E %f %g %G %q %s, at most five flags, a width and a precision of
// at most two digits each, numbers converted to C's integer types as
// x86-64 does, %s and %c cut at a NUL byte as C's sprintf does (a string of
// 100 bytes or more with no precision is copied whole), and %q writing a
// string that reads back.
func (s *stdlib) strFormat(L *lua.LState) int {
	format := checkString(L, 1)
	top := L.GetTop()
	arg := 1
	buf := make([]byte, 0, len(format)+16)
	for i := 0; i < len(format); {
		c := format[i]
		i++
		if c != '%' {
			buf = append(buf, c)
			continue
		}
		if i < len(format) && format[i] == '%' {
			buf = append(buf, '%')
			i++
			continue
		}
		arg++
		if arg > top {
			argError(L, arg, "no value")
		}
		sp, next := scanFormat(L, format, i)
		i = next
		conv := byte(0)
		if i < len(format) {
			conv = format[i]
		}
		i++
		buf = s.formatItem(L, buf, sp, conv, arg)
		if int64(len(buf)) > s.limits.MaxStringBytes {
			raiseLimit(L, "string.format", "string-bytes", s.limits.MaxStringBytes, "the formatted string")
		}
	}
	L.Push(lua.LString(buf))
	return 1
}

// scanFormat reads the flags, width and precision of a conversion that
// starts at format[i], with Lua 5.1's limits.
func scanFormat(L *lua.LState, format string, i int) (printfSpec, int) {
	sp := printfSpec{prec: -1}
	start := i
	for i < len(format) && strings.IndexByte("-+ #0", format[i]) >= 0 {
		switch format[i] {
		case '-':
			sp.minus = true
		case '+':
			sp.plus = true
		case ' ':
			sp.space = true
		case '#':
			sp.hash = true
		case '0':
			sp.zero = true
		}
		i++
	}
	if i-start > 5 {
		raisef(L, "invalid format (repeated flags)")
	}
	digits := func() int {
		n := 0
		for k := 0; k < 2 && i < len(format) && isDigit(format[i]); k++ {
			n = n*10 + int(format[i]-'0')
			i++
		}
		return n
	}
	sp.width = digits()
	if i < len(format) && format[i] == '.' {
		i++
		sp.prec = digits()
	}
	if i < len(format) && isDigit(format[i]) {
		raisef(L, "invalid format (width or precision too long)")
	}
	return sp, i
}

// formatItem appends argument arg converted by conv.
func (s *stdlib) formatItem(L *lua.LState, buf []byte, sp printfSpec, conv byte, arg int) []byte {
	switch conv {
	case 'c':
		c := byte(toInt32(checkNumber(L, arg)))
		return cutAtNUL(buf, sp.pad(nil, "", string([]byte{c}), false))
	case 'd', 'i':
		return appendInt(buf, sp, toInt64(checkNumber(L, arg)))
	case 'o', 'u', 'x', 'X':
		return appendUint(buf, sp, conv, toUint64(checkNumber(L, arg)))
	case 'e', 'E', 'f', 'g', 'G':
		return appendFloat(buf, sp, conv, checkNumber(L, arg))
	case 'q':
		str := checkString(L, arg)
		s.checkRoom(L, len(buf), quotedLen(str))
		return appendQuoted(buf, str)
	case 's':
		str := checkString(L, arg)
		s.checkRoom(L, len(buf), len(str))
		if sp.prec < 0 && len(str) >= 100 {
			return append(buf, str...)
		}
		if i := strings.IndexByte(str, 0); i >= 0 {
			str = str[:i]
		}
		if sp.prec >= 0 && len(str) > sp.prec {
			str = str[:sp.prec]
		}
		return sp.pad(buf, "", str, false)
	}
	if conv == 0 {
		raisef(L, "invalid option '%%' to 'format'")
	}
	raisef(L, "invalid option '%%%c' to 'format'", conv)
	return buf
}

// checkRoom raises before string.format appends n bytes to a result of
// have bytes past the string-bytes limit.
func (s *stdlib) checkRoom(L *lua.LState, have, n int) {
	if int64(have)+int64(n) > s.limits.MaxStringBytes {
		raiseLimit(L, "string.format", "string-bytes", s.limits.MaxStringBytes, "the formatted string")
	}
}

// cutAtNUL appends item up to its first NUL byte: C's sprintf result is
// measured with strlen.
func cutAtNUL(buf []byte, item []byte) []byte {
	for i, c := range item {
		if c == 0 {
			return append(buf, item[:i]...)
		}
	}
	return append(buf, item...)
}

// quotedLen is the length of str written by %q.
func quotedLen(str string) int {
	n := len(str) + 2
	for i := 0; i < len(str); i++ {
		switch str[i] {
		case '"', '\\', '\n', '\r':
			n++
		case 0:
			n += 3
		}
	}
	return n
}

// appendQuoted is %q: Lua 5.1 escapes only '"', '\\', newline (as a
// backslash and a real newline), carriage return (\r) and NUL (\000); all
// other bytes are copied, and the result reads back as the same string.
func appendQuoted(buf []byte, str string) []byte {
	buf = append(buf, '"')
	for i := 0; i < len(str); i++ {
		switch c := str[i]; c {
		case '"', '\\', '\n':
			buf = append(buf, '\\', c)
		case '\r':
			buf = append(buf, '\\', 'r')
		case 0:
			buf = append(buf, '\\', '0', '0', '0')
		default:
			buf = append(buf, c)
		}
	}
	return append(buf, '"')
}
