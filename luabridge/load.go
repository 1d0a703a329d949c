package luabridge

// This file is the one path from Lua source to a compiled chunk, and the
// Lua functions that load source (load, loadstring, and loadfile, dofile
// and require's file searcher as gopher-lua defines them for trusted
// apps). Every chunk is checked against [Limits] first, then parsed,
// rewritten (rewrite.go) and compiled. Chunks are named as Lua 5.1 names
// them (luaO_chunkid), so that errors read `[string "..."]:LINE: ...`.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"weak"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// compileChunk compiles src, named name in messages and tracebacks. A file
// whose first line starts with "#" (#!/usr/bin/env lua) has that line
// skipped, its line break kept so that line numbers do not move, as the
// lua command does; strings given to load are compiled as they are.
// luaMessages selects Lua 5.1's wording for syntax errors (for load and
// loadstring) over the file-oriented *SyntaxError.
func compileChunk(name string, src []byte, lim Limits, file, luaMessages bool) (proto *lua.FunctionProto, err error) {
	lim = lim.WithDefaults()
	if file && len(src) > 0 && src[0] == '#' {
		if i := bytes.IndexByte(src, '\n'); i >= 0 {
			src = src[i:]
		} else {
			src = nil
		}
	}
	// Too deep is checked first, as far as the size limit goes, so that
	// the error is Lua's own where Lua has one.
	localFunction, err := scanDepth(src[:min(int64(len(src)), lim.MaxSourceBytes+1)], lim)
	if err != nil {
		err.(*SourceLimitError).File = name
		return nil, err
	}
	if int64(len(src)) > lim.MaxSourceBytes {
		return nil, &SourceLimitError{File: name, Limit: "MaxSourceBytes", Value: lim.MaxSourceBytes, Got: int64(len(src))}
	}
	tree, err := parse.Parse(bytes.NewReader(src), name)
	if err != nil {
		return nil, syntaxError(name, src, err, luaMessages)
	}
	if tree, err = rewriteChunk(name, tree, localFunction); err != nil {
		return nil, err
	}
	defer func() {
		// gopher-lua's compiler panics on a few trees it does not expect;
		// none may take the host down.
		if r := recover(); r != nil {
			proto, err = nil, &SyntaxError{File: name, Line: 1, Message: fmt.Sprint("cannot compile: ", r)}
		}
	}()
	proto, err = lua.Compile(tree, name)
	if err != nil {
		var cerr *lua.CompileError
		if errors.As(err, &cerr) {
			return nil, &SyntaxError{File: name, Line: max(cerr.Line, 1), Message: cerr.Message}
		}
		return nil, &SyntaxError{File: name, Line: 1, Message: strings.TrimSpace(err.Error())}
	}
	return proto, nil
}

// syntaxError turns a parse error into a *SyntaxError: for files as the
// bridge has always reported them (with a column), for load and loadstring
// in Lua 5.1's words ("unexpected symbol near 'x'").
func syntaxError(name string, src []byte, err error, luaMessages bool) error {
	var perr *parse.Error
	if !errors.As(err, &perr) {
		return &SyntaxError{File: name, Line: 1, Message: strings.TrimSpace(err.Error())}
	}
	if !luaMessages {
		if perr.Pos.Line == parse.EOF {
			// The file ended too early: point at its last line.
			return &SyntaxError{File: name, Line: lineCount(src), Message: "unexpected end of file: " + perr.Message}
		}
		msg := perr.Message
		if perr.Token != "" {
			msg = fmt.Sprintf("near '%s': %s", perr.Token, perr.Message)
		}
		return &SyntaxError{File: name, Line: perr.Pos.Line, Column: perr.Pos.Column, Message: msg}
	}
	line, near := perr.Pos.Line, "'"+perr.Token+"'"
	if line == parse.EOF {
		// Lua counts the line the end of the text is on.
		line, near = bytes.Count(src, []byte("\n"))+1, "'<eof>'"
	}
	var msg string
	switch perr.Message {
	case "unterminated string":
		msg = "unfinished string"
	case "unterminated multiline string":
		msg, near = "unfinished long string", "'<eof>'"
	case "illegal hexadecimal number":
		msg = "malformed number"
	case "invalid multiline comment", "invalid multiline string":
		msg = "invalid long string delimiter"
	default: // "syntax error", "parse error", "Invalid token" and the like
		msg = "unexpected symbol"
	}
	return &SyntaxError{File: name, Line: line, Message: msg + " near " + near}
}

// Lua 5.1's bounds on chunk names: LUA_IDSIZE for names in tracebacks and
// runtime errors, MAXSRC (llex.c) for names in syntax errors.
const (
	idSize      = 60
	idSizeLexer = 80
)

// chunkID is Lua 5.1's luaO_chunkid: "=name" gives name, "@file" gives
// the file name (its end, when long), and any other source gives
// `[string "first line"]`, cut with "..." when long or multi-line. size
// is the buffer size of the C original, terminating NUL included.
func chunkID(source string, size int) string {
	switch {
	case strings.HasPrefix(source, "="):
		if s := source[1:]; len(s) >= size {
			return s[:size-1]
		}
		return source[1:]
	case strings.HasPrefix(source, "@"):
		s, room := source[1:], size-len(" '...' ")-1
		if len(s) > room {
			return "..." + s[len(s)-room:]
		}
		return s
	}
	room := size - len(` [string "..."] `) - 1
	n := strings.IndexAny(source, "\n\r")
	if n < 0 {
		n = len(source)
	}
	if n > room {
		n = room
	}
	if n < len(source) {
		return `[string "` + source[:n] + `..."]`
	}
	return `[string "` + source + `"]`
}

// chunkSources maps the functions load and loadstring compiled to the
// source Lua 5.1 keeps for them (debug.getinfo's source: the chunk name
// as given), their SourceName being the short name Lua shows in messages.
// The keys are weak: a chunk no longer used is collected, and its entry
// pruned as the map grows.
var chunkSources struct {
	sync.Mutex
	m     map[weak.Pointer[lua.FunctionProto]]string
	prune int // the size at which dead entries are next pruned
}

// recordChunkSource notes source for proto and the functions inside it.
func recordChunkSource(proto *lua.FunctionProto, source string) {
	chunkSources.Lock()
	defer chunkSources.Unlock()
	if chunkSources.m == nil {
		chunkSources.m, chunkSources.prune = map[weak.Pointer[lua.FunctionProto]]string{}, 1024
	}
	var add func(p *lua.FunctionProto)
	add = func(p *lua.FunctionProto) {
		chunkSources.m[weak.Make(p)] = source
		for _, sub := range p.FunctionPrototypes {
			add(sub)
		}
	}
	add(proto)
	if len(chunkSources.m) >= chunkSources.prune {
		for k := range chunkSources.m {
			if k.Value() == nil {
				delete(chunkSources.m, k)
			}
		}
		chunkSources.prune = max(1024, 2*len(chunkSources.m))
	}
}

// chunkSource returns the source Lua 5.1 gives a function compiled by load
// or loadstring ("=name", or the source text itself), which its
// SourceName, the name shown in messages, does not keep.
func chunkSource(proto *lua.FunctionProto) (string, bool) {
	chunkSources.Lock()
	defer chunkSources.Unlock()
	source, ok := chunkSources.m[weak.Make(proto)]
	return source, ok
}

// compileString compiles source given to load or loadstring under Lua's
// chunk name: it runs under chunkID(chunkname) and its syntax errors read
// "name:LINE: message".
func compileString(src []byte, chunkname string, lim Limits) (*lua.FunctionProto, error) {
	proto, err := compileChunk(chunkID(chunkname, idSize), src, lim, false, true)
	if err == nil {
		recordChunkSource(proto, chunkname)
	}
	var serr *SyntaxError
	if errors.As(err, &serr) {
		serr.File = chunkID(chunkname, idSizeLexer)
	}
	var lerr *SourceLimitError
	if errors.As(err, &lerr) {
		lerr.File = chunkID(chunkname, idSizeLexer)
	}
	return proto, err
}

// pushLoaded pushes the function compiled from proto, or nil and the error
// message, as load and loadstring return them.
func pushLoaded(L *lua.LState, proto *lua.FunctionProto, err error) int {
	if err != nil {
		L.Push(lua.LNil)
		L.Push(lua.LString(err.Error()))
		return 2
	}
	L.Push(L.NewFunctionFromProto(proto))
	return 1
}

// luaLoadstring is loadstring(s [, chunkname]).
func (e *engine) luaLoadstring(L *lua.LState) int {
	src := L.CheckString(1)
	chunkname := L.OptString(2, src)
	proto, err := compileString([]byte(src), chunkname, e.limits)
	return pushLoaded(L, proto, err)
}

// luaLoad is load(reader [, chunkname]): reader is called until it returns
// nil or an empty string, each call giving the next piece of the source.
func (e *engine) luaLoad(L *lua.LState) int {
	reader := L.CheckFunction(1)
	chunkname := L.OptString(2, "=(load)")
	var src []byte
	for {
		L.Push(reader)
		L.Call(0, 1)
		piece := L.Get(-1)
		L.Pop(1)
		if piece == lua.LNil {
			break
		}
		if !lua.LVCanConvToString(piece) {
			L.Error(lua.LString(levelWhere(L, 1)+"reader function must return a string"), 0)
		}
		s := lua.LVAsString(piece)
		if s == "" {
			break
		}
		if got := int64(len(src) + len(s)); got > e.limits.MaxSourceBytes {
			err := &SourceLimitError{File: chunkID(chunkname, idSizeLexer), Limit: "MaxSourceBytes",
				Value: e.limits.MaxSourceBytes, Got: got}
			return pushLoaded(L, nil, err)
		}
		src = append(src, s...)
	}
	proto, err := compileString(src, chunkname, e.limits)
	return pushLoaded(L, proto, err)
}

// readSourceFile reads a Lua file from disk for the trusted loaders,
// refusing one larger than the limit before reading it.
func readSourceFile(path string, lim Limits) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot open %s", path)
	}
	defer f.Close()
	src, err := io.ReadAll(io.LimitReader(f, lim.MaxSourceBytes+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read %s", path)
	}
	if int64(len(src)) > lim.MaxSourceBytes {
		return nil, &SourceLimitError{File: path, Limit: "MaxSourceBytes", Value: lim.MaxSourceBytes, Got: int64(len(src))}
	}
	return src, nil
}

// loadFile compiles the Lua file at path, named as Lua names files.
func (e *engine) loadFile(path string) (*lua.FunctionProto, error) {
	src, err := readSourceFile(path, e.limits)
	if err != nil {
		return nil, err
	}
	return compileChunk(chunkID("@"+path, idSize), src, e.limits, true, false)
}

// luaLoadfile is loadfile(filename) for trusted apps: the file system
// as the process sees it. Standard input is not offered (under CGI it is
// the request body).
func (e *engine) luaLoadfile(L *lua.LState) int {
	path := L.CheckString(1)
	proto, err := e.loadFile(path)
	return pushLoaded(L, proto, err)
}

// luaDofile is dofile(filename) for trusted apps.
func (e *engine) luaDofile(L *lua.LState) int {
	path := L.CheckString(1)
	proto, err := e.loadFile(path)
	if err != nil {
		L.Error(lua.LString(err.Error()), 0)
	}
	top := L.GetTop()
	L.Push(L.NewFunctionFromProto(proto))
	L.Call(0, lua.MultRet)
	return L.GetTop() - top
}

// luaSearchPath is require's searcher of package.path for trusted apps
// (Lua 5.1's loader_Lua): it tries each template with "?" replaced by the
// module name, dots made slashes, and returns the first file's chunk, or
// the list of files tried.
func (e *engine) luaSearchPath(L *lua.LState) int {
	name := L.CheckString(1)
	pkgPath, ok := L.GetField(L.GetGlobal(lua.LoadLibName), "path").(lua.LString)
	if !ok {
		L.RaiseError("'package.path' must be a string")
	}
	var tried strings.Builder
	file := strings.ReplaceAll(name, ".", "/")
	for _, template := range strings.Split(string(pkgPath), ";") {
		if template == "" {
			continue
		}
		path := strings.ReplaceAll(template, "?", file)
		if st, err := os.Stat(path); err != nil || st.IsDir() {
			tried.WriteString("\n\tno file '" + path + "'")
			continue
		}
		proto, err := e.loadFile(path)
		if err != nil {
			L.RaiseError("error loading module '%s' from file '%s':\n\t%s", name, path, err.Error())
		}
		L.Push(L.NewFunctionFromProto(proto))
		return 1
	}
	L.Push(lua.LString(tried.String()))
	return 1
}
