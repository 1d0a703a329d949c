package luabridge

// This file gives untrusted apps an io library that opens nothing: what
// they write to standard output or standard error goes to the host's log,
// tagged with the app, as print does; everything that would open a file, a
// process or standard input returns nil and a message naming --trust (or
// raises where Lua 5.1 raises). Libraries that only touch io.stdout or
// io.write at load time, such as Penlight, load unchanged. The os
// functions that could stop or inspect the host are replaced in every
// mode: os.exit raises, and os.getenv sees nothing without --trust.

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// stdStream is io.stdout or io.stderr in default mode: writes are logged
// one record per line, tagged with the app. The host's slog handlers quote
// control characters, so an app cannot forge log lines.
type stdStream struct {
	logger *slog.Logger
	app    string
	via    string
	level  slog.Level
	buf    []byte // a partial line waiting for its "\n"
}

func (w *stdStream) write(p string) {
	for p != "" {
		i := strings.IndexByte(p, '\n')
		if i < 0 {
			w.buf = append(w.buf, p...)
			if len(w.buf) >= maxErrorLine {
				w.flush()
			}
			return
		}
		w.buf = append(w.buf, p[:i]...)
		w.flushLine()
		p = p[i+1:]
	}
}

// flushLine logs the pending line, even when it is empty.
func (w *stdStream) flushLine() {
	w.logger.Log(context.Background(), w.level, string(w.buf), "app", w.app, "via", w.via)
	w.buf = w.buf[:0]
}

// flush logs a pending partial line, if any.
func (w *stdStream) flush() {
	if len(w.buf) > 0 {
		w.flushLine()
	}
}

// noTrust is the message of every io function that needs --trust.
func noTrust(what string) string {
	return what + " is not open to apps in default mode (run lsgi with --trust to open files, processes and standard input)"
}

const stdFileTypeName = "lsgi.stdfile"

// stdFile is the Value of io.stdin, io.stdout and io.stderr in default
// mode.
type stdFile struct {
	name string     // "stdin", "stdout" or "stderr"
	out  *stdStream // nil for stdin
}

// ioState is the default mode's io library of one state.
type ioState struct {
	s                  *stdlib
	stdin, out, errout *lua.LUserData
	output             *lua.LUserData // io.output(), where io.write goes
}

func (s *stdlib) installIO() {
	if s.trust {
		return // the real io library
	}
	L := s.L
	io := &ioState{s: s}
	mt := typeMetatable(L, stdFileTypeName, 2)
	methods := L.SetFuncs(L.CreateTable(0, 7), map[string]lua.LGFunction{
		"write":   io.fileWrite,
		"read":    io.fileRead,
		"lines":   io.fileLines,
		"close":   io.fileClose,
		"flush":   io.fileFlush,
		"seek":    io.fileSeek,
		"setvbuf": io.fileFlush,
	})
	mt.RawSetString("__index", methods)
	mt.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString(fmt.Sprintf("file (%p)", L.CheckUserData(1))))
		return 1
	}))
	newFile := func(name string, out *stdStream) *lua.LUserData {
		ud := L.NewUserData()
		ud.Value = &stdFile{name: name, out: out}
		ud.Metatable = mt
		return ud
	}
	io.stdin, io.out, io.errout = newFile("stdin", nil), newFile("stdout", s.stdout), newFile("stderr", s.stderr)
	io.output = io.out
	mod := s.module(lua.IoLibName)
	mod.RawSetString("stdin", io.stdin)
	mod.RawSetString("stdout", io.out)
	mod.RawSetString("stderr", io.errout)
	L.SetFuncs(mod, map[string]lua.LGFunction{
		"write":   io.ioWrite,
		"read":    io.ioRead,
		"lines":   io.ioLines,
		"open":    io.refuse("io.open"),
		"popen":   io.refuse("io.popen"),
		"tmpfile": io.refuse("io.tmpfile"),
		"input":   io.ioInput,
		"output":  io.ioOutput,
		"close":   io.ioClose,
		"flush":   io.ioFlush,
		"type":    io.ioType,
	})
}

// refuse returns an io function that returns nil and the --trust message,
// as io.open returns nil and a message when it cannot open a file.
func (io *ioState) refuse(what string) lua.LGFunction {
	return func(L *lua.LState) int {
		L.Push(lua.LNil)
		L.Push(lua.LString(noTrust(what)))
		return 2
	}
}

func (io *ioState) checkFile(L *lua.LState, n int) *stdFile {
	if ud, ok := L.Get(n).(*lua.LUserData); ok {
		if f, ok := ud.Value.(*stdFile); ok {
			return f
		}
	}
	typeError(L, n, "FILE*")
	return nil
}

// write writes arguments from first on to f: strings, and numbers in
// "%.14g", as Lua 5.1's g_write does.
func (io *ioState) write(L *lua.LState, f *stdFile, first int) int {
	if f.out == nil {
		L.Push(lua.LNil)
		L.Push(lua.LString("Bad file descriptor"))
		return 2
	}
	for i := first; i <= L.GetTop(); i++ {
		f.out.write(checkString(L, i))
	}
	L.Push(lua.LTrue)
	return 1
}

func (io *ioState) fileWrite(L *lua.LState) int { return io.write(L, io.checkFile(L, 1), 2) }

func (io *ioState) ioWrite(L *lua.LState) int {
	return io.write(L, io.output.Value.(*stdFile), 1)
}

func (io *ioState) fileRead(L *lua.LState) int {
	f := io.checkFile(L, 1)
	L.Push(lua.LNil)
	if f.out != nil {
		L.Push(lua.LString("Bad file descriptor"))
	} else {
		L.Push(lua.LString(noTrust("standard input")))
	}
	return 2
}

func (io *ioState) ioRead(L *lua.LState) int {
	L.Push(lua.LNil)
	L.Push(lua.LString(noTrust("io.read (standard input)")))
	return 2
}

func (io *ioState) fileLines(L *lua.LState) int {
	io.checkFile(L, 1)
	L.RaiseError("%s", noTrust("reading standard input"))
	return 0
}

// ioLines raises, as Lua 5.1's io.lines does when it cannot open its file.
func (io *ioState) ioLines(L *lua.LState) int {
	if L.GetTop() == 0 || L.Get(1) == lua.LNil {
		L.RaiseError("%s", noTrust("io.lines (standard input)"))
	}
	argError(L, 1, noTrust("io.lines"))
	return 0
}

func (io *ioState) fileClose(L *lua.LState) int {
	io.checkFile(L, 1)
	L.Push(lua.LNil)
	L.Push(lua.LString("cannot close standard file"))
	return 2
}

func (io *ioState) fileFlush(L *lua.LState) int {
	if f := io.checkFile(L, 1); f.out != nil {
		f.out.flush()
	}
	L.Push(lua.LTrue)
	return 1
}

func (io *ioState) fileSeek(L *lua.LState) int {
	io.checkFile(L, 1)
	L.Push(lua.LNil)
	L.Push(lua.LString("Illegal seek"))
	return 2
}

// ioInput and ioOutput accept the standard files; a file name raises, as
// Lua 5.1 does when it cannot open it.
func (io *ioState) ioInput(L *lua.LState) int {
	if isNoneOrNil(L, 1) {
		L.Push(io.stdin)
		return 1
	}
	if _, ok := L.Get(1).(lua.LString); ok {
		argError(L, 1, noTrust("io.input"))
	}
	io.checkFile(L, 1)
	L.Push(L.Get(1))
	return 1
}

func (io *ioState) ioOutput(L *lua.LState) int {
	if isNoneOrNil(L, 1) {
		L.Push(io.output)
		return 1
	}
	if _, ok := L.Get(1).(lua.LString); ok {
		argError(L, 1, noTrust("io.output"))
	}
	if io.checkFile(L, 1).out != nil {
		io.output = L.Get(1).(*lua.LUserData)
	}
	L.Push(io.output)
	return 1
}

func (io *ioState) ioClose(L *lua.LState) int {
	if !isNoneOrNil(L, 1) {
		io.checkFile(L, 1)
	}
	L.Push(lua.LNil)
	L.Push(lua.LString("cannot close standard file"))
	return 2
}

func (io *ioState) ioFlush(L *lua.LState) int {
	io.output.Value.(*stdFile).out.flush()
	L.Push(lua.LTrue)
	return 1
}

func (io *ioState) ioType(L *lua.LState) int {
	checkAny(L, 1)
	if ud, ok := L.Get(1).(*lua.LUserData); ok {
		if _, ok := ud.Value.(*stdFile); ok {
			L.Push(lua.LString("file"))
			return 1
		}
	}
	L.Push(lua.LNil)
	return 1
}

func (s *stdlib) installOS() {
	L := s.L
	full := s.module(lua.OsLibName)
	os := full
	if !s.trust {
		os = L.CreateTable(0, len(safeOS)+2)
		for _, name := range safeOS {
			os.RawSetString(name, full.RawGetString(name))
		}
		os.RawSetString("getenv", L.NewFunction(osGetenvNone))
		setLoaded(L, lua.OsLibName, os)
	}
	os.RawSetString("exit", L.NewFunction(osExit))
}

// osExit raises: the host serves other requests and other apps, and one of
// them must not be able to stop the process, with or without --trust.
func osExit(L *lua.LState) int {
	L.RaiseError("os.exit: an app cannot stop the host (other requests and apps are served by the same process); raise an error or return an error response instead")
	return 0
}

// osGetenvNone is os.getenv without --trust: the host's environment is not
// the app's business (settings come from lsgi.config), so every variable
// reads as unset.
func osGetenvNone(L *lua.LState) int {
	checkString(L, 1)
	L.Push(lua.LNil)
	return 1
}
