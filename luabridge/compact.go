package luabridge

import lua "github.com/yuin/gopher-lua"

// compactProto trims the slices of a compiled chunk and of every function
// inside it to their length. gopher-lua's compiler leaves each function's
// code and line tables in the 1024-entry arrays it compiled them into, so
// a one-line app kept 35 KB alive; trimmed, it keeps about 3 KB
// (docs/PERFORMANCE.md, "10,000 plugins"). A program keeps its chunks for as
// long as it serves, so this matters to a host with thousands of them.
//
// It must run before the proto is shared: it replaces the slices, not their
// contents, and a FunctionProto is read-only from then on.
func compactProto(p *lua.FunctionProto) {
	p.Code = trimmed(p.Code)
	p.DbgSourcePositions = trimmed(p.DbgSourcePositions)
	p.Constants = trimmed(p.Constants)
	p.DbgLocals = trimmed(p.DbgLocals)
	p.DbgCalls = trimmed(p.DbgCalls)
	p.DbgUpvalues = trimmed(p.DbgUpvalues)
	p.FunctionPrototypes = trimmed(p.FunctionPrototypes)
	for _, child := range p.FunctionPrototypes {
		compactProto(child)
	}
}

// trimmed returns s in an array of its own length, or nil when s is empty
// (an empty slice of a larger array would keep the array alive).
func trimmed[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	if len(s) == cap(s) {
		return s
	}
	return append(make([]T, 0, len(s)), s...)
}

// typeMetatable is LState.NewTypeMetatable with a table sized for its
// fields: gopher-lua's NewTable reserves room for 32 array items and 32
// keys, about 3 KB, and every state makes several such metatables.
func typeMetatable(L *lua.LState, name string, fields int) *lua.LTable {
	reg := L.Get(lua.RegistryIndex).(*lua.LTable)
	if mt, ok := reg.RawGetString(name).(*lua.LTable); ok {
		return mt
	}
	mt := L.CreateTable(0, fields)
	reg.RawSetString(name, mt)
	return mt
}
