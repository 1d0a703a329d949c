package lualib

// This file offers stand-ins for modules that pure-Lua libraries expect to
// find installed beside them, written in C or for another engine: lfs
// (LuaFileSystem) and coxpcall. A stand-in is found only when nothing else
// provides the module: require's searcher for it runs after the app's
// folder (and, under --trust, after package.path), so an app that ships its
// own coxpcall.lua gets its own.

import lua "github.com/yuin/gopher-lua"

// Names of the modules the toolkit stands in for.
const (
	ShimLFS      = "lfs"      // ShimLFS is the read-only LuaFileSystem subset (lfs.go).
	ShimCoxpcall = "coxpcall" // ShimCoxpcall is the coroutine-safe pcall and xpcall.
)

// shimModules maps each stand-in written in Lua to its source under lua/.
var shimModules = map[string]string{
	ShimCoxpcall: "shims/coxpcall.lua",
}

// addShimSearcher appends the stand-ins' searcher to package.loaders, so
// that it runs after every searcher the state already has.
func (s *Shared) addShimSearcher(L *lua.LState) {
	loaders, ok := L.GetField(L.GetGlobal(lua.LoadLibName), "loaders").(*lua.LTable)
	if !ok {
		panic("lualib: Preload needs the package library")
	}
	loaders.Append(L.NewFunction(s.searchShims))
}

// searchShims is require's searcher for the stand-ins: it returns the
// loader of a stand-in, or nothing (which adds no line to require's "not
// found" message: the toolkit has only these two).
func (s *Shared) searchShims(L *lua.LState) int {
	name := L.CheckString(1)
	switch {
	case name == ShimLFS:
		L.Push(L.NewFunction(s.openLFS))
	case shimModules[name] != "":
		L.Push(L.NewFunction(luaLoader(name)))
	default:
		return 0
	}
	return 1
}
