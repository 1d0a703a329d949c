package luabridge

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"regexp"
	"strconv"
	"sync"

	"github.com/lsgi/lsgi/luabridge/appfs"
	lua "github.com/yuin/gopher-lua"
)

// Program is one compiled version of an app: its main chunk, the folder its
// modules come from, and the options every state of it is opened with.
// Each file is compiled once; every Lua state instantiates the shared
// compiled chunks. A Program is safe for concurrent use.
type Program struct {
	name  string
	chunk string
	proto *lua.FunctionProto
	opts  ProgramOptions
	lines int // lines in the main chunk, to point at its end in errors

	mu      sync.Mutex
	modules map[string]*lua.FunctionProto // compiled modules by path in opts.FS

	shadowOnce sync.Once // see warnShadows
}

// ProgramOptions configure a [Program].
type ProgramOptions struct {
	// FS is the app's own folder: require, dofile and loadfile look only
	// here (plus the host's preloaded modules). Nil means no files.
	FS fs.FS

	// Trust opens the whole Lua standard library (io, os, debug, file
	// loading anywhere). Without it apps get the safe subset described in
	// docs/SPEC.md.
	Trust bool

	// Logger receives print output and lsgi.errors lines, tagged with the
	// app's name. Nil means slog.Default().
	Logger *slog.Logger

	// Setup, if set, runs on every new state after the standard library
	// is opened and before the app's chunk runs: the place to preload
	// host-provided modules.
	Setup func(L *lua.LState) error

	// Wrap, if set, replaces the app a state found with what it returns:
	// a middleware around every app (the validator, in development mode).
	Wrap func(L *lua.LState, app lua.LValue) (lua.LValue, error)

	// Limits bound the strings and conversions of the standard library's
	// functions in every state, and the app's Lua source (its files and
	// what it gives load and loadstring) (docs/SECURITY.md, "Limits");
	// zero fields take their defaults.
	Limits Limits

	// StateMaxRequests, if positive, closes a Lua state once it has
	// served this many requests and opens a new one on demand (gunicorn's
	// max_requests, for Lua states), so that memory an app keeps in its
	// globals, or in weak tables, which gopher-lua keeps strong, stays
	// bounded. Zero means never.
	StateMaxRequests int

	// StateMaxRequestsJitter adds a random 0 to N requests to each
	// state's StateMaxRequests, so that the states of an app are not all
	// replaced at the same moment.
	StateMaxRequestsJitter int
}

// SyntaxError reports Lua source that does not compile.
type SyntaxError struct {
	File    string // chunk name, usually the file's path
	Line    int    // 1-based
	Column  int    // 1-based; 0 when the error is at the end of the file
	Message string
}

func (e *SyntaxError) Error() string {
	if e.Column == 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Message)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Message)
}

// Compile parses and compiles Lua source with the default [Limits]; it is
// the one way source becomes a chunk (the bridge's own loaders add their
// program's limits). chunk names the source in error messages and
// tracebacks (a file's path). A first line starting with "#" is skipped, as
// the lua command does. The chunk is rewritten where gopher-lua would
// compile it wrong (multiple assignment; see rewrite.go). A syntax error is
// returned as a *[SyntaxError] carrying the file and line, source past a
// limit as a *[SourceLimitError].
func Compile(chunk string, src []byte) (*lua.FunctionProto, error) {
	return compileChunk(chunk, src, Limits{}, true, false)
}

// NewProgram compiles src, the main chunk of the app called name. chunk is
// the name errors give the source (usually its path on disk).
func NewProgram(name, chunk string, src []byte, opts ProgramOptions) (*Program, error) {
	proto, err := compileChunk(chunk, src, opts.Limits, true, false)
	if err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	warnIfNoInternals(opts.Logger)
	return &Program{name: name, chunk: chunk, proto: proto, opts: opts, lines: lineCount(src), modules: map[string]*lua.FunctionProto{}}, nil
}

// compileFile returns the compiled chunk of the file at name in the app's
// folder, compiling it on first use. Every state shares the result.
func (p *Program) compileFile(name string) (*lua.FunctionProto, error) {
	p.mu.Lock()
	proto, ok := p.modules[name]
	p.mu.Unlock()
	if ok {
		return proto, nil
	}
	src, err := appfs.ReadFile(p.opts.FS, name)
	if err != nil {
		return nil, err
	}
	proto, err = compileChunk(p.displayPath(name), src, p.opts.Limits, true, false)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.modules[name] = proto
	p.mu.Unlock()
	return proto, nil
}

// displayPath names a file of the app's folder in error messages, relative
// to the main chunk's directory so that it reads like a path on disk.
func (p *Program) displayPath(name string) string {
	return path.Join(path.Dir(p.chunk), name)
}

// errorPosition finds the first "file.lua:LINE" an error message names.
var errorPosition = regexp.MustCompile(`([^\s:'"()]+\.lua):(\d+)`)

// ErrorPosition returns the Lua file and line an error points at: the
// position of a syntax error, or the first "file.lua:LINE" of a Lua error
// message. ok is false when the error names none.
func ErrorPosition(err error) (file string, line int, ok bool) {
	var serr *SyntaxError
	if errors.As(err, &serr) && serr.Line > 0 {
		return serr.File, serr.Line, true
	}
	if err == nil {
		return "", 0, false
	}
	m := errorPosition.FindStringSubmatch(err.Error())
	if m == nil {
		return "", 0, false
	}
	line, convErr := strconv.Atoi(m[2])
	if convErr != nil {
		return "", 0, false
	}
	return m[1], line, true
}

// Loader opens a Go module for Lua: it pushes the module's value and
// returns 1, gopher-lua's LGFunction convention for PreloadModule.
//
// It is the one place where the project hands a gopher-lua type to Go
// programs on purpose: a module is Go code written for Lua, and gopher-lua's
// API (*lua.LState, lua.LValue) is what such code is written in, as with
// gopher-luar. Everything else a program sees of LSGI is plain Go.
type Loader = lua.LGFunction

// lineCount returns the number of the last line of src (1 for an empty
// file).
func lineCount(src []byte) int {
	n := bytes.Count(src, []byte("\n"))
	if len(src) > 0 && src[len(src)-1] != '\n' {
		n++
	}
	return max(n, 1)
}
