package luabridge

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// State is one Lua state running one instance of an app. It is used by one
// request at a time; get it from a [Pool] and give it back with [Pool.Put].
type State struct {
	L    *lua.LState
	prog *Program
	app  lua.LValue

	// resume is coroutine.resume as the standard library defined it, kept
	// before the app could replace the global (gopher-lua cannot resume a
	// coroutine created in Lua from Go directly).
	resume *lua.LFunction

	inputMeta  *lua.LTable
	errorsMeta *lua.LTable

	// broken is set when the state was interrupted mid-call (a timeout or
	// a cancelled context): its Lua stack may be inconsistent, so the pool
	// discards it instead of reusing it.
	broken bool

	headers []headerField         // scratch space reused by each request
	boxed   map[string]lua.LValue // see envValue
}

// initTimeout bounds how long an app's main chunk may run when a state is
// created, so that a top-level endless loop cannot hang the host.
const initTimeout = 10 * time.Second

// safeOS lists the os functions an untrusted app may use: clocks and dates,
// nothing that touches files, processes or the environment.
var safeOS = []string{"time", "clock", "date", "difftime"}

// newState opens a Lua state, runs the program's main chunk in it and finds
// the app. The returned error names the file and line where it can.
func (p *Program) newState(ctx context.Context) (*State, error) {
	L := lua.NewState(lua.Options{
		SkipOpenLibs:    true,
		CallStackSize:   256,
		RegistrySize:    1024 * 4,
		RegistryMaxSize: 1024 * 256,
	})
	s := &State{L: L, prog: p}
	if err := s.openLibs(); err != nil {
		L.Close()
		return nil, fmt.Errorf("luabridge: open libraries for %s: %w", p.name, err)
	}
	if p.opts.Setup != nil {
		if err := p.opts.Setup(L); err != nil {
			L.Close()
			return nil, fmt.Errorf("luabridge: set up state for %s: %w", p.name, err)
		}
	}
	app, err := s.instantiate(ctx)
	if err != nil {
		L.Close()
		return nil, err
	}
	s.app = app
	return s, nil
}

// lib is one library of the Lua standard library.
type lib struct {
	name string
	open lua.LGFunction
}

var (
	safeLibs = []lib{
		{lua.BaseLibName, lua.OpenBase},
		{lua.LoadLibName, lua.OpenPackage},
		{lua.TabLibName, lua.OpenTable},
		{lua.StringLibName, lua.OpenString},
		{lua.MathLibName, lua.OpenMath},
		{lua.CoroutineLibName, lua.OpenCoroutine},
		{lua.OsLibName, lua.OpenOs},
	}
	trustedLibs = []lib{{lua.IoLibName, lua.OpenIo}, {lua.DebugLibName, lua.OpenDebug}}
)

// OpenLibs opens the standard library in a state made with SkipOpenLibs:
// with trust, all of it; otherwise the safe subset apps get (base,
// package, table, string, math, coroutine, and os.time, os.clock, os.date
// and os.difftime), with package.path emptied so that require finds only
// preloaded modules. A host still has to decide what dofile, loadfile and
// print do; the bridge's own states limit them to the app's folder and the
// log.
func OpenLibs(L *lua.LState, trust bool) error {
	libs := safeLibs
	if trust {
		libs = append(append([]lib{}, safeLibs...), trustedLibs...)
	}
	for _, lib := range libs {
		if err := L.CallByParam(lua.P{Fn: L.NewFunction(lib.open), NRet: 0, Protect: true}, lua.LString(lib.name)); err != nil {
			return fmt.Errorf("luabridge: open %s: %w", lib.name, err)
		}
	}
	openEngineFixes(L)
	openPatternFunctions(L, 0, 0) // bounded string.find, match, gmatch and gsub (strpattern.go)
	if trust {
		return nil
	}
	// Keep only the clock and date functions of os.
	full := L.GetGlobal(lua.OsLibName).(*lua.LTable)
	safe := L.CreateTable(0, len(safeOS))
	for _, name := range safeOS {
		safe.RawSetString(name, full.RawGetString(name))
	}
	L.SetGlobal(lua.OsLibName, safe)
	L.SetField(L.GetField(L.Get(lua.RegistryIndex), "_LOADED"), lua.OsLibName, safe)
	pkg := L.GetGlobal(lua.LoadLibName).(*lua.LTable)
	pkg.RawSetString("path", lua.LString(""))
	pkg.RawSetString("loadlib", lua.LNil)
	L.SetGlobal("dofile", lua.LNil)
	L.SetGlobal("loadfile", lua.LNil)
	return nil
}

// openLibs opens the standard library (the safe subset unless the program
// is trusted) and installs the host's replacements for print, require's file
// loader, dofile and loadfile.
func (s *State) openLibs() error {
	L := s.L
	if err := OpenLibs(L, s.prog.opts.Trust); err != nil {
		return err
	}
	setLimits(L, s.prog.opts.Limits)

	L.SetGlobal("print", L.NewFunction(s.luaPrint))
	L.SetGlobal("dofile", L.NewFunction(s.luaDofile))
	L.SetGlobal("loadfile", L.NewFunction(s.luaLoadfile))

	// require: the preload searcher, then the app's folder; trusted apps
	// also keep gopher-lua's own search of package.path.
	pkg := L.GetGlobal(lua.LoadLibName).(*lua.LTable)
	loaders := pkg.RawGetString("loaders").(*lua.LTable)
	fileLoader := loaders.RawGetInt(2)
	loaders.RawSetInt(2, L.NewFunction(s.loadModule))
	if s.prog.opts.Trust {
		loaders.RawSetInt(3, fileLoader)
	}

	s.resume = L.GetField(L.GetGlobal(lua.CoroutineLibName), "resume").(*lua.LFunction)
	s.inputMeta = newInputMeta(L)
	s.errorsMeta = newErrorsMeta(L)
	return nil
}

// instantiate runs the main chunk and returns the app it defines: its first
// return value, or else the global "application".
func (s *State) instantiate(ctx context.Context) (lua.LValue, error) {
	L := s.L
	ctx, cancel := context.WithTimeout(ctx, initTimeout)
	defer cancel()
	L.SetContext(ctx)
	defer L.RemoveContext()

	L.Push(L.NewFunctionFromProto(s.prog.proto))
	if err := L.PCall(0, 1, nil); err != nil {
		return nil, &LoadError{App: s.prog.name, File: s.prog.chunk, Err: luaError(err, ctx)}
	}
	app := L.Get(-1)
	L.Pop(1)
	if app == lua.LNil {
		app = L.GetGlobal("application")
	}
	if !s.callable(app) {
		return nil, &LoadError{App: s.prog.name, File: s.prog.chunk, Err: fmt.Errorf(
			"%s:%d: returned no app (got %s): end the file with `return function(environ, start_response) ... end`, or define a global `application`",
			s.prog.chunk, s.prog.lines, describe(app))}
	}
	if wrap := s.prog.opts.Wrap; wrap != nil {
		wrapped, err := wrap(L, app)
		if err != nil {
			return nil, &LoadError{App: s.prog.name, File: s.prog.chunk, Err: err}
		}
		app = wrapped
	}
	return app, nil
}

// callable reports whether v can be called: a function, or a table or
// userdata whose metatable has __call.
func (s *State) callable(v lua.LValue) bool {
	switch v.(type) {
	case *lua.LFunction:
		return true
	case *lua.LTable, *lua.LUserData:
		_, ok := s.L.GetMetaField(v, "__call").(*lua.LFunction)
		return ok
	}
	return false
}

// close releases the Lua state.
func (s *State) close() { s.L.Close() }

// LoadError reports an app whose main chunk failed to run or returned no app.
type LoadError struct {
	App  string
	File string
	Err  error
}

func (e *LoadError) Error() string {
	msg := e.Err.Error()
	if strings.HasPrefix(msg, e.File) {
		return msg // the Lua message already starts with "file:line:"
	}
	return e.File + ": " + msg
}

func (e *LoadError) Unwrap() error { return e.Err }

// luaPrint replaces print: output goes to the host's log, tagged with the
// app, never to stdout (which is the response under CGI).
func (s *State) luaPrint(L *lua.LState) int {
	n := L.GetTop()
	var b strings.Builder
	for i := 1; i <= n; i++ {
		if i > 1 {
			b.WriteByte('\t')
		}
		b.WriteString(L.ToStringMeta(L.Get(i)).String())
	}
	s.prog.opts.Logger.Info(b.String(), "app", s.prog.name, "via", "print")
	return 0
}

// appFile resolves a file name given by Lua code to a path in the app's
// folder, refusing anything that would leave it.
func (s *State) appFile(L *lua.LState, fn string, name string) string {
	if s.prog.opts.FS == nil {
		L.RaiseError("%s: %q: this app has no folder to load files from", fn, name)
	}
	clean := path.Clean(strings.TrimPrefix(name, "./"))
	if !fs.ValidPath(clean) {
		L.RaiseError("%s: %q is outside the app's folder", fn, name)
	}
	return clean
}

func (s *State) loadAppFile(L *lua.LState, fn string, name string) (*lua.LFunction, error) {
	file := s.appFile(L, fn, name)
	proto, err := s.prog.compileFile(file)
	if err != nil {
		return nil, err
	}
	return L.NewFunctionFromProto(proto), nil
}

// luaDofile is dofile limited to the app's folder.
func (s *State) luaDofile(L *lua.LState) int {
	name := L.CheckString(1)
	fn, err := s.loadAppFile(L, "dofile", name)
	if err != nil {
		L.RaiseError("dofile: %s", err.Error())
	}
	top := L.GetTop()
	L.Push(fn)
	L.Call(0, lua.MultRet)
	return L.GetTop() - top
}

// luaLoadfile is loadfile limited to the app's folder.
func (s *State) luaLoadfile(L *lua.LState) int {
	name := L.CheckString(1)
	fn, err := s.loadAppFile(L, "loadfile", name)
	if err != nil {
		L.Push(lua.LNil)
		L.Push(lua.LString(err.Error()))
		return 2
	}
	L.Push(fn)
	return 1
}

// loadModule is require's searcher for the app's folder.
func (s *State) loadModule(L *lua.LState) int {
	module := L.CheckString(1)
	file, ok := s.prog.findModule(module)
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

// luaError turns an error from a protected Lua call into an error that says
// what happened: the Lua message with its traceback, or a timeout.
func luaError(err error, ctx context.Context) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("interrupted: %w", cerr)
	}
	var aerr *lua.ApiError
	if errors.As(err, &aerr) {
		return &LuaError{Message: safeString(aerr.Object), Traceback: aerr.StackTrace, Value: aerr.Object}
	}
	return err
}

// LuaError is an error raised by Lua code.
type LuaError struct {
	Message   string     // the error value as text, truncated when huge
	Traceback string     // Lua stack traceback
	Value     lua.LValue // the error value itself, identity kept
}

func (e *LuaError) Error() string { return e.Message }

// maxErrorText bounds error text copied into logs: an app may raise
// megabytes.
const maxErrorText = 8 << 10

// safeString renders an error value as text without running Lua code
// (a __tostring metamethod could itself raise or loop).
func safeString(v lua.LValue) string {
	var s string
	switch v := v.(type) {
	case lua.LString:
		s = string(v)
	case lua.LNumber, lua.LBool:
		s = v.String()
	case *lua.LNilType:
		s = "nil"
	default:
		s = fmt.Sprintf("(error object of type %s)", v.Type())
	}
	if len(s) > maxErrorText {
		s = s[:maxErrorText] + "... (truncated)"
	}
	return s
}

// describe names a value's type for error messages.
func describe(v lua.LValue) string {
	switch v := v.(type) {
	case lua.LString:
		return fmt.Sprintf("a string (%d bytes)", len(v))
	case *lua.LNilType:
		return "nil"
	default:
		return "a " + v.Type().String()
	}
}
