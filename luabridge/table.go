package luabridge

import (
	"reflect"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
)

// gopher-lua's LTable keeps, beside its string map, an insertion-ordered key
// list and a key-to-index map for next(). CreateTable sizes only the string
// map, so filling a 25-key environ grows the other two from empty on every
// request: about 40% of building environ (BenchmarkEnvironTable). presize
// gives them their final size up front. It reaches the unexported fields
// through reflection, checked once against the gopher-lua version in
// go.mod; if the layout ever differs it does nothing and tables grow as
// before (TestPresizeActive fails then, so an upgrade notices).
var presize = newPresizer()

type presizer struct {
	keysOffset, k2iOffset uintptr
	keysType, k2iType     reflect.Type
	ok                    bool
}

func newPresizer() presizer {
	t := reflect.TypeOf(lua.LTable{})
	keys, ok1 := t.FieldByName("keys")
	k2i, ok2 := t.FieldByName("k2i")
	lvalue := reflect.TypeOf((*lua.LValue)(nil)).Elem()
	if !ok1 || !ok2 || keys.Type != reflect.SliceOf(lvalue) || k2i.Type != reflect.MapOf(lvalue, reflect.TypeOf(0)) {
		return presizer{}
	}
	return presizer{keysOffset: keys.Offset, k2iOffset: k2i.Offset, keysType: keys.Type, k2iType: k2i.Type, ok: true}
}

// newTable returns an empty table ready for n string keys.
func (p presizer) newTable(L *lua.LState, n int) *lua.LTable {
	t := L.CreateTable(0, n)
	if p.ok {
		base := unsafe.Pointer(t)
		*(*[]lua.LValue)(unsafe.Add(base, p.keysOffset)) = make([]lua.LValue, 0, n)
		*(*map[lua.LValue]int)(unsafe.Add(base, p.k2iOffset)) = make(map[lua.LValue]int, n)
	}
	return t
}
