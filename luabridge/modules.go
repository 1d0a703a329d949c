package luabridge

// This file implements require's search order (docs/SPEC.md, "The Lua
// environment"):
//
//  1. names under "lsgi." are the host's and nothing can shadow them;
//  2. package.preload, as in Lua 5.1 (entries the app itself adds);
//  3. the app's own folder;
//  4. the host's other modules ("json", and Go modules of an embedding
//     host);
//  5. with --trust, package.path, as gopher-lua searches it.
//
// So an app that ships its own json.lua gets it, and the toolkit's JSON
// module stays reachable as lsgi.json. A warning is logged once per app
// version when a file of the app has the name of a host module.

import (
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/lsgi/lsgi/luabridge/appfs"
	lua "github.com/yuin/gopher-lua"
)

// hostPrefix starts the names reserved for the host's modules.
const hostPrefix = "lsgi."

// isHostName reports whether a module name belongs to the host alone.
func isHostName(name string) bool { return name == "lsgi" || strings.HasPrefix(name, hostPrefix) }

// installSearchers sets package.loaders to the search order above. The
// host's modules live in s.hostModules, filled by adoptHostModules once the
// host has preloaded them.
func (s *State) installSearchers() {
	L := s.lstate
	pkg := L.GetGlobal(lua.LoadLibName).(*lua.LTable)
	old := pkg.RawGetString("loaders").(*lua.LTable)
	preload, pathLoader := old.RawGetInt(1), old.RawGetInt(2)
	s.hostModules = L.CreateTable(0, 64)
	loaders := L.CreateTable(5, 0)
	loaders.Append(L.NewFunction(s.searchHost(true)))
	loaders.Append(preload)
	loaders.Append(L.NewFunction(s.loadModule))
	loaders.Append(L.NewFunction(s.searchHost(false)))
	if s.prog.opts.Trust {
		loaders.Append(pathLoader)
	}
	pkg.RawSetString("loaders", loaders)
	L.SetField(L.Get(lua.RegistryIndex), "_LOADERS", loaders)
}

// searchHost returns the searcher for the host's modules: those under
// lsgi. (reserved) or the others.
func (s *State) searchHost(reserved bool) lua.LGFunction {
	return func(L *lua.LState) int {
		name := L.CheckString(1)
		if isHostName(name) != reserved {
			L.Push(lua.LString(""))
			return 1
		}
		if loader := s.hostModules.RawGetString(name); loader != lua.LNil {
			L.Push(loader)
			return 1
		}
		if reserved {
			L.Push(lua.LString(fmt.Sprintf("\n\tno host module '%s' (names under %s belong to the host)", name, hostPrefix)))
		} else {
			L.Push(lua.LString(fmt.Sprintf("\n\tno host module '%s'", name)))
		}
		return 1
	}
}

// adoptHostModules moves what the host preloaded (the toolkit, modules of
// an embedding host) from package.preload to the host's own table, leaving
// package.preload to the app.
func (s *State) adoptHostModules() []string {
	pkg := s.lstate.GetGlobal(lua.LoadLibName).(*lua.LTable)
	preload, ok := pkg.RawGetString("preload").(*lua.LTable)
	if !ok {
		return nil
	}
	var names []string
	preload.ForEach(func(k, v lua.LValue) {
		if name, ok := k.(lua.LString); ok {
			s.hostModules.RawSetString(string(name), v)
			names = append(names, string(name))
		}
	})
	pkg.RawSetString("preload", s.lstate.CreateTable(0, 0))
	sort.Strings(names)
	return names
}

// warnShadows logs, once per program, each app file that has the name of a
// host module: the app's file wins, except under lsgi., where it is
// ignored.
func (p *Program) warnShadows(hostNames []string) {
	p.shadowOnce.Do(func() {
		dirs := map[string]bool{} // first segments of dotted names: is there such a folder?
		for _, name := range hostNames {
			// lsgi.router can only be lsgi/router.lua or lsgi/router/init.lua:
			// without a folder lsgi, none of the host's thirty lsgi.* names
			// costs a look (the check runs at every app's first state).
			if first, _, dotted := strings.Cut(name, "."); dotted && p.opts.FS != nil {
				has, seen := dirs[first]
				if !seen {
					st, err := fs.Stat(p.opts.FS, first)
					has = err == nil && st.IsDir()
					dirs[first] = has
				}
				if !has {
					continue
				}
			}
			file, ok, _ := p.findModule(name)
			if !ok {
				continue
			}
			if isHostName(name) {
				p.opts.Logger.Warn("app module ignored: names under "+hostPrefix+" belong to the host",
					"app", p.name, "module", name, "file", p.displayPath(file))
				continue
			}
			p.opts.Logger.Warn("app module shadows a host module: require finds the app's file first",
				"app", p.name, "module", name, "file", p.displayPath(file),
				"hint", "the host's module stays reachable under "+hostPrefix+" when it has such a name (json is lsgi.json)")
		}
	})
}

// loadModule is require's searcher for the app's folder.
func (s *State) loadModule(L *lua.LState) int {
	module := L.CheckString(1)
	if isHostName(module) {
		L.Push(lua.LString(fmt.Sprintf("\n\tno file for '%s' in the app's folder (names under %s belong to the host)", module, hostPrefix)))
		return 1
	}
	file, ok, err := s.prog.findModule(module)
	if err != nil {
		L.RaiseError("error loading module '%s': %s", module, err.Error())
	}
	if !ok {
		L.Push(lua.LString(fmt.Sprintf("\n\tno module '%s' in the app's folder", module)))
		return 1
	}
	proto, err := s.prog.compileFile(file)
	if err != nil {
		L.RaiseError("error loading module '%s': %s", module, err.Error())
	}
	L.Push(L.NewFunctionFromProto(proto))
	return 1
}

// findModule maps a module name such as "util.strings" to a file of the
// app's folder, the way package.path "?.lua;?/init.lua" would. A file
// reached through a symbolic link that leaves the folder is an error.
func (p *Program) findModule(module string) (string, bool, error) {
	if p.opts.FS == nil {
		return "", false, nil
	}
	base := strings.ReplaceAll(module, ".", "/")
	for _, candidate := range [...]string{base + ".lua", base + "/init.lua"} {
		if !fs.ValidPath(candidate) {
			continue
		}
		st, err := appfs.Stat(p.opts.FS, candidate)
		if errors.Is(err, appfs.ErrOutside) {
			return "", false, fmt.Errorf("%s: %w", p.displayPath(candidate), err)
		}
		if err == nil && !st.IsDir() {
			return candidate, true, nil
		}
	}
	return "", false, nil
}
