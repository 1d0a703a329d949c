package luabridge

// This file replaces the table library. gopher-lua's table.concat pushes
// every piece on the Lua stack and joins them there, which grows the stack
// one piece at a time (quadratic on the first call of a state) and raises
// "registry overflow" past the stack's maximum size; here the pieces are
// measured, checked against the string-bytes limit, and joined once.
// insert, remove, maxn, getn and sort follow Lua 5.1's ltablib.c.

import (
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// workCheckEvery is how many steps a long-running builtin takes between
// looks at the state's context, so that a request's deadline stops it.
const workCheckEvery = 1 << 14

func (s *stdlib) installTable() {
	L := s.L
	L.SetFuncs(s.module(lua.TabLibName), map[string]lua.LGFunction{
		"concat":   s.tableConcat,
		"insert":   tableInsert,
		"remove":   tableRemove,
		"maxn":     tableMaxn,
		"getn":     tableGetn,
		"setn":     tableSetn,
		"sort":     tableSort,
		"foreach":  tableForeach,
		"foreachi": tableForeachi,
	})
}

// tableForeach is Lua 5.1's deprecated table.foreach(t, f): f(k, v) for
// each pair until f returns a value other than nil, which is returned.
func tableForeach(L *lua.LState) int {
	t := checkTable(L, 1)
	f := L.Get(2)
	if _, ok := f.(*lua.LFunction); !ok {
		typeError(L, 2, "function")
	}
	for k, v := t.Next(lua.LNil); k != lua.LNil; k, v = t.Next(k) {
		L.Push(f)
		L.Push(k)
		L.Push(v)
		L.Call(2, 1)
		if r := L.Get(-1); r != lua.LNil {
			return 1
		}
		L.Pop(1)
	}
	return 0
}

// tableForeachi is Lua 5.1's deprecated table.foreachi(t, f): f(i, t[i])
// for i = 1..#t until f returns a value other than nil.
func tableForeachi(L *lua.LState) int {
	t := checkTable(L, 1)
	f := L.Get(2)
	if _, ok := f.(*lua.LFunction); !ok {
		typeError(L, 2, "function")
	}
	n := int64(L.ObjLen(t))
	for i := int64(1); i <= n; i++ {
		L.Push(f)
		L.Push(lua.LNumber(i))
		L.Push(rawGetInt(t, i))
		L.Call(2, 1)
		if r := L.Get(-1); r != lua.LNil {
			return 1
		}
		L.Pop(1)
	}
	return 0
}

// checkContext raises when the state's context is done (a deadline or a
// cancelled request), for builtins that loop in Go.
func checkContext(L *lua.LState) {
	if ctx := L.Context(); ctx != nil && ctx.Err() != nil {
		L.RaiseError("interrupted: %s", ctx.Err().Error())
	}
}

// tableConcat is table.concat(t [, sep [, i [, j]]]) in linear time.
func (s *stdlib) tableConcat(L *lua.LState) int {
	t := checkTable(L, 1)
	sep := optString(L, 2, "")
	i := int64(optInt(L, 3, 1))
	var j int64
	if isNoneOrNil(L, 4) {
		j = int64(t.Len())
	} else {
		j = int64(checkInt(L, 4))
	}
	if i > j {
		L.Push(lua.LString(""))
		return 1
	}
	// First pass: check every piece and measure the result.
	pieces := make([]string, 0, min(j-i+1, 1<<16))
	total := int64(0)
	for k := i; k <= j; k++ {
		v := rawGetInt(t, k)
		piece, ok := toText(v)
		if !ok {
			raisef(L, "invalid value (%s) at index %d in table for 'concat'", v.Type().String(), k)
		}
		total += int64(len(piece))
		if k < j {
			total += int64(len(sep))
		}
		if total > s.limits.MaxStringBytes {
			raiseLimit(L, "table.concat", "string-bytes", s.limits.MaxStringBytes, "the joined string")
		}
		pieces = append(pieces, piece)
		if (k-i)%workCheckEvery == workCheckEvery-1 {
			checkContext(L)
		}
	}
	var b strings.Builder
	b.Grow(int(total))
	for n, piece := range pieces {
		if n > 0 {
			b.WriteString(sep)
		}
		b.WriteString(piece)
	}
	L.Push(lua.LString(b.String()))
	return 1
}

// rawSetInt sets t[i] without metamethods for any integer i.
func rawSetInt(t *lua.LTable, i int64, v lua.LValue) {
	if i >= 1 && i < int64(lua.MaxArrayIndex) {
		t.RawSetInt(int(i), v)
		return
	}
	t.RawSet(lua.LNumber(i), v)
}

// tableInsert is table.insert(t, [pos,] v): with a position, the elements
// from pos up move one place up.
func tableInsert(L *lua.LState) int {
	t := checkTable(L, 1)
	e := int64(L.ObjLen(t)) + 1
	var pos int64
	switch L.GetTop() {
	case 2:
		pos = e
	case 3:
		pos = int64(checkInt(L, 2))
		if pos > e {
			e = pos
		}
		for i := e; i > pos; i-- {
			rawSetInt(t, i, rawGetInt(t, i-1))
			if (e-i)%workCheckEvery == workCheckEvery-1 {
				checkContext(L)
			}
		}
	default:
		raisef(L, "wrong number of arguments to 'insert'")
	}
	rawSetInt(t, pos, L.Get(L.GetTop()))
	return 0
}

// tableRemove is table.remove(t [, pos]): nothing is returned when pos is
// outside 1..#t.
func tableRemove(L *lua.LState) int {
	t := checkTable(L, 1)
	e := int64(L.ObjLen(t))
	pos := int64(optInt(L, 2, int(e)))
	if pos < 1 || pos > e {
		return 0
	}
	v := rawGetInt(t, pos)
	for ; pos < e; pos++ {
		rawSetInt(t, pos, rawGetInt(t, pos+1))
	}
	rawSetInt(t, e, lua.LNil)
	L.Push(v)
	return 1
}

// tableMaxn is the largest positive numeric key, integer or not.
func tableMaxn(L *lua.LState) int {
	t := checkTable(L, 1)
	best := 0.0
	n := 0
	for k, _ := t.Next(lua.LNil); k != lua.LNil; k, _ = t.Next(k) {
		if f, ok := k.(lua.LNumber); ok && float64(f) > best {
			best = float64(f)
		}
		if n++; n%workCheckEvery == 0 {
			checkContext(L)
		}
	}
	L.Push(lua.LNumber(best))
	return 1
}

func tableGetn(L *lua.LState) int {
	L.Push(lua.LNumber(L.ObjLen(checkTable(L, 1))))
	return 1
}

// tableSetn is Lua 5.1's table.setn, which exists only to say it is
// obsolete.
func tableSetn(L *lua.LState) int {
	checkTable(L, 1)
	raisef(L, "'setn' is obsolete")
	return 0
}

// sorter is Lua 5.1's table.sort: the same quicksort, so that elements
// that compare equal end up in the same order as under Lua 5.1, and the
// same "invalid order function for sorting" when the comparison is not a
// strict order.
type sorter struct {
	L     *lua.LState
	t     *lua.LTable
	less  lua.LValue // the order function, or nil for <
	steps int
}

func tableSort(L *lua.LState) int {
	t := checkTable(L, 1)
	n := L.ObjLen(t)
	var less lua.LValue = lua.LNil
	if !isNoneOrNil(L, 2) {
		if _, ok := L.Get(2).(*lua.LFunction); !ok {
			typeError(L, 2, "function")
		}
		less = L.Get(2)
	}
	so := &sorter{L: L, t: t, less: less}
	so.sort(1, n)
	return 0
}

func (so *sorter) get(i int) lua.LValue { return rawGetInt(so.t, int64(i)) }

func (so *sorter) set(i int, v lua.LValue) { rawSetInt(so.t, int64(i), v) }

// lt compares as the order function or the < operator does.
func (so *sorter) lt(a, b lua.LValue) bool {
	if so.steps++; so.steps%workCheckEvery == 0 {
		checkContext(so.L)
	}
	if so.less == lua.LNil {
		return lessThan(so.L, a, b)
	}
	L := so.L
	L.Push(so.less)
	L.Push(a)
	L.Push(b)
	L.Call(2, 1)
	r := lua.LVAsBool(L.Get(-1))
	L.Pop(1)
	return r
}

// lessThan is Lua 5.1's a < b as the sort sees it: numbers and strings
// compare; other values need the same __lt metamethod. An error carries
// no position, as errors raised inside a C function do in Lua 5.1.
func lessThan(L *lua.LState, a, b lua.LValue) bool {
	if a.Type() == b.Type() {
		switch a := a.(type) {
		case lua.LNumber:
			return a < b.(lua.LNumber)
		case lua.LString:
			return a < b.(lua.LString)
		}
		if tm := L.GetMetaField(a, "__lt"); tm != lua.LNil && L.RawEqual(tm, L.GetMetaField(b, "__lt")) {
			L.Push(tm)
			L.Push(a)
			L.Push(b)
			L.Call(2, 1)
			r := lua.LVAsBool(L.Get(-1))
			L.Pop(1)
			return r
		}
	}
	ta, tb := a.Type().String(), b.Type().String()
	if ta == tb {
		L.Error(lua.LString("attempt to compare two "+ta+" values"), 0)
	}
	L.Error(lua.LString("attempt to compare "+ta+" with "+tb), 0)
	return false
}

func (so *sorter) invalidOrder() {
	raisef(so.L, "invalid order function for sorting")
}

// sort sorts t[l..u]: recursion on the smaller part, a loop on the larger.
func (so *sorter) sort(l, u int) {
	for l < u {
		// Order t[l], t[(l+u)/2] and t[u]; the middle one is the pivot.
		if so.lt(so.get(u), so.get(l)) {
			so.swap(l, u)
		}
		if u-l == 1 {
			return
		}
		m := (l + u) / 2
		if so.lt(so.get(m), so.get(l)) {
			so.swap(m, l)
		} else if so.lt(so.get(u), so.get(m)) {
			so.swap(m, u)
		}
		if u-l == 2 {
			return
		}
		pivot := so.get(m)
		so.swap(m, u-1)
		i := so.partition(l, u, pivot)
		so.swap(u-1, i)
		// t[l..i-1] <= t[i] == pivot <= t[i+1..u]
		if i-l < u-i {
			so.sort(l, i-1)
			l = i + 1
		} else {
			so.sort(i+1, u)
			u = i - 1
		}
	}
}

// partition moves the elements below pivot to the left of the ones above
// it, within t[l+1..u-2], and returns where they meet.
func (so *sorter) partition(l, u int, pivot lua.LValue) int {
	i, j := l, u-1
	for {
		for i++; so.lt(so.get(i), pivot); i++ {
			if i > u {
				so.invalidOrder()
			}
		}
		for j--; so.lt(pivot, so.get(j)); j-- {
			if j < l {
				so.invalidOrder()
			}
		}
		if j < i {
			return i
		}
		so.swap(i, j)
	}
}

func (so *sorter) swap(i, j int) {
	a, b := so.get(i), so.get(j)
	so.set(i, b)
	so.set(j, a)
}
