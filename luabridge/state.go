package luabridge

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// State is one Lua state running one instance of an app. It is used by one
// request at a time; get it from a [Pool] and give it back with [Pool.Put].
type State struct {
	lstate *lua.LState
	prog   *Program
	app    lua.LValue

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

	headers     []headerField         // scratch space reused by each request
	headerNames nameCache             // response header names checked already
	boxed       map[string]lua.LValue // see envValue

	std         *stdlib     // the state's standard library (io output to flush)
	hostModules *lua.LTable // the host's modules, by name; see modules.go

	served    int // requests served so far
	maxServed int // retire the state after this many requests; 0: never

	requestID string // the id of the request being served; see RequestID

	shape          environShape   // what its environ tables share (table.go)
	x              exchange       // the request being served
	startG, writeG lua.LGFunction // start_response and write, made once

	lastLength     int64 // the body length lengthText wrote last
	lastLengthText string
}

// lengthText is strconv.FormatInt(n, 10), kept for the next response: an
// app's responses often have the same length.
func (s *State) lengthText(n int64) string {
	if n != s.lastLength || s.lastLengthText == "" {
		s.lastLength, s.lastLengthText = n, strconv.FormatInt(n, 10)
	}
	return s.lastLengthText
}

// registryStart is the number of value-stack slots a new state starts
// with; the stack grows by as many at a time, up to RegistryMaxSize. A
// request of a typical app uses a few hundred; starting at 4096, as before,
// cost 64 KB per state, the largest part of an idle state
// (docs/PERFORMANCE.md, "10,000 plugins").
const registryStart = 512

// initTimeout bounds how long an app's main chunk may run when a state is
// created, so that a top-level endless loop cannot hang the host.
const initTimeout = 10 * time.Second

// newState opens a Lua state, runs the program's main chunk in it and finds
// the app. The returned error names the file and line where it can.
func (p *Program) newState(ctx context.Context) (*State, error) {
	L := lua.NewState(lua.Options{
		SkipOpenLibs:     true,
		CallStackSize:    256,
		RegistrySize:     registryStart,
		RegistryGrowStep: registryStart,
		RegistryMaxSize:  1024 * 256,
	})
	s := &State{lstate: L, prog: p, maxServed: p.stateMaxRequests(), headerNames: make(nameCache)}
	s.startG, s.writeG = s.x.startResponse, s.x.write
	s.register()
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
	p.warnShadows(s.adoptHostModules())
	app, err := s.instantiate(ctx)
	if err != nil {
		L.Close()
		return nil, err
	}
	s.app = app
	return s, nil
}

// OpenLibs opens the standard library in a state made with SkipOpenLibs:
// with trust, all of it; otherwise the safe subset apps get (base,
// package, table, string, math, coroutine, os.time, os.clock, os.date and
// os.difftime, an io library that writes to the log and opens nothing, and
// a read-only debug.getinfo and debug.traceback), with package.path emptied
// so that require finds only preloaded modules. Functions that differ from
// Lua 5.1 in gopher-lua are replaced (docs/modules/README.md). A host
// still has to decide what dofile and loadfile do; the bridge's own states
// limit them to the app's folder.
func OpenLibs(L *lua.LState, trust bool) error {
	return OpenLibsWith(L, LibOptions{Trust: trust})
}

// openLibs opens the standard library (the safe subset unless the program
// is trusted), installs require's search order and the host's dofile and
// loadfile, limited to the app's folder.
func (s *State) openLibs() error {
	L := s.lstate
	std, err := openStdlib(L, LibOptions{Trust: s.prog.opts.Trust, Limits: s.prog.opts.Limits,
		Logger: s.prog.opts.Logger, App: s.prog.name})
	if err != nil {
		return err
	}
	s.std = std
	L.SetGlobal("dofile", L.NewFunction(s.luaDofile))
	L.SetGlobal("loadfile", L.NewFunction(s.luaLoadfile))
	s.installSearchers()

	s.resume = L.GetField(L.GetGlobal(lua.CoroutineLibName), "resume").(*lua.LFunction)
	s.inputMeta = newInputMeta(L)
	s.errorsMeta = newErrorsMeta(L)
	return nil
}

// instantiate runs the main chunk and returns the app it defines: its first
// return value, or else the global "application".
func (s *State) instantiate(ctx context.Context) (lua.LValue, error) {
	L := s.lstate
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
		_, ok := s.lstate.GetMetaField(v, "__call").(*lua.LFunction)
		return ok
	}
	return false
}

// close releases the Lua state, after logging what its io output still
// holds.
func (s *State) close() {
	s.std.flush()
	s.lstate.Close()
}

// spent reports whether the state has served its StateMaxRequests.
func (s *State) spent() bool { return s.maxServed > 0 && s.served >= s.maxServed }

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
